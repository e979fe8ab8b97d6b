"""The deploy drills (suites/test_deploy.py) as a user runs them: the reference repository's
deploy script passes every one with no acknowledged write lost, and each deploy mutant fails
the requirement it breaks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reference_app.project_mutants import PROJECT, write_project_mutant
from reference_app.project_mutants_deploy import DEPLOY_MUTANTS
from tests.conftest import SuiteRun
from tests.stacks.stack_helpers import DRILL_IDS
from tests.verdicts import assert_killed


def _drill_notes(run: SuiteRun) -> dict[str, dict[str, Any]]:
    notes: dict[str, dict[str, Any]] = {}
    for rid in DRILL_IDS:
        for note in run.entry(rid)["evidence"]:
            if str(note["label"]).startswith("drill "):
                notes[note["label"].removeprefix("drill ")] = note["value"]
    return notes


def test_the_reference_deploy_script_passes_every_drill_and_loses_no_write(
    drill_suite: Callable[..., SuiteRun],
) -> None:
    run = drill_suite(PROJECT, *DRILL_IDS)
    verdicts = {rid: run.verdict(rid) for rid in DRILL_IDS}
    assert set(verdicts.values()) == {"passed"}, f"{verdicts}\n{run.output[-6000:]}"
    notes = _drill_notes(run)
    # a writer posted through the frontend during each of the five drills after v1
    for label in ("v2", "v3", "v4", "v5", "v6"):
        writes = notes[label]["writes"]
        assert writes["lost_count"] == 0, (label, writes)
        assert writes["acknowledged"] > 0, (label, writes)
    for label in ("v3", "v4", "v5"):
        assert notes[label]["exit"] == 1, notes[label]
    assert "deploy drill v6: exit 0" in run.output


def test_the_reference_quick_start_starts_from_the_example_settings(
    drill_suite: Callable[..., SuiteRun],
) -> None:
    run = drill_suite(PROJECT, "DEP-DEV-START", "DEP-CREATE-ADMIN")
    verdicts = {rid: run.verdict(rid) for rid in ("DEP-DEV-START", "DEP-CREATE-ADMIN")}
    assert set(verdicts.values()) == {"passed"}, f"{verdicts}\n{run.output[-4000:]}"


@pytest.mark.parametrize("name", sorted(DEPLOY_MUTANTS))
def test_deploy_mutant_fails_its_requirement(
    name: str, tmp_path: Path, drill_suite: Callable[..., SuiteRun]
) -> None:
    mutant = write_project_mutant(name, tmp_path / "repo")
    run = drill_suite(tmp_path / "repo", *mutant.breaks)
    assert_killed(run, name, mutant.description, mutant.breaks)
