"""The Compose runtime checks (suites/test_compose_runtime.py) as a user runs them: the
reference repository passes every one on a throwaway Compose project, and each Compose mutant
fails the requirements it breaks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reference_app.project_mutants import PROJECT, write_project_mutant
from reference_app.project_mutants_compose import COMPOSE_MUTANTS
from tests.conftest import SuiteRun
from tests.verdicts import assert_killed

RUNTIME_IDS = (
    "DEP-COMPOSE-UP",
    "DEP-COMPOSE-POSTGRES",
    "OPS-MAINT-HEALTH",
    "DEP-COMPOSE-MLFLOW",
    "DEP-COMPOSE-GRAFANA",
    "DEP-COMPOSE-LOGS",
    "DEP-MIGRATE",
    "OPS-PG-DUMP",
    "OPS-BACKUP-SCRIPT",
    "OPS-MAINT-BACKUP-VERIFY",
    "DEP-COMPOSE-REDIS",
    "OPS-TS-DB-CONNECT",
    "DEP-COMPOSE-DOWN",
    "DEP-COMPOSE-REBUILD",
    "OPS-TS-START-ERRORS",
)


ROLES = ("db", "redis", "mlflow", "backend", "frontend", "prometheus", "grafana")


def _evidence(run: SuiteRun, rid: str) -> dict[str, Any]:
    return {note["label"]: note["value"] for note in run.entry(rid)["evidence"]}


def test_the_reference_repository_passes_every_compose_runtime_check(
    drill_suite: Callable[..., SuiteRun],
) -> None:
    run = drill_suite(PROJECT, *RUNTIME_IDS)
    verdicts = {rid: run.verdict(rid) for rid in RUNTIME_IDS}
    assert set(verdicts.values()) == {"passed"}, f"{verdicts}\n{run.output[-6000:]}"
    up = _evidence(run, "DEP-COMPOSE-UP")
    # the evidence says what did not run here and what stood in for the rest
    # every service ran here: MLflow and Grafana as stand-ins that say so
    assert up["not started: left out by profiles"] == {}
    replaced = up["local stand-ins from docker-compose.local.yml"]
    assert set(replaced) == set(ROLES), replaced
    for name in ("mlflow", "grafana"):
        assert "stand-in: " in replaced[name], replaced
    assert "stand-in" not in replaced["backend"], replaced
    dump = _evidence(run, "OPS-PG-DUMP")["manual backup"]
    assert dump["command"] == "docker compose exec db pg_dump -U postgres formulas > backup.sql"


def test_every_compose_runtime_requirement_has_a_mutant() -> None:
    broken = {rid for mutant in COMPOSE_MUTANTS.values() for rid in mutant.breaks}
    assert broken == set(RUNTIME_IDS)


@pytest.mark.parametrize("name", sorted(COMPOSE_MUTANTS))
def test_compose_mutant_fails_its_requirements(
    name: str, tmp_path: Path, drill_suite: Callable[..., SuiteRun]
) -> None:
    mutant = write_project_mutant(name, tmp_path / "repo")
    run = drill_suite(tmp_path / "repo", *mutant.breaks)
    assert_killed(run, name, mutant.description, mutant.breaks)
