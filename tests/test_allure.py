"""Allure results and JUnit XML as a pytest user meets them (pytester, no server): labels from
the catalogue, several requirements on one check, the redaction net under what allure-pytest
writes itself, categories that sort Allure's statuses, requirement ids in JUnit XML."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from harness.report.allure import labels_for, plots_in, severity_of
from harness.report.allure_results import CATEGORIES, environment
from harness.spec import load_catalogue
from tests.conftest import clean_env

SECRET = "Planted-secret-0123456789"
SUITE = f"""
import allure
import pytest

@pytest.mark.requirement("SEC-HDR-XFO", "MON-HEALTH-001")
def test_two_requirements(evidence, params):
    params["health_path"]
    evidence.note("seen", {{"x-frame-options": "DENY"}})

@pytest.mark.requirement("MON-HEALTH-002")
def test_leaks_in_its_own_words():
    # what allure-pytest takes straight from the exception and from an attachment
    allure.attach("Authorization: Bearer abcdefghijklmnop0123456789", name="raw")
    allure.attach("the password is {SECRET}", name="said")
    assert False, "signed in with {SECRET}"

@pytest.mark.requirement("MON-HEALTH-003")
def test_skips():
    pytest.skip("needs stack control (stopping and starting services)")

@pytest.mark.requirement("SEC-HDR-XXSS")
def test_unexpected_answer():
    from harness.errors import UnexpectedAnswer

    raise UnexpectedAnswer("GET /health", "a JSON object", "text/html (200)")
"""


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The suite run as a user runs pytest, under two xdist workers, with Allure results and
    JUnit XML (a child process: allure-commons registers its writers process-wide)."""
    folder = tmp_path_factory.mktemp("allure-suite")
    (folder / "test_suite.py").write_text(SUITE)
    subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "test_suite.py", "-p", "no:cacheprovider"),
            *("-p", "no:locust", "-n", "2", "--alluredir=allure-results", "--clean-alluredir"),
            *("--junitxml=junit.xml", f"--param=login_password={SECRET}", "-q"),
        ],
        cwd=folder,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return folder


def allure_results(folder: Path) -> dict[str, dict[str, Any]]:
    """Test name -> its Allure result, from ``folder/allure-results``."""
    found = {}
    for path in (folder / "allure-results").glob("*-result.json"):
        data = json.loads(path.read_text())
        found[data["name"]] = data
    return found


def junit_requirements(path: Path) -> dict[str, list[str]]:
    """Test name -> the requirement properties of its JUnit test case."""
    root = ET.parse(path).getroot()
    return {
        str(case.get("name")): sorted(
            p.get("value", "") for p in case.iter("property") if p.get("name") == "requirement"
        )
        for case in root.iter("testcase")
    }


def _labels(result: dict[str, Any], name: str) -> list[str]:
    return sorted(label["value"] for label in result["labels"] if label["name"] == name)


def test_a_check_of_two_requirements_carries_both(written: Path) -> None:
    result = allure_results(written)["test_two_requirements"]
    catalogue = load_catalogue()
    xfo, health = catalogue["SEC-HDR-XFO"], catalogue["MON-HEALTH-001"]
    assert _labels(result, "requirement") == ["MON-HEALTH-001", "SEC-HDR-XFO"]
    assert _labels(result, "story") == ["MON-HEALTH-001", "SEC-HDR-XFO"]
    assert _labels(result, "epic") == sorted([xfo.area, health.area])
    assert _labels(result, "feature") == sorted({xfo.section, health.section})
    assert _labels(result, "severity") == ["critical"]  # the graver of the two
    assert {"name": "health_path", "value": "'/health'"} in result["parameters"]
    evidence = next(a for a in result["attachments"] if a["name"] == "evidence")
    body = json.loads((written / "allure-results" / evidence["source"]).read_text())
    assert body == [{"kind": "note", "label": "seen", "value": {"x-frame-options": "DENY"}}]


def test_nothing_secret_reaches_the_results_or_junit(written: Path) -> None:
    result = allure_results(written)["test_leaks_in_its_own_words"]
    assert result["status"] == "failed"
    assert "signed in with [redacted]" in result["statusDetails"]["message"]
    files = [p for p in written.rglob("*") if p.is_file() and p.suffix != ".py"]
    attached = [p.read_text() for p in files if "-attachment." in p.name]
    assert "the password is [redacted]" in attached
    assert "Authorization: Bearer [redacted]" in attached
    for path in files:
        text = path.read_text(errors="replace")
        assert SECRET not in text, path
        assert "abcdefghijklmnop0123456789" not in text, path


def test_categories_sort_each_status_by_cause(written: Path) -> None:
    results = written / "allure-results"
    categories = json.loads((results / "categories.json").read_text())
    assert categories == CATEGORIES

    def category(status: str, message: str) -> str:
        for entry in categories:
            regex = entry.get("messageRegex")
            if status in entry["matchedStatuses"] and (
                regex is None or re.fullmatch(regex, message)
            ):
                return str(entry["name"])
        return "none"

    found = allure_results(written)
    skipped = found["test_skips"]
    assert skipped["status"] == "skipped"
    assert category("skipped", skipped["statusDetails"]["message"]).endswith(
        "needs stack control or containers"
    )
    broken = found["test_unexpected_answer"]
    assert broken["status"] == "broken"
    assert "answer the check cannot judge" in category("broken", broken["statusDetails"]["message"])
    assert category("broken", "KeyError: 'id'") == "Error: a crash or a fixture error"
    assert category("skipped", "Skipped: blocked by SEC-HDR-CSP: failed").endswith("requirement")
    assert category("failed", "AssertionError: x").startswith("Failed")
    env = (results / "environment.properties").read_text()
    assert "harness.version=" in env
    assert "profile=production" in env


def test_junit_names_the_requirements_of_each_case(written: Path) -> None:
    named = junit_requirements(written / "junit.xml")
    assert named["test_two_requirements"] == ["MON-HEALTH-001", "SEC-HDR-XFO"]
    assert named["test_skips"] == ["MON-HEALTH-003"]
    root = ET.parse(written / "junit.xml").getroot()
    names = {p.get("name") for p in root.iter("property")}
    assert names == {"requirement"}  # the matrix's record stays out of the XML


def test_labels_and_severity_follow_the_catalogue() -> None:
    catalogue = load_catalogue()
    doc = next(r for r in catalogue if r.area == "documentation")
    load = next(r for r in catalogue if r.area == "load")
    assert severity_of(doc) == "minor"
    assert severity_of(load) == "normal"
    assert ("severity", "normal") in labels_for([doc, load])
    assert labels_for([]) == []


def test_environment_without_credentials_in_the_target_url() -> None:
    matrix = {
        "profile": "production",
        "headline": "PASS",
        "targets": [{"kind": "url", "url": "https://ops:hunter2-secret@example.test:8443/"}],
        "requirements": [
            {"evidence": [{"kind": "http", "body": '{"status": "healthy", "version": "2.4.1"}'}]}
        ],
    }
    env = environment(matrix)
    assert env["target"] == "https://[redacted]@example.test:8443/"
    assert env["app.version"] == "2.4.1"
    assert environment(None).keys() == {"harness.version"}


def test_only_existing_plots_are_attached(tmp_path: Path) -> None:
    plot = tmp_path / "load_baseline.png"
    plot.write_bytes(b"\x89PNG")
    notes: list[dict[str, Any]] = [
        {"kind": "note", "label": "reports", "value": {"plot": str(plot), "html": "x.html"}},
        {"kind": "note", "label": "gone", "value": str(tmp_path / "missing.png")},
    ]
    assert plots_in(notes) == [plot]
