"""Allure after a real (small) gate run under two xdist workers: every check is in
allure-results with its catalogue labels and evidence, the planted password nowhere, JUnit XML
names the requirements, and ``harness report`` builds reports/allure/index.html, which a
headless Chromium opens to find one test case per check with its requirement label."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from http.server import SimpleHTTPRequestHandler
from pathlib import Path
from typing import Any, Literal

import pytest

from harness.report.browser import BrowserUnavailable, console_errors, headless_chromium
from tests.conftest import HARNESS, clean_env, harness, loopback_servers
from tests.test_allure import allure_results, junit_requirements

PASSWORD = "Planted-allure-0123456789abcdef"
# a failing check (the mutant), one that signs in with the planted password, one with HTTP
# evidence, the health answer (the app's version), a repository check that skips
SELECTED = ("CFG-2FA", "CFG-LOGIN-ATTEMPTS", "SEC-HDR-HSTS", "MON-HEALTH-001", "DEP-ENV-EXAMPLE")
REPORT_LINE = re.compile(r"Allure report: (\S+index\.html) \((\d+(?:\.\d)?) (MB|KB), built in")


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("allure-gate")
    run = harness(
        "gate",
        "--mutant=totp-replay",
        f"--report-dir={workdir / 'reports'}",
        f"--param=login_password={PASSWORD}",
        *(f"--requirement={rid}" for rid in SELECTED),
        "-n",
        "2",
        cwd=workdir,
        timeout=600,
    )
    assert run.returncode == 1, run.stdout + run.stderr  # CFG-2FA fails on the mutant
    return workdir / "reports"


def _checks(report_dir: Path) -> dict[str, list[str]]:
    """Test name -> requirement ids, from matrix.json."""
    matrix = json.loads((report_dir / "matrix.json").read_text())
    names: dict[str, list[str]] = {}
    for entry in matrix["requirements"]:
        for check in entry["checks"]:
            names.setdefault(check["nodeid"].rsplit("::", 1)[-1], []).append(entry["id"])
    return {name: sorted(ids) for name, ids in names.items()}


def test_every_check_is_in_allure_results_with_its_labels(report_dir: Path) -> None:
    checks = _checks(report_dir)
    results = allure_results(report_dir)
    assert sorted(results) == sorted(checks)
    for name, result in results.items():
        labels = {(label["name"], label["value"]) for label in result["labels"]}
        for rid in checks[name]:
            assert {("requirement", rid), ("story", rid)} <= labels, name
        assert {n for n, _ in labels} >= {"epic", "feature", "severity"}, name
    failed = results["test_totp_is_enforced_and_not_replayable"]
    assert failed["status"] == "failed"
    attached = {a["name"]: a for a in failed["attachments"]}
    assert {"evidence", "HTTP exchanges"} <= attached.keys()
    exchange = (report_dir / "allure-results" / attached["HTTP exchanges"]["source"]).read_text()
    assert "POST " in exchange
    assert "HTTP 200" in exchange
    signed_in = results["test_exact_number_of_attempts"]
    assert {"name": "login_password", "value": "[redacted]"} in signed_in["parameters"]
    env = (report_dir / "allure-results" / "environment.properties").read_text()
    assert "app.version=1.0.0" in env
    assert "target.kind=embedded" in env
    assert (report_dir / "allure-results" / "categories.json").is_file()


def test_the_planted_password_is_masked_in_allure_results_and_junit(report_dir: Path) -> None:
    files = [report_dir / "junit.xml", *(report_dir / "allure-results").iterdir()]
    seen = "".join(path.read_text(errors="replace") for path in files)
    assert "[redacted]" in seen  # it was used, and masked
    assert PASSWORD not in seen


def test_junit_carries_the_requirement_ids(report_dir: Path) -> None:
    checks = _checks(report_dir)
    named = junit_requirements(report_dir / "junit.xml")
    assert named == checks


def _node_or_skip() -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Allure 3 needs Node.js and npm on PATH")


class _Folder(SimpleHTTPRequestHandler):
    """Serves the report folder: Allure's page loads its data with fetch, which file:// refuses."""

    folder = "."

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, directory=self.folder, **kwargs)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _expand_tree(driver: Any) -> None:
    from selenium.webdriver.common.by import By

    for _ in range(50):  # each click may render deeper sections
        closed = [
            arrow
            for arrow in driver.find_elements(By.CSS_SELECTOR, '[data-testid="tree-arrow"]')
            if "opened" not in (arrow.find_element(By.TAG_NAME, "svg").get_attribute("class") or "")
        ]
        if not closed:
            return
        closed[0].click()


