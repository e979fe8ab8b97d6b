"""Deployment Automation > Docker Compose, read as the repository's file (``--project-root``):
the Compose file as Docker Compose v2 itself resolves it (harness/stacks/compose.py)."""

from __future__ import annotations

import os
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
from harness.probes.repo_findings import RepoFinding
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


def _judge(found: RepoFinding, evidence: Evidence, params: dict[str, Any]) -> None:
    __tracebackhide__ = True
    evidence.note("found", list(found.evidence))
    evidence.note("problems", list(found.problems))
    assert found.ok, f"{params['compose_file']}: {found.summary()}"


@requirement("DEP-COMPOSE-POSTGRES")
def test_compose_postgres_has_a_health_check(
    project: Project, params: dict[str, Any], evidence: Evidence
) -> None:
    _judge(check_postgres(*_service(project, params, _DB)), evidence, params)


@requirement("DEP-COMPOSE-REDIS")
def test_compose_redis_persists_on_a_named_volume(
    project: Project, params: dict[str, Any], evidence: Evidence
) -> None:
    _judge(check_redis(*_service(project, params, _REDIS)), evidence, params)


@requirement("DEP-COMPOSE-BACKEND")
def test_compose_backend_publishes_8000_and_waits_for_its_stores(
    project: Project, params: dict[str, Any], evidence: Evidence
) -> None:
    names = params["compose_services"]
    found = check_backend(*_service(project, params, _BACKEND), names[_DB], names[_REDIS])
    _judge(found, evidence, params)


@requirement("DEP-COMPOSE-FRONTEND")
def test_compose_frontend_publishes_8080_after_the_backend(
    project: Project, params: dict[str, Any], evidence: Evidence
) -> None:
    backend = params["compose_services"][_BACKEND]
    _judge(check_frontend(*_service(project, params, _FRONTEND), backend), evidence, params)


@requirement("DEP-COMPOSE-PROMETHEUS")
def test_compose_prometheus_loads_the_repository_configuration(
    project: Project, params: dict[str, Any], evidence: Evidence
) -> None:
    # the path as the Compose file names it, links not followed: a repository may keep the
    # file elsewhere and link it, and the bind mount names the link
    config = Path(os.path.normpath(project.root / params["prometheus_config"]))
    if project.root not in config.parents or not config.is_file():
        project.file(params["prometheus_config"], "prometheus_config")  # fails with the fix
    _judge(check_prometheus(*_service(project, params, _PROMETHEUS), config), evidence, params)


@requirement("DEP-COMPOSE-GRAFANA")
def test_compose_grafana_provisions_prometheus_and_dashboards(
    project: Project, params: dict[str, Any], evidence: Evidence
) -> None:
    prometheus = params["compose_services"][_PROMETHEUS]
    _judge(check_grafana(*_service(project, params, _GRAFANA), prometheus), evidence, params)


@requirement("DEP-COMPOSE-MLFLOW")
def test_compose_mlflow_runs_a_tracking_server(
    project: Project, params: dict[str, Any], evidence: Evidence
) -> None:
    _judge(check_mlflow(*_service(project, params, _MLFLOW)), evidence, params)
