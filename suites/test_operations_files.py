"""Performance Optimization, Maintenance and Troubleshooting, read as the repository's files
(``--project-root``): the settings that make a regular task happen or possible (a weekly load
test job, a week of metrics, access logs, slow-query logging, the worker count). The Compose
file is read as Docker Compose v2 resolves it (harness/stacks/compose.py), nginx's file with
nginx's own parser, cron with croniter."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.probes.load_schedule import check_load_test_schedule
from harness.probes.nginx_logs import access_log_findings
from harness.probes.nginxconf import NginxConfigError
from harness.probes.nginxconf import parse_config as parse_nginx
from harness.probes.servercmd import Workers, image_command, worker_count
from harness.probes.service_settings import (
    RETENTION_TIME,
    SettingError,
    postgres_args,
    postgres_conf,
    postgres_time_ms,
    prometheus_retention,
)
from harness.probes.workflow_model import WorkflowError, load_document, parse_workflow
from harness.report.evidence import Evidence
from harness.stacks.compose import ComposeConfigError, ComposeUnavailable, compose_config
from harness.targets.project import Project

requirement = pytest.mark.requirement
# the order of the parameter compose_services, whose names may differ from the spec's
_ROLES = ("db", "redis", "mlflow", "backend", "frontend", "prometheus", "grafana")
# one `compose config` per repository and files, not one per requirement
_MODELS: dict[tuple[Path, Path, Path | None], dict[str, Any]] = {}
SLOW_QUERY_SETTING = "log_min_duration_statement"


def _model(project: Project, params: dict[str, Any]) -> dict[str, Any]:
    compose_file = project.file(params["compose_file"], "compose_file")
    example = project.path(params["env_example"])
    env_file = example if example.is_file() else None
    key = (project.root, compose_file, env_file)
    if key not in _MODELS:
        try:
            _MODELS[key] = compose_config(project.root, compose_file, env_file)
        except ComposeUnavailable as exc:
            pytest.skip(str(exc))
        except ComposeConfigError as exc:
            pytest.fail(f"docker compose config refuses {params['compose_file']}: {exc}")
    return _MODELS[key]


def _service(project: Project, params: dict[str, Any], role: str) -> tuple[str, dict[str, Any]]:
    """Where the service is (for messages) and its resolved model."""
    names = list(params["compose_services"])
    index = _ROLES.index(role)
    name = names[index] if index < len(names) else role
    services = _model(project, params).get("services") or {}
    if name not in services:
        pytest.fail(
            f"{params['compose_file']} has no service {name!r} (the {role}; the parameter "
            "compose_services names it when yours is called otherwise)"
        )
    return f"{params['compose_file']}, service {name}", services[name]


def _words(value: Any) -> list[str] | None:
    return None if value is None else [str(word) for word in value]


def _argv(service: dict[str, Any]) -> list[str]:
    return [*(_words(service.get("entrypoint")) or []), *(_words(service.get("command")) or [])]


@requirement("OPS-MAINT-LOAD-TESTS")
def test_ci_runs_the_load_tests_every_week(
    project: Project, params: dict[str, Any], evidence: Evidence
) -> None:
    path = params["ci_workflow"]
    try:
        workflow = parse_workflow(load_document(project.read_text(path, "ci_workflow")))
    except WorkflowError as exc:
        pytest.fail(f"{path}: {exc}")
    found = check_load_test_schedule(
        workflow,
        load_test_dir=params["load_test_dir"],
        default_branch=params["production_branch"],
        max_interval_days=float(params["load_test_max_interval_days"]),
    )
    evidence.note("found", list(found.evidence))
    assert found.ok, f"{path}: {found.summary()}"


@requirement("OPS-MAINT-PERF-REVIEW")
def test_prometheus_keeps_a_week_of_metrics(
    project: Project, params: dict[str, Any], evidence: Evidence
) -> None:
    where, service = _service(project, params, "prometheus")
    try:
        retention = prometheus_retention(_argv(service))
    except SettingError as exc:
        pytest.fail(f"{where}: {RETENTION_TIME}: {exc}")
    evidence.note("retention", retention.source)
    wanted = int(params["min_metrics_retention_days"])
    assert retention.days is not None, (
        f"{where}: {retention.source}: Prometheus keeps what fits in that size, which no file "
        f"shows is {wanted} days; set {RETENTION_TIME}={wanted}d or more"
    )
    assert retention.days >= wanted, (
        f"{where}: {retention.source} keeps {retention.days:g} days of metrics, fewer than {wanted}"
    )


@requirement("OPS-MAINT-ACCESS-LOGS")
def test_nginx_logs_client_time_request_and_status(
    project: Project, params: dict[str, Any], evidence: Evidence
) -> None:
    path = params["nginx_config"]
    try:
        directives = parse_nginx(project.file(path, "nginx_config"))
    except NginxConfigError as exc:
        pytest.fail(f"{path}: nginx's parser refuses it: {exc}")
    problems, found = access_log_findings(directives)
    evidence.note("access logs", found)
    assert not problems, f"{path}: {'; '.join(problems)}"


def _mounted(project: Project, service: dict[str, Any], inside: str, where: str) -> str:
    """The repository path of the file the container sees at ``inside``."""
    for volume in service.get("volumes") or []:
        target = str(volume.get("target", "")).rstrip("/")
        covers = inside == target or inside.startswith(target + "/")
        if volume.get("type") != "bind" or not covers:
            continue
        source = (Path(str(volume["source"])) / inside[len(target) :].lstrip("/")).resolve()
        root = project.root.resolve()
        if root not in source.parents:
            pytest.fail(f"{where}: {inside} is mounted from {source}, outside the repository")
        return str(source.relative_to(root))
    pytest.fail(f"{where}: config_file {inside} is not mounted from the repository")


@requirement("OPS-SLOW-QUERY-LOG")
def test_postgres_logs_slow_queries(
    project: Project, params: dict[str, Any], evidence: Evidence
) -> None:
    where, service = _service(project, params, "db")
    settings, source = postgres_args(_argv(service)), f"{where}: command"
    # the command line wins over the file; the file counts only when the server is told to read it
    if SLOW_QUERY_SETTING not in settings and "config_file" in settings:
        conf = _mounted(project, service, settings["config_file"], where)
        settings, source = postgres_conf(project.read_text(conf)), conf
    evidence.note("read from", source)
    value = settings.get(SLOW_QUERY_SETTING)
    assert value is not None, (
        f"{source} does not set {SLOW_QUERY_SETTING}, whose default -1 logs no slow query: "
        f"add -c {SLOW_QUERY_SETTING}={params['slow_query_threshold_ms']}ms"
    )
    try:
        ms = postgres_time_ms(value)
    except SettingError as exc:
        pytest.fail(f"{source}: {SLOW_QUERY_SETTING}: {exc}")
    evidence.note(SLOW_QUERY_SETTING, value)
    threshold = float(params["slow_query_threshold_ms"])
    if ms < 0:
        why = "turns slow-query logging off"
    elif ms == 0:
        why = "logs every statement, not the slow ones"
    else:
        why = f"misses the queries between {threshold:g} and {ms:g} ms"
    assert 0 < ms <= threshold, (
        f"{source}: {SLOW_QUERY_SETTING}={value} {why}; slow queries start at {threshold:g} ms"
    )


def _environment(service: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in (service.get("environment") or {}).items() if v is not None}


def _backend_workers(project: Project, params: dict[str, Any]) -> tuple[Workers, str]:
    """The backend's worker count as its container starts: Compose's entrypoint and command
    over the image's, the Compose environment over the image's ENV."""
    where, service = _service(project, params, "backend")
    entrypoint, command = _words(service.get("entrypoint")), _words(service.get("command"))
    dockerfile = params["backend_dockerfile"]
    image = None
    if entrypoint is None or project.path(dockerfile).is_file():
        image = image_command(project.read_text(dockerfile, "backend_dockerfile"))
    if entrypoint is None and image is not None:
        entrypoint = image.entrypoint
        # only the image's own entrypoint keeps its CMD: Compose's drops it, as docker run does
        command = command if command is not None else image.cmd
    composed = service.get("entrypoint") is not None or service.get("command") is not None
    source = where if composed else dockerfile
    environment = {**(image.env if image else {}), **_environment(service)}
    return worker_count([*(entrypoint or []), *(command or [])], environment), source


@requirement("OPS-WORKERS")
def test_backend_runs_enough_workers(
    project: Project, params: dict[str, Any], evidence: Evidence
) -> None:
    workers, source = _backend_workers(project, params)
    evidence.note("workers", f"{workers.program}: {workers.source} ({source})")
    wanted = int(params["min_workers"])
    assert workers.count is not None, f"{source}: cannot tell the worker count: {workers.source}"
    assert workers.count >= wanted, (
        f"{source}: {workers.program} runs {workers.count} worker(s) ({workers.source}), "
        f"fewer than {wanted}"
    )


@requirement("OPS-TS-WORKERS")
def test_compose_sets_the_worker_count_with_workers(
    project: Project, params: dict[str, Any], evidence: Evidence
) -> None:
    where, service = _service(project, params, "backend")
    argv = _argv(service)
    assert argv, f"{where} has no command: its worker count is not set there (--workers N)"
    workers = worker_count(argv, _environment(service))
    evidence.note("workers", f"{workers.program}: {workers.source}")
    assert workers.by_option, (
        f"{where}: the command does not set the worker count with --workers ({workers.source})"
    )
    assert workers.count is not None, f"{where}: {workers.source}"
    wanted = int(params["min_workers"])
    assert workers.count >= wanted, f"{where}: --workers {workers.count}, fewer than {wanted}"
