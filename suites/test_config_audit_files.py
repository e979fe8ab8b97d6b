"""The spec's Security Checklist, judged from the repository's deployment files as written:
the Compose file, the Kubernetes manifests, the entry point's nginx configuration, Prometheus'
configuration and rules, the backup schedule and the CI workflow. Every finding names
``path:line``; nothing here builds or starts anything."""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Any

import pytest

from harness.probes.compose_services import PROMETHEUS_CONFIG
from harness.probes.config_audit import default_password
from harness.probes.config_audit_files import (
    Document,
    bind_mounts,
    ingress_tls,
    k8s_exposure,
    mounted_from,
    published_ports,
    read_documents,
    service_environment,
)
from harness.probes.config_audit_web import (
    NginxFile,
    alert_rules,
    header_rules,
    nginx_headers,
    nginx_tls,
    rule_files,
    scrape_problems,
)
from harness.probes.nginxconf import NginxConfigError, parse_config
from harness.probes.opsfiles import is_backup_job
from harness.probes.repo_findings import finding, judge
from harness.probes.repofiles import is_secret_name
from harness.probes.schedules import schedule_sources
from harness.probes.service_settings import flag_values, postgres_args, postgres_conf
from harness.probes.workflow import check_workflow
from harness.report.evidence import Evidence
from harness.targets.configuration import Deployment, nginx_configs, open_deployment, service_name
from harness.targets.project import Project

requirement = pytest.mark.requirement
GRAFANA_PASSWORD = ("GF_SECURITY_ADMIN_PASSWORD", "GF_SECURITY_ADMIN_PASSWORD__FILE")
_ON = ("on", "true", "yes", "1")


@pytest.fixture
def deployment(project: Project, params: dict[str, Any]) -> Deployment:
    return open_deployment(project, params)


def _compose(deployment: Deployment) -> Document:
    assert deployment.compose is not None, (
        f"{deployment.params['compose_file']}: no such file; set --param compose_file=PATH"
    )
    return deployment.compose


def _nginx(project: Project, params: dict[str, Any]) -> list[NginxFile]:
    files = []
    for path in nginx_configs(project, params):
        label = str(path.relative_to(project.root.resolve()))
        try:
            files.append(NginxFile(label, parse_config(path)))
        except NginxConfigError as exc:
            pytest.fail(f"{label}: nginx's parser refuses it: {exc}")
    return files


@requirement("CFG-CHECK-DEFAULT-PASSWORDS")
def test_compose_gives_no_service_a_default_password(
    deployment: Deployment, params: dict[str, Any], evidence: Evidence
) -> None:
    compose = _compose(deployment)
    problems, found = [], []
    for name in compose.body.get("services") or {}:
        # no value from any env file: what the service gets where the operator set nothing
        for setting in service_environment(compose, name, {}).values():
            if is_secret_name(setting.name) and setting.value:
                if default_password(setting.value, params["default_credentials"]):
                    problems.append(f"{setting.where}: {name} gets a default {setting.name}")
            elif is_secret_name(setting.name):
                found.append(f"{setting.where}: {name}: {setting.name} has no default")
    grafana = deployment.compose_service("grafana")
    if grafana is not None:
        env = service_environment(compose, grafana[0], {})
        if not any(n in env for n in GRAFANA_PASSWORD):
            line = compose.at(compose.body["services"], grafana[0])
            problems.append(
                f"{line}: {grafana[0]} sets no admin password: Grafana keeps admin/admin"
            )
    judge(finding("CFG-CHECK-DEFAULT-PASSWORDS", problems, found), evidence, "default passwords")


@requirement("CFG-CHECK-HTTPS")
def test_the_entry_point_serves_https(
    project: Project, params: dict[str, Any], deployment: Deployment, evidence: Evidence
) -> None:
    problems, found = nginx_tls(_nginx(project, params))
    ingress_problems, ingresses = ingress_tls(deployment.k8s)
    evidence.note("nginx", found)
    evidence.note("ingress", ingresses)
    if ingresses and not ingress_problems:
        return  # TLS ends at the Ingress, which redirects plain HTTP; nginx serves behind it
    no_ingress = [] if ingresses else [f"no Ingress with tls in {params['k8s_dir']}/"]
    assert not problems, "; ".join(problems + ingress_problems + no_ingress)


@requirement("CFG-CHECK-FIREWALL")
def test_only_the_entry_point_is_published(
    deployment: Deployment, params: dict[str, Any], evidence: Evidence
) -> None:
    open_ports = {str(p) for p in params["exposed_ports"]}
    private = {service_name(params, r) for r in ("db", "redis", "mlflow", "backend")}
    entry = service_name(params, "frontend")
    published = published_ports(_compose(deployment), deployment.values())
    evidence.note(
        "published", [f"{p.where}: {p.service} {p.host_ip or '*'}:{p.host_port}" for p in published]
    )
    problems = [
        f"{p.where}: {p.service} publishes {p.host_port} on every interface"
        + (" (a private service)" if p.service in private else f" (not in {sorted(open_ports)})")
        for p in published
        if p.everywhere and (p.service in private or p.host_port not in open_ports)
    ]
    problems += [
        f"{item.where}: {item.service} is opened to the outside ({item.host_port})"
        for item in k8s_exposure(deployment.k8s, entry)
    ]
    assert not problems, "; ".join(problems)


