"""``harness report``: what the last gate run wrote, read back: the matrix headline and counts,
the Allure HTML report built from its results, a screenshot of the matrix page."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from harness.cli_run import fail
from harness.errors import HarnessError


def _size(size_bytes: int) -> str:
    if size_bytes >= 1024 * 1024:
        return f"{size_bytes / (1024 * 1024):.1f} MB"
    return f"{size_bytes / 1024:.0f} KB"


def _matrix(report_dir: Path) -> dict[str, Any]:
    path = report_dir / "matrix.json"
    if not path.is_file():
        fail(f"no matrix.json in {report_dir}; run `harness gate` first (or pass --report-dir)")
    try:
        matrix = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        matrix = None
    if not isinstance(matrix, dict) or not {"headline", "summary"} <= matrix.keys():
        fail(f"{path} is not a matrix written by `harness gate`")
    result: dict[str, Any] = matrix
    return result


def _allure(report_dir: Path, wanted: bool | None) -> None:
    """Build REPORT_DIR/allure/. Asked for with --allure, a failure is an error (exit 2);
    by default it is one line and the command goes on."""
    from harness.report.allure_build import AllureUnavailable, build_allure_report

    results = report_dir / "allure-results"
    try:
        build = build_allure_report(
            results, report_dir / "allure", lambda line: click.echo(line, err=True)
        )
    except AllureUnavailable as exc:
        if wanted:
            fail(str(exc))
        click.echo(f"Allure report not built: {exc}", err=True)
        return
    click.echo(
        f"Allure report: {build.index} ({_size(build.size_bytes)}, built in {build.seconds:.1f} s)"
    )


def _screenshot(report_dir: Path) -> None:
    page = report_dir / "matrix.html"
    if not page.is_file():
        fail(f"no matrix.html in {report_dir}; run `harness gate` first")
    from harness.report.html import screenshot

    try:
        png = screenshot(page, report_dir / "matrix.png")
    except HarnessError as exc:  # BrowserUnavailable: no Chromium or chromedriver
        fail(str(exc))
    click.echo(f"screenshot of the matrix page: {png}")


@click.command()
@click.option(
    "--report-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("reports"),
    show_default=True,
    help="The folder `harness gate` wrote.",
)
@click.option(
    "--allure/--no-allure",
    default=None,
    help="Build the Allure HTML report (needs Node.js; default: when results exist, and a "
    "missing Node is one line, not an error).",
)
@click.option("--screenshot", is_flag=True, help="Also save REPORT_DIR/matrix.png.")
def report(report_dir: Path, allure: bool | None, screenshot: bool) -> None:
    """Show the last run's verdict and build the reports people read: REPORT_DIR/allure/
    (Allure 3 from npm, installed on first use into $HARNESS_ALLURE_HOME) and, with
    --screenshot, a picture of the matrix page. Exit 0, or 2 when a report asked for with
    --allure or --screenshot cannot be made."""
    from harness.report.verdicts import counts_line

    matrix = _matrix(report_dir)
    click.echo(f"compliance matrix: {matrix['headline']}")
    click.echo(f"  {counts_line(matrix['summary'])} requirements ({report_dir / 'matrix.json'})")
    history = matrix.get("history")
    if isinstance(history, dict):
        from harness.report.history import trend_lines

        for line in trend_lines(history):
            click.echo(line)
    has_results = any((report_dir / "allure-results").glob("*-result.json"))
    if allure or (allure is None and has_results):
        _allure(report_dir, allure)
    elif allure is None:
        click.echo(f"no Allure results in {report_dir / 'allure-results'}", err=True)
    if screenshot:
        _screenshot(report_dir)
