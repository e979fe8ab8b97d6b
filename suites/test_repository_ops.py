"""Deployment Automation and Maintenance, read as the repository's files (``--project-root``):
the Dockerfiles by stage, the frontend's nginx configuration, the deploy script, the backup's
schedule and the log retention. Nothing here runs a container; checks of the running system
for the same requirements live beside the stacks they need."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from harness.probes.dockerfile import (
    check_backend_multistage,
    check_frontend_multistage,
    check_production_server,
)
from harness.probes.nginxconf import (
    NginxConfigError,
    check_frontend_proxy,
    parse_config,
)
from harness.probes.opsfiles import (
    LogrotateError,
    check_backup_daily,
    check_log_retention,
    cleanup_kept_days,
    logrotate_files,
    parse_logrotate,
)
from harness.probes.repo_findings import RepoFinding, judge
from harness.probes.schedules import Job, schedule_sources
from harness.probes.shellscript import check_shell_script
from harness.report.evidence import Evidence
from harness.targets.configuration import nginx_configs
from harness.targets.project import Project

requirement = pytest.mark.requirement


# the Dockerfile checks: (requirement, the parameter naming the file, the judgement)
_DOCKERFILE_CHECKS = (
    ("DEP-BACKEND-MULTISTAGE", "backend_dockerfile", check_backend_multistage),
    ("DEP-BACKEND-PRODUCTION", "backend_dockerfile", check_production_server),
    ("DEP-FRONTEND-MULTISTAGE", "frontend_dockerfile", check_frontend_multistage),
)


@pytest.mark.parametrize(
    ("setting", "check"),
    [pytest.param(s, c, marks=requirement(rid), id=rid) for rid, s, c in _DOCKERFILE_CHECKS],
)
def test_dockerfile_stages_and_command(
    setting: str,
    check: Callable[[str], RepoFinding],
    project: Project,
    params: dict[str, Any],
    evidence: Evidence,
) -> None:
    dockerfile = project.read_text(params[setting], setting)
    judge(check(dockerfile), evidence, params[setting])


@requirement("DEP-FRONTEND-PROXY")
def test_frontend_nginx_serves_the_app_and_proxies_the_api(
    project: Project, params: dict[str, Any], evidence: Evidence
) -> None:
    directives = []
    for config in nginx_configs(project, params):
        relative = config.relative_to(project.root)
        try:
            directives += parse_config(config)
        except NginxConfigError as exc:
            pytest.fail(f"{relative} does not parse as nginx configuration: {exc}")
        evidence.note("configuration", str(relative))
    backend = params["compose_services"][3]
    found = check_frontend_proxy(directives, api_path=params["api_probe_path"], backend=backend)
    judge(found, evidence, "the frontend's nginx")


@requirement("DEP-DEPLOY-SCRIPT")
def test_deploy_script_is_an_executable_script_that_parses(
    project: Project, params: dict[str, Any], evidence: Evidence
) -> None:
    script = project.file(params["deploy_script"], "deploy_script")
    judge(check_shell_script(script, project.root), evidence, params["deploy_script"])


def _scheduled(project: Project, params: dict[str, Any]) -> tuple[list[Job], list[str]]:
    jobs: list[Job] = []
    unread: list[str] = []
    for found, problems in schedule_sources(project.root, params["k8s_dir"]):
        jobs += found
        unread += problems
    return jobs, unread


@requirement("OPS-BACKUP-DAILY")
def test_backup_is_scheduled_daily_at_the_backup_hour(
    project: Project, params: dict[str, Any], evidence: Evidence
) -> None:
    jobs, unread = _scheduled(project, params)
    found = check_backup_daily(
        jobs, unread, hour=int(params["backup_hour"]), backup_script=params["backup_script"],
        k8s_dir=params["k8s_dir"],
    )  # fmt: skip
    judge(found, evidence, "the backup's schedule")


@requirement("OPS-LOG-RETENTION")
def test_logs_are_kept_for_the_retention_and_removed_after(
    project: Project, params: dict[str, Any], evidence: Evidence
) -> None:
    rotations, problems = [], []
    for path in logrotate_files(project.root):
        relative = str(path.relative_to(project.root))
        try:
            rotations += parse_logrotate(
                path.read_text(encoding="utf-8", errors="replace"), relative
            )
        except LogrotateError as exc:
            problems.append(f"not a logrotate configuration: {exc}")
    jobs, _ = _scheduled(project, params)
    cleanups = [(job, kept) for job in jobs if (kept := cleanup_kept_days(job)) is not None]
    found = check_log_retention(
        rotations, cleanups, problems, days=int(params["log_retention_days"])
    )
    judge(found, evidence, "log retention")