def _requirement_labels(driver: Any) -> list[str]:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def labels(_: Any) -> list[str] | Literal[False]:
        found = []
        for item in driver.find_elements(By.CSS_SELECTOR, '[data-testid="metadata-item"]'):
            key = item.find_elements(By.CSS_SELECTOR, '[data-testid="metadata-item-key"]')
            if key and key[0].text == "requirement":
                value = item.find_element(By.CSS_SELECTOR, '[data-testid="metadata-item-value"]')
                found.append(value.text.strip())
        return sorted(found) or False

    result: list[str] = WebDriverWait(driver, 20).until(labels)
    return result


def test_harness_report_builds_allure_and_a_browser_finds_every_check(report_dir: Path) -> None:
    _node_or_skip()
    run = harness("report", f"--report-dir={report_dir}", cwd=report_dir.parent, timeout=900)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "compliance matrix: FAIL" in run.stdout
    found = REPORT_LINE.search(run.stdout)
    assert found is not None, run.stdout
    index = report_dir / "allure" / "index.html"
    assert Path(found.group(1)) == index
    assert "googletagmanager" not in index.read_text()  # the page calls no third party
    checks = _checks(report_dir)
    _Folder.folder = str(index.parent)
    try:
        with headless_chromium() as driver, loopback_servers() as start:
            from selenium.webdriver.common.by import By
            from selenium.webdriver.support.ui import WebDriverWait

            url = start(_Folder) + "/index.html"
            seen: dict[str, list[str]] = {}
            for _ in range(len(checks) + 1):
                driver.get(url)
                WebDriverWait(driver, 30).until(
                    lambda d: d.find_elements(By.CSS_SELECTOR, '[data-testid="tree-section"]')
                )
                _expand_tree(driver)
                leaves = driver.find_elements(By.CSS_SELECTOR, '[data-testid="tree-leaf-title"]')
                assert len(leaves) == len(checks), [leaf.text for leaf in leaves]
                pending = [leaf for leaf in leaves if leaf.text not in seen]
                if not pending:
                    break
                name = pending[0].text
                pending[0].click()
                seen[name] = _requirement_labels(driver)
            assert seen == checks
            # the page asks for optional files of its own (a 404 is its way to learn there is
            # none); nothing else may go wrong, and nothing may be fetched from elsewhere
            base = url.removesuffix("/index.html")
            errors = console_errors(driver)
            assert all(e.startswith(base) and "404" in e for e in errors), errors
    except BrowserUnavailable as exc:
        if os.environ.get("HARNESS_REQUIRE_BROWSER"):
            raise
        pytest.skip(str(exc))


def test_without_node_the_report_says_so_in_one_line(report_dir: Path, tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    env = clean_env() | {"PATH": str(empty), "HARNESS_ALLURE_HOME": str(tmp_path / "allure")}

    def report(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*HARNESS, "report", f"--report-dir={report_dir}", *extra],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    quiet = report()
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr.strip().splitlines() == [
        "Allure report not built: Allure 3 needs Node.js and npm, and npm is not on PATH: install"
        " them (apt-get install nodejs npm) or leave the HTML report out with --no-allure"
    ]
    wanted = report("--allure")
    assert wanted.returncode == 2
    assert len(wanted.stderr.strip().splitlines()) == 1
    assert wanted.stderr.startswith("harness: error: Allure 3 needs Node.js and npm")
    skipped = report("--no-allure")
    assert skipped.returncode == 0
    assert skipped.stderr == ""
    assert not (tmp_path / "allure").exists()
