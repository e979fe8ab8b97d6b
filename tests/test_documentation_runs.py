"""The documentation checks in a run: mkdocs builds, serves and deploys without writing into the
repository, and a theme or plugin missing beside the harness is an ``error`` in one line.
(That the reference docs pass all DOC- requirements and each docs mutant fails its own is
proven with the other repository checks: tests/test_repository.py.)"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path

from reference_app.project_mutants import PROJECT
from tests.conftest import SuiteRun

MKDOCS_RUNS = ("DOC-BUILD", "DOC-SERVE", "DOC-DEPLOY-GITHUB-PAGES", "DOC-DEPLOY-STATIC")


def _snapshot(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def _select(*ids: str) -> list[str]:
    return [f"--requirement={rid}" for rid in ids]


def test_mkdocs_runs_leave_the_repository_as_it_was(
    tmp_path: Path, run_suites: Callable[..., SuiteRun]
) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(PROJECT / "docs", repo / "docs")
    before = _snapshot(repo)
    run = run_suites(f"--project-root={repo}", *_select(*MKDOCS_RUNS))
    assert {rid: run.verdict(rid) for rid in MKDOCS_RUNS} == dict.fromkeys(MKDOCS_RUNS, "passed"), (
        run.output
    )
    assert _snapshot(repo) == before  # no site/, no .git, no gh-pages branch in it


def test_a_plugin_missing_beside_the_harness_is_an_error_in_one_line(
    tmp_path: Path, run_suites: Callable[..., SuiteRun]
) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(PROJECT / "docs", repo / "docs")
    config = repo / "docs/mkdocs.yml"
    config.write_text(config.read_text() + "plugins:\n  - not-installed-anywhere\n")
    run = run_suites(f"--project-root={repo}", *_select("DOC-BUILD", "DOC-SERVE"))
    for rid in ("DOC-BUILD", "DOC-SERVE"):
        entry = run.entry(rid)
        assert entry["verdict"] == "error", (rid, entry, run.output)
        message = entry["checks"][0]["message"]
        assert "\n" not in message, message
        assert "Traceback" not in message, message
        assert 'The "not-installed-anywhere" plugin is not installed' in message, message
