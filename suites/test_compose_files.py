"""Deployment Automation > Docker Compose, read as the repository's file (``--project-root``):
the Compose file as Docker Compose v2 itself resolves it (harness/stacks/compose.py)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness.probes.compose_services import (
    check_backend,
    check_frontend,
    check_mlflow,
    check_postgres,
    check_prometheus,
    check_redis,
)
from harness.probes.grafana import check_grafana
from harness.probes.repo_findings import RepoFinding, judge
from harness.report.evidence import Evidence
from harness.stacks.compose import ComposeConfigError, ComposeUnavailable, compose_config
from harness.targets.project import Project

requirement = pytest.mark.requirement

# one `docker compose config` per repository, file and environment file serves every check
_RESOLVED: dict[tuple[Path, str, str], tuple[dict[str, object], Path | None]] = {}


def _resolved(project: Project, params: dict[str, Any]) -> tuple[dict[str, object], Path | None]:
    """The Compose file as Compose v2 resolves it, and the environment file it was
    interpolated from; skips without Compose v2, fails when Compose refuses the file."""
    compose_file = project.file(params["compose_file"], "compose_file")
    example = project.path(params["env_example"])
    # the example's placeholders stand in for the secrets a real .env holds; without it the
    # file is judged uninterpolated
    env_file = example if example.is_file() else None
    key = (project.root, params["compose_file"], params["env_example"])
    if key not in _RESOLVED:
        try:
            _RESOLVED[key] = (compose_config(project.root, compose_file, env_file), env_file)
        except ComposeUnavailable as exc:
            pytest.skip(str(exc))
        except ComposeConfigError as exc:
            pytest.fail(f"docker compose config refuses {params['compose_file']}: {exc}")
    return _RESOLVED[key]


@requirement("DEP-COMPOSE-VALID")
def test_compose_file_validates_and_defines_the_services(
    project: Project, params: dict[str, Any], evidence: Evidence
) -> None:
    resolved, env_file = _resolved(project, params)
    services = resolved.get("services")
    assert isinstance(services, dict), f"{params['compose_file']} defines no services"
    evidence.note("services", sorted(services))
    evidence.note("interpolated from", params["env_example"] if env_file else "nothing")
    missing = [name for name in params["compose_services"] if name not in services]
    assert not missing, (
        f"{params['compose_file']} has no service {', '.join(missing)} "
        "(the parameter compose_services names them when yours are called otherwise)"
    )


# ---------------------------------------------------------------- the services, one by one
# compose_services names them in the spec's order
_DB, _REDIS, _MLFLOW, _BACKEND, _FRONTEND, _PROMETHEUS, _GRAFANA = range(7)


def _service(project: Project, params: dict[str, Any], index: int) -> tuple[str, Any]:
    """The name and resolved model of one of the seven services."""
    services = _resolved(project, params)[0].get("services")
    name = params["compose_services"][index]
    assert isinstance(services, dict), f"{params['compose_file']} defines no services"
    assert name in services, (
        f"{params['compose_file']} has no service {name} "
        "(the parameter compose_services names them when yours are called otherwise)"
    )
    return name, services[name]


def _prometheus_config(project: Project, params: dict[str, Any]) -> Path:
    # the path as the Compose file names it, links not followed: a repository may keep the
    # file elsewhere and link it, and the bind mount names the link
    config = Path(os.path.normpath(project.root / params["prometheus_config"]))
    if project.root not in config.parents or not config.is_file():
        project.file(params["prometheus_config"], "prometheus_config")  # fails with the fix
    return config


# (requirement, the service's index in compose_services, its judgement: name, service, ...)
_Judgement = Callable[[str, Any, Project, dict[str, Any]], RepoFinding]
_SERVICE_CHECKS: tuple[tuple[str, int, _Judgement], ...] = (
    ("DEP-COMPOSE-POSTGRES", _DB, lambda name, db, _, p: check_postgres(name, db)),
    ("DEP-COMPOSE-REDIS", _REDIS, lambda name, redis, _, p: check_redis(name, redis)),
    (
        "DEP-COMPOSE-BACKEND",
        _BACKEND,
        lambda name, backend, _, p: check_backend(
            name, backend, p["compose_services"][_DB], p["compose_services"][_REDIS]
        ),
    ),
    (
        "DEP-COMPOSE-FRONTEND",
        _FRONTEND,
        lambda name, frontend, _, p: check_frontend(
            name, frontend, p["compose_services"][_BACKEND]
        ),
    ),
    (
        "DEP-COMPOSE-PROMETHEUS",
        _PROMETHEUS,
        lambda name, prometheus, project, p: check_prometheus(
            name, prometheus, _prometheus_config(project, p)
        ),
    ),
    (
        "DEP-COMPOSE-GRAFANA",
        _GRAFANA,
        lambda name, grafana, _, p: check_grafana(
            name, grafana, p["compose_services"][_PROMETHEUS]
        ),
    ),
    ("DEP-COMPOSE-MLFLOW", _MLFLOW, lambda name, mlflow, _, p: check_mlflow(name, mlflow)),
)


@pytest.mark.parametrize(
    ("index", "check"),
    [pytest.param(i, c, marks=requirement(rid), id=rid) for rid, i, c in _SERVICE_CHECKS],
)
def test_compose_service_as_compose_resolves_it(
    index: int, check: _Judgement, project: Project, params: dict[str, Any], evidence: Evidence
) -> None:
    name, service = _service(project, params, index)
    judge(check(name, service, project, params), evidence, params["compose_file"])
