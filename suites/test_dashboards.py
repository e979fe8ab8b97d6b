"""Monitoring > Grafana: the provisioned dashboards and data source, read from the repository
as Grafana loads them, their panels' PromQL judged against what the backend exports and,
where the target has a Prometheus, evaluated after known traffic as Grafana would send it.
A Grafana answering at grafana_url is asked too; none can be started here."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import Any

import httpx
import pytest

from harness.config import HarnessConfig
from harness.probes.answers import json_object, present
from harness.probes.config_audit_files import Document
from harness.probes.dashboard_queries import exported_names
from harness.probes.dashboards import (
    Provisioning,
    admin_password_setting,
    mounted_provisioning,
    read_provisioning,
)
from harness.probes.grafana import GrafanaApi, GrafanaRefused
from harness.probes.grafana_checks import (
    DASHBOARD_REQUIREMENTS,
    by_title,
    check_admin_password,
    check_dashboard,
    check_datasource,
    evaluate_panels,
    listen_port,
    prometheus_source,
    scrape_interval,
    unexported,
)
from harness.probes.prometheus import NEEDS_PROMETHEUS, PrometheusApi, prometheus_url
from harness.probes.repo_findings import judge
from harness.report.evidence import Evidence
from harness.report.redaction import register
from harness.targets.accounts import new_username, user_account
from harness.targets.base import Capability, Target
from harness.targets.configuration import Deployment, open_deployment, service_name
from harness.targets.project import Project

requirement = pytest.mark.requirement

NO_GRAFANA = "no Grafana answers at grafana_url"


@pytest.fixture
def deployment(project: Project, params: dict[str, Any]) -> Deployment:
    return open_deployment(project, params)


def _grafana_service(
    deployment: Deployment, params: dict[str, Any]
) -> tuple[Document, tuple[str, Mapping[str, Any]]]:
    __tracebackhide__ = True
    grafana = deployment.compose_service("grafana")
    if deployment.compose is None or grafana is None:
        pytest.fail(
            f"{params['compose_file']} has no Grafana service {service_name(params, 'grafana')!r} "
            "(the parameter compose_services names it)"
        )
    return deployment.compose, grafana


@pytest.fixture
def provisioning(deployment: Deployment, project: Project, params: dict[str, Any]) -> Provisioning:
    """What Grafana's provisioning folder, mounted by the Compose file, loads."""
    compose, (name, service) = _grafana_service(deployment, params)
    compose_dir = project.path(params["compose_file"]).parent
    folder, resolve = mounted_provisioning(compose, service, compose_dir)
    if folder is None or not folder.is_dir():
        pytest.fail(
            f"{params['compose_file']}: {name} mounts no provisioning folder of the repository"
        )
    root = project.root.resolve()
    return read_provisioning(folder, resolve, lambda p: str(p.resolve().relative_to(root)))


@pytest.fixture
def grafana(params: dict[str, Any], evidence: Evidence) -> Iterator[GrafanaApi | None]:
    """The Grafana at grafana_url when one answers there, else None (noted)."""
    api = GrafanaApi(params["grafana_url"], params["grafana_token"])
    try:
        health = api.health()
        evidence.note("grafana", health or f"{NO_GRAFANA} ({params['grafana_url']})")
        yield api if health else None
    finally:
        api.close()


def _asked(call: Any, *args: Any) -> Any:
    __tracebackhide__ = True
    try:
        return call(*args)
    except GrafanaRefused as exc:
        pytest.skip(str(exc))


@pytest.mark.parametrize(
    "index",
    [
        pytest.param(i, marks=requirement(rid), id=rid)
        for i, rid in enumerate(DASHBOARD_REQUIREMENTS)
    ],
)
def test_dashboard_is_provisioned(
    index: int,
    provisioning: Provisioning,
    grafana: GrafanaApi | None,
    params: dict[str, Any],
    evidence: Evidence,
) -> None:
    title = params["grafana_dashboards"][index]
    judge(
        check_dashboard(DASHBOARD_REQUIREMENTS[index], provisioning, title),
        evidence,
        "provisioning",
    )
    if grafana is not None:
        titles = _asked(grafana.dashboard_titles)
        evidence.note("Grafana's search", titles)
        assert title in titles, f"Grafana at {grafana.url} has no dashboard titled {title!r}"