@requirement("CFG-CHECK-BACKUP")
def test_a_backup_script_runs_on_a_schedule(
    project: Project, params: dict[str, Any], evidence: Evidence
) -> None:
    script = params["backup_script"]
    project.file(script, "backup_script")
    jobs, unread = [], []
    for found, problems in schedule_sources(project.root, params["k8s_dir"]):
        jobs += found
        unread += problems
    backups = [
        f"{job.where}: {job.schedule} {job.command}" for job in jobs if is_backup_job(job, script)
    ]
    evidence.note("scheduled backups", backups)
    assert backups, (
        f"{script} exists, but no scheduled job runs it or pg_dump (crontab files, *.cron, "
        f"cron.d/, systemd timers, CronJobs in {params['k8s_dir']}/)"
        + (f"; unread: {'; '.join(unread)}" if unread else "")
    )


@requirement("CFG-CHECK-HEADERS")
def test_the_entry_point_sets_the_security_headers(
    project: Project, params: dict[str, Any], evidence: Evidence
) -> None:
    configs = _nginx(project, params)
    rules = header_rules(int(params["hsts_min_max_age_s"]), params["referrer_policies"])
    evidence.note("configuration", [c.label for c in configs])
    problems = nginx_headers(configs, rules)
    assert not problems, "; ".join(problems)


def _prometheus(project: Project, params: dict[str, Any]) -> Document:
    relative = params["prometheus_config"]
    documents = read_documents(project.file(relative, "prometheus_config"), relative)
    assert documents, f"{relative}: empty"
    return documents[0]


@requirement("CFG-CHECK-LOGGING")
def test_prometheus_scrapes_the_backend_and_logs_are_kept(
    project: Project, params: dict[str, Any], deployment: Deployment, evidence: Evidence
) -> None:
    problems, found = scrape_problems(_prometheus(project, params), service_name(params, "backend"))
    compose = deployment.compose
    for name, service in ((compose.body.get("services") or {}) if compose else {}).items():
        driver = str((service.get("logging") or {}).get("driver", ""))
        if driver == "none":
            where = compose.at(service["logging"], "driver") if compose else ""
            problems.append(f"{where}: {name} logs to the driver none: its logs are lost")
    judge(finding("CFG-CHECK-LOGGING", problems, found), evidence, "logging and monitoring")


@requirement("CFG-CHECK-ALERTS")
def test_prometheus_loads_alerting_rules(
    project: Project, params: dict[str, Any], deployment: Deployment, evidence: Evidence
) -> None:
    config = _prometheus(project, params)
    relative = Path(params["prometheus_config"])
    patterns, files = rule_files(config, project.root / relative.parent)
    assert patterns, f"{config.at(config.body, 'scrape_configs')}: {relative} has no rule_files"
    problems, alerts = [], []
    for path in files:
        found, names = alert_rules(path, str(path.relative_to(project.root)))
        problems += found
        alerts += names
    evidence.note("alerts", alerts)
    where = config.at(config.body, "rule_files")
    assert alerts, f"{where}: rule_files {patterns} hold no alerting rule ({len(files)} files)"
    problems += _rules_not_mounted(deployment, patterns)
    assert not problems, "; ".join(problems)


def _rules_not_mounted(deployment: Deployment, patterns: list[str]) -> list[str]:
    """Where Compose mounts the configuration from the repository, the rules it names must be
    mounted too, or Prometheus starts with none."""
    found = deployment.compose_service("prometheus")
    if found is None or deployment.compose is None:
        return []
    name, service = found
    mounts = bind_mounts(deployment.compose, service)
    argv = [str(w) for key in ("entrypoint", "command") for w in (service.get(key) or [])]
    inside = (flag_values(argv, "--config.file") or [PROMETHEUS_CONFIG])[-1]
    if mounted_from(mounts, inside) is None:
        return []  # the image's own configuration: nothing of the repository to compare
    where = deployment.compose.at(service, "volumes")
    problems = []
    for pattern in patterns:
        folder = posixpath.normpath(posixpath.join(posixpath.dirname(inside), pattern))
        if mounted_from(mounts, folder) is None:
            problems.append(f"{where}: {name} mounts its configuration but not its rules {pattern}")
    return problems


@requirement("CFG-CHECK-DB-SSL")
def test_postgres_starts_with_ssl(
    project: Project, deployment: Deployment, evidence: Evidence
) -> None:
    found = deployment.compose_service("db")
    if found is None or deployment.compose is None:
        pytest.skip("no database service in the Compose file: its SSL is the server's own setting")
    name, service = found
    where = deployment.compose.at(deployment.compose.body["services"], name)
    argv = [str(w) for key in ("entrypoint", "command") for w in (service.get(key) or [])]
    settings = postgres_args(argv)
    if "ssl" not in settings and "config_file" in settings:
        mount = mounted_from(bind_mounts(deployment.compose, service), settings["config_file"])
        if mount is not None:
            where = mount[1].lstrip("./")
            settings = postgres_conf(project.read_text(where))
    evidence.note("ssl", f"{where}: {settings.get('ssl', 'not set (off)')}")
    assert settings.get("ssl", "off").lower() in _ON, (
        f"{where}: {name} starts PostgreSQL without ssl=on (-c ssl=on or ssl = on in its "
        "postgresql.conf), so connections from the network are unencrypted"
    )


@requirement("CFG-CHECK-DEPENDENCIES")
def test_ci_audits_the_dependencies(
    project: Project, params: dict[str, Any], evidence: Evidence
) -> None:
    workflow = params["ci_workflow"]
    project.file(workflow, "ci_workflow")
    found = check_workflow(
        project.root,
        workflow=workflow,
        branches=tuple(params["ci_branches"]),
        production_branch=params["production_branch"],
        fail_severity=params["dependency_audit_fail_severity"],
        actionlint=None,
    )["DEP-CI-DEPENDENCY-SCAN"]
    judge(found, evidence, workflow)
