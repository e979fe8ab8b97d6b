"""What the commands that run suites share: exit codes, one-line errors, pytest's options and
the reading of a finished run (its matrix, its summary, the exit code)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from harness.report.console import RunWatch

EXIT_PASS, EXIT_FAIL, EXIT_USAGE, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
EXIT_INCOMPLETE = 4


def fail(message: str, code: int = EXIT_USAGE) -> None:
    click.echo(f"harness: error: {message}", err=True)
    sys.exit(code)


def judge_run(code: int, run: RunWatch, report_dir: Path, log: Path | None, allow: bool) -> None:
    """What pytest's run means: the summary of its matrix and the gate's exit code."""
    if run.collection_errors:
        first = run.collection_errors[0]
        more = (
            f" (and {len(run.collection_errors) - 1} more)"
            if len(run.collection_errors) > 1
            else ""
        )
        fail(f"could not collect {first}{more}; see {log or 'the output above'}", EXIT_ERROR)
    if code in (2,):
        fail("interrupted; everything the harness started was stopped", EXIT_INTERRUPTED)
    if code == 3:
        fail(f"the run broke inside pytest; see {log or 'the output above'}", EXIT_ERROR)
    if code == 4:
        sys.exit(EXIT_USAGE)  # pytest said why on stderr, in one line
    matrix_path = report_dir / "matrix.json"
    if not matrix_path.is_file():
        fail(f"no checks ran, so no matrix was written to {matrix_path}", EXIT_ERROR)
    matrix = json.loads(matrix_path.read_text(encoding="utf-8"))
    from harness.report.summary import render_summary

    click.echo(render_summary(matrix, report_dir, log))
    if run.warnings:
        click.echo(f"warnings: {run.warnings}, listed in {log or 'the output above'}")
    headline = matrix["headline"]
    if headline == "INCOMPLETE":
        sys.exit(EXIT_PASS if allow else EXIT_INCOMPLETE)
    sys.exit(EXIT_FAIL if headline == "FAIL" else EXIT_PASS)


def run_args(rootdir: Path, verbose: bool) -> list[str]:
    """The pytest options every command that runs suites uses."""
    from harness.report.console import ANYIO_REWRITE

    return [
        "-p",
        "no:locust",
        "-p",
        "no:cacheprovider",
        # the gate's own reachability check imports anyio (through httpx) before pytest
        # starts, so pytest cannot rewrite the anyio plugin's asserts; nothing here needs that
        "-W",
        f"ignore:{ANYIO_REWRITE}:pytest.PytestAssertRewriteWarning",
        # the console shows pytest's normal output with -v; the log keeps everything
        *(["--tb=short"] if verbose else ["-v", "--tb=long", "--color=no"]),
        f"--rootdir={rootdir}",
    ]