def _exported(http: httpx.Client, path: str) -> frozenset[str]:
    response = present(http.get(path), "metrics in the Prometheus text format", "set metrics_path")
    assert response.status_code == 200, f"{path} answered {response.status_code}"
    return exported_names(response.text)


def _prometheus(
    target: Target, params: dict[str, Any], config: HarnessConfig
) -> tuple[PrometheusApi, str]:
    """The Prometheus the user named (prometheus_url), else the stack's; skips without one."""
    __tracebackhide__ = True
    try:
        stack: str | None = target.service_url("prometheus")
    except KeyError:
        stack = None
    named = params["prometheus_url"] if "params.prometheus_url" in config.sources else None
    url = prometheus_url(named, stack)
    if url is None:
        pytest.skip(NEEDS_PROMETHEUS)
    api = PrometheusApi(url)
    assert api.ready(), f"Prometheus at {url} answers /-/ready with another status than 200"
    return api, url.rstrip("/")


def _known_traffic(http: httpx.Client, target: Target, params: dict[str, Any]) -> list[str]:
    """Requests whose metrics every panel shows: reads (a formula read twice: a cache miss,
    then a hit), an unmatched path (a 4xx), a refused login and, where the target gives an
    account, a login and an authenticated request (an active user)."""
    probe, login = params["api_probe_path"], params["login_path"]
    sent = [f"GET {params['health_path']} {http.get(params['health_path']).status_code}"]
    sent.append(f"GET {probe} {http.get(probe).status_code}")
    body = {"name": f"dashboards {new_username('f')}", "expression": "a+b"}
    created = http.post(probe, json=body)
    sent.append(f"POST {probe} {created.status_code}")
    if created.status_code == 201:
        item = f"{probe.rstrip('/')}/{json_object(created, ('id',))['id']}"
        sent += [f"GET {item} {http.get(item).status_code}" for _ in range(2)]
    missing = "/harness-dashboards/no-such-route"
    sent.append(f"GET {missing} {http.get(missing).status_code}")
    refused = http.post(login, json={"username": new_username("nobody"), "password": "x" * 12})
    sent.append(f"POST {login} (unknown user) {refused.status_code}")
    if target.has(Capability.USERS) or params.get("login_username"):
        account = user_account(target, params, "dash")
        answer = http.post(login, json={"username": account.username, "password": account.password})
        sent.append(f"POST {login} {answer.status_code}")
        if answer.status_code == 200:
            token = str(json_object(answer, ("access_token",))["access_token"])
            register(token)
            me = login.rsplit("/", 1)[0] + "/me"
            asked = http.get(me, headers={"Authorization": f"Bearer {token}"})
            sent.append(f"GET {me} (signed in) {asked.status_code}")
    return sent


@requirement("MON-GRAFANA-PANELS")
def test_panels_query_metrics_the_backend_exports(
    provisioning: Provisioning,
    target: Target,
    http: httpx.Client,
    params: dict[str, Any],
    evidence: Evidence,
) -> None:
    boards = by_title(provisioning, params["grafana_dashboards"])
    assert boards, f"no provisioned dashboard is titled {', '.join(params['grafana_dashboards'])}"
    # a labelled series exists once it was counted: the traffic every panel shows first
    evidence.note("known traffic", _known_traffic(http, target, params))
    exported = _exported(http, params["metrics_path"])
    evidence.note("exported series names", sorted(exported))
    problems, read = unexported(boards, exported, {})
    evidence.note("queries", read)
    assert not problems, "; ".join(problems)


