"""matrix.html in a real headless Chromium: the page of a real gate run loads with no console
error, shows matrix.json's counts, its area and verdict filters hide and show the right rows,
and a screenshot is written; a matrix of hostile strings runs no script of theirs."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from harness.report.browser import BrowserUnavailable, console_errors, headless_chromium
from harness.report.html import render_html, screenshot
from tests.conftest import harness
from tests.matrix_samples import HOSTILE, synthetic_matrix

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

# a failure (the mutant drops nosniff), passes, and an unanswered attestation: fast, no load run
MUTANT = "headers-no-nosniff"
SELECTED = ("SEC-HDR-NOSNIFF", "SEC-HDR-XFO", "SEC-HDR-CSP", "OPS-MAINT-ACCESS-LOGS-REVIEWED")


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    try:
        with headless_chromium() as driver:
            yield driver
    except BrowserUnavailable as exc:
        if os.environ.get("HARNESS_REQUIRE_BROWSER"):
            raise
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def gate_reports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report folder of a small real gate run against the embedded app."""
    workdir = tmp_path_factory.mktemp("matrix-html")
    reports = workdir / "reports"
    selection = [f"--requirement={rid}" for rid in SELECTED]
    run = harness("gate", f"--mutant={MUTANT}", f"--report-dir={reports}", *selection, cwd=workdir)
    assert run.returncode == 1, run.stdout + run.stderr  # the mutant's failure: FAIL
    return reports


def _open(driver: WebDriver, page: Path) -> None:
    driver.get(page.resolve().as_uri())
    driver.get_log("browser")  # type: ignore[no-untyped-call]  # drop an earlier page's log
    driver.refresh()


def _shown(driver: WebDriver) -> dict[str, str]:
    """The visible requirement rows: id -> verdict."""
    from selenium.webdriver.common.by import By

    rows = driver.find_elements(By.CSS_SELECTOR, "tbody.req")
    return {
        str(row.get_attribute("data-id")): str(row.get_attribute("data-verdict"))
        for row in rows
        if row.is_displayed()
    }


def _choose(driver: WebDriver, control: str, value: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.select import Select

    Select(driver.find_element(By.ID, control)).select_by_value(value)


def _counts(driver: WebDriver) -> dict[str, int]:
    from selenium.webdriver.common.by import By

    cells = driver.find_elements(By.CSS_SELECTOR, "#counts td[data-count]")
    return {str(c.get_attribute("data-count")): int(c.text) for c in cells}


def test_the_page_of_a_gate_run_shows_its_counts_and_filters(
    browser: WebDriver, gate_reports: Path
) -> None:
    from selenium.webdriver.common.by import By

    matrix: dict[str, Any] = json.loads((gate_reports / "matrix.json").read_text())
    page = gate_reports / "matrix.html"
    _open(browser, page)
    assert console_errors(browser) == []
    assert browser.find_element(By.ID, "headline").text == matrix["headline"] == "FAIL"
    assert _counts(browser) == matrix["summary"]
    judged = {e["id"]: e["verdict"] for e in matrix["requirements"] if e["verdict"] != "deselected"}
    assert judged["SEC-HDR-NOSNIFF"] == "failed"
    assert judged["SEC-HDR-XFO"] == "passed"
    assert _shown(browser) == judged  # the deselected rows are hidden until asked for
    assert browser.find_element(By.ID, "shown").text == str(len(judged))

    _choose(browser, "filter-verdict", "failed")
    assert _shown(browser) == {"SEC-HDR-NOSNIFF": "failed"}
    _choose(browser, "filter-verdict", "")
    _choose(browser, "filter-area", "security-headers")
    headers = {rid: v for rid, v in judged.items() if rid.startswith("SEC-HDR-")}
    assert _shown(browser) == headers
    assert len(headers) == 3
    _choose(browser, "filter-area", "")
    browser.find_element(By.ID, "filter-deselected").click()
    assert len(_shown(browser)) == matrix["summary"]["total"]
    assert console_errors(browser) == []

    png = screenshot(page, gate_reports / "matrix.png")
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert png.stat().st_size > 10_000


def test_hostile_strings_render_as_text_and_run_nothing(browser: WebDriver, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    matrix = synthetic_matrix()
    page = tmp_path / "matrix.html"
    page.write_text(render_html(matrix), encoding="utf-8")
    _open(browser, page)
    assert console_errors(browser) == []
    assert browser.execute_script("return window.pwned") is None
    assert browser.find_elements(By.TAG_NAME, "img") == []
    reason = browser.find_element(By.CSS_SELECTOR, "#req-SEC-HDR-NOSNIFF td.reason").text
    assert HOSTILE in reason
    assert _counts(browser) == matrix["summary"]

    _choose(browser, "filter-verdict", "scaled")
    assert _shown(browser) == {"LOAD-SCENARIO-BASELINE": "scaled"}
    label = browser.find_element(By.CSS_SELECTOR, "#req-LOAD-SCENARIO-BASELINE .verdict").text
    assert label == "passed (scaled)"
    _choose(browser, "filter-verdict", "")
    browser.find_element(By.ID, "filter-changed").click()
    assert set(_shown(browser)) == {"SEC-RL-DEFAULT-LIMIT", "SEC-HDR-XFO"}
    assert browser.find_element(By.ID, "shown").text == "2"
    assert console_errors(browser) == []