@requirement("MON-GRAFANA-PANELS")
def test_every_panel_returns_data_after_known_traffic(
    provisioning: Provisioning,
    target: Target,
    *,
    harness_config: HarnessConfig,
    http: httpx.Client,
    params: dict[str, Any],
    evidence: Evidence,
) -> None:
    boards = by_title(provisioning, params["grafana_dashboards"])
    assert boards, f"no provisioned dashboard is titled {', '.join(params['grafana_dashboards'])}"
    api, _ = _prometheus(target, params, harness_config)
    scrape_s = scrape_interval(prometheus_source(provisioning))
    evidence.note("known traffic", _known_traffic(http, target, params))
    # a rate over $__rate_interval (4 scrapes) needs two scrapes after the traffic: up to
    # two scrape intervals, plus a scrape's own timeout and the evaluation
    bound = 4 * scrape_s + 30
    results, waited = evaluate_panels(boards, api, scrape_s, time.time(), bound)
    evidence.note("waited for scrapes", f"{waited:.1f} s (bound {bound:.0f} s)")
    evidence.note("panel queries", [r.line() for r in results])
    panels = {(r.dashboard, r.panel) for r in results}
    evidence.note("evaluated", f"{len(panels)} panels, {len(results)} queries")
    empty = [
        f"{r.dashboard} / {r.panel} ({r.ref_id}) returned no data"
        + (f" ({r.error})" if r.error else "")
        + f": {r.expr}"
        for r in results
        if not r.count
    ]
    assert not empty, (
        f"{len(empty)} of {len(results)} panel queries returned no data within {bound:.0f} s: "
        + "; ".join(empty)
    )


@requirement("MON-GRAFANA-DATASOURCE")
def test_datasource_points_at_the_prometheus_service(
    provisioning: Provisioning, deployment: Deployment, params: dict[str, Any], evidence: Evidence
) -> None:
    prometheus = deployment.compose_service("prometheus")
    port = listen_port(prometheus[1] if prometheus else {})
    service = service_name(params, "prometheus")
    judge(check_datasource("MON-GRAFANA-DATASOURCE", provisioning, service, port), evidence, "")


@requirement("MON-GRAFANA-DATASOURCE")
def test_datasource_health_test_passes(
    provisioning: Provisioning,
    grafana: GrafanaApi | None,
    *,
    target: Target,
    harness_config: HarnessConfig,
    params: dict[str, Any],
    evidence: Evidence,
) -> None:
    source = prometheus_source(provisioning)
    assert source is not None, "no provisioned data source of type prometheus"
    if grafana is not None:
        status, message = _asked(grafana.datasource_health, source.uid)
        evidence.note("Grafana's health test", f"{status}: {message}")
        assert status == "OK", f"Grafana's health test of {source.name} says {status}: {message}"
        return
    # Grafana's health test of a Prometheus data source: the instant query 1+1 answers 2
    _, url = _prometheus(target, params, harness_config)
    answer = httpx.get(f"{url}/api/v1/query", params={"query": "1+1"}, timeout=10)
    data = json_object(answer, ("status", "data"))["data"]
    evidence.note("1+1", data)
    value = data.get("result") if isinstance(data, dict) else None
    passed = answer.status_code == 200 and isinstance(value, list) and value[1:] == ["2"]
    assert passed, f"{url} answered the health test's query 1+1 with {answer.status_code} {data}"


@requirement("MON-GRAFANA-DEFAULT-PASSWORD")
def test_production_grafana_never_accepts_admin_admin(
    deployment: Deployment, grafana: GrafanaApi | None, params: dict[str, Any], evidence: Evidence
) -> None:
    compose, (name, service) = _grafana_service(deployment, params)
    raw, where = admin_password_setting(compose, name, service)
    production = None if deployment.env.is_example else deployment.env
    known = params["default_credentials"]
    judge(
        check_admin_password("MON-GRAFANA-DEFAULT-PASSWORD", raw, where, production, known),
        evidence,
        "Grafana's admin password",
    )
    if grafana is not None:
        assert not grafana.accepts_login("admin", "admin"), (
            f"Grafana at {grafana.url} accepts the login admin/admin"
        )


@requirement("MON-GRAFANA-ACCESS")
def test_grafana_answers_with_its_database_ok(
    grafana: GrafanaApi | None, params: dict[str, Any], evidence: Evidence
) -> None:
    if grafana is None:
        pytest.skip(
            f"needs a running Grafana; nothing answers /api/health at {params['grafana_url']}: "
            "start the deployment's Grafana and set --param grafana_url=URL"
        )
    health = grafana.health() or {}
    assert health.get("database") == "ok", f"Grafana at {grafana.url} reports {health}"
