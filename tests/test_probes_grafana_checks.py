"""Judgements of Grafana's provisioning and a running Grafana's API, without Grafana: the
dashboards, data source and admin password as files, panels evaluated against a stand-in of
Prometheus, and Grafana's answers from an in-process transport."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from harness.probes.config_audit import parse_env
from harness.probes.dashboards import Dashboard, DataSource, Panel, Provisioning, Query, Variable
from harness.probes.grafana import GrafanaApi, GrafanaRefused
from harness.probes.grafana_checks import (
    check_admin_password,
    check_dashboard,
    check_datasource,
    evaluate_panels,
    listen_port,
    scrape_interval,
    unexported,
    variable_values,
)

INSTANCE = Variable(
    "instance", "query", 'label_values(up{job="backend"}, instance)', True, None, ("$__all",)
)
LATENCY = Panel(
    "P95",
    (
        Query(
            "A",
            "histogram_quantile(0.95, sum by (le) "
            '(rate(h_bucket{instance=~"$instance"}[$__rate_interval])))',
        ),
    ),
    ("prometheus",),
)
MEMORY = Panel(
    "Memory", (Query("A", 'process_resident_memory_bytes{instance=~"$instance"}'),), ("prometheus",)
)
BOARD = Dashboard("API Performance", "api", "api.json", (LATENCY,), (INSTANCE,), 3600.0)
SOURCE = DataSource(
    "Prometheus",
    "prometheus",
    "prometheus",
    "http://prometheus:9090",
    "ds.yml",
    {"timeInterval": "30s"},
)


def _provisioning(*boards: Dashboard, source: DataSource = SOURCE) -> Provisioning:
    return Provisioning(list(boards), [source])


def test_a_dashboard_is_found_by_title_with_its_panels() -> None:
    assert check_dashboard("R", _provisioning(BOARD), "API Performance").ok
    missing = check_dashboard("R", _provisioning(BOARD), "User Activity")
    assert missing.problems == (
        "no provisioned dashboard titled 'User Activity' (API Performance)",
    )


def test_a_panel_on_a_data_source_nobody_provisions_is_a_problem() -> None:
    other = Panel("P", LATENCY.queries, ("thanos",))
    found = check_dashboard(
        "R", _provisioning(Dashboard("X", "x", "x.json", (other,), (), 60)), "X"
    )
    assert (
        "queries data source uid thanos, which is not provisioned (prometheus)" in found.summary()
    )


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("http://prometheus:9090", True),
        ("http://prometheus:9091", False),
        ("http://localhost:9090", False),
        ("http://prometheus", False),  # port 80
    ],
)
def test_the_data_source_names_the_compose_service_and_its_port(url: str, ok: bool) -> None:
    source = DataSource("Prometheus", "prometheus", "prometheus", url, "ds.yml")
    assert check_datasource("R", _provisioning(source=source), "prometheus", 9090).ok is ok


def test_the_scrape_interval_is_the_data_sources_time_interval() -> None:
    assert scrape_interval(SOURCE) == 30
    assert scrape_interval(None) == 15


def test_prometheus_listen_port() -> None:
    assert listen_port({"command": ["--config.file=x", "--web.listen-address=:9500"]}) == 9500
    assert listen_port({"command": "--web.listen-address 0.0.0.0:9400"}) == 9400
    assert listen_port({}) == 9090


_ENV = parse_env("GRAFANA_ADMIN_PASSWORD=3f9a0c71d2b84e6a\nOTHER=1\n", ".env.production")


@pytest.mark.parametrize(
    ("raw", "env", "problem"),
    [
        ("${GRAFANA_ADMIN_PASSWORD:?set it}", _ENV, None),
        ("${GRAFANA_ADMIN_PASSWORD}", None, None),
        ("$GF_FILE", None, None),
        ("${GRAFANA_ADMIN_PASSWORD:-admin}", None, "defaults to 'admin'"),
        ("admin", None, "written in the Compose file"),
        (None, None, "keeps admin/admin"),
        ("${GRAFANA_ADMIN_PASSWORD}", parse_env("GRAFANA_ADMIN_PASSWORD=admin\n", "p"), "default"),
        (
            "${GRAFANA_ADMIN_PASSWORD}",
            parse_env("GRAFANA_ADMIN_PASSWORD=change-me\n", "p"),
            "placeholder",
        ),
    ],
)
def test_grafanas_admin_password(raw: str | None, env: Any, problem: str | None) -> None:
    found = check_admin_password("R", raw, "docker-compose.yml:9", env, ["admin:admin"])
    assert found.ok is (problem is None), found
    if problem:
        assert problem in found.summary()


def test_a_panel_naming_a_metric_nobody_exports_is_named_with_its_query() -> None:
    board = Dashboard("System Resources", "s", "s.json", (LATENCY, MEMORY), (INSTANCE,), 3600)
    problems, read = unexported([board], {"h_bucket"}, {})
    assert problems == [
        "System Resources / panel 'Memory' (A) queries process_resident_memory_bytes, which the "
        'backend\'s metrics do not export: process_resident_memory_bytes{instance=~"$instance"}'
    ]
    assert len(read) == 3  # the variable's query and both panels'


class FakePrometheus:
    """Answers queries from a table; a query answers empty until ``fills_after`` asks."""

    def __init__(self, fills_after: int = 0) -> None:
        self.asked: list[str] = []
        self.waits: list[float] = []
        self.fills_after = fills_after

    def query(self, promql: str) -> list[dict[str, Any]]:
        self.asked.append(promql)
        if promql.startswith("up"):
            return [{"metric": {"instance": "10.0.0.2:8000"}}, {"metric": {"instance": "b:8000"}}]
        if "process_resident" in promql or len(self.asked) <= self.fills_after:
            return []
        return [{"metric": {}, "value": [0, "0.1"]}]

    def wait_scraped_after(self, moment: float, job: str = "backend", timeout: float = 60) -> None:
        self.waits.append(moment)


def test_variables_are_sent_as_grafana_sends_them() -> None:
    values = variable_values(BOARD, FakePrometheus().query)
    assert values == {"instance": r"(10\.0\.0\.2:8000|b:8000)"}
    chosen = Variable("instance", "query", INSTANCE.query, True, ".*", ("$__all",))
    assert variable_values(Dashboard("B", "", "", (), (chosen,), 60), FakePrometheus().query) == {
        "instance": ".*"
    }


def test_every_panel_query_is_evaluated_expanded_after_a_scrape() -> None:
    prometheus = FakePrometheus()
    board = Dashboard("B", "b", "b.json", (LATENCY, MEMORY), (INSTANCE,), 3600)
    results, waited = evaluate_panels([board], prometheus, 15, since=100.0, bound_s=0)
    assert prometheus.waits == [100.0]
    assert [(r.panel, r.count) for r in results] == [("P95", 1), ("Memory", 0)]
    assert "[60s]" in results[0].expr
    assert "$" not in results[0].expr
    assert results[1].line().endswith("-> 0 series")
    assert waited < 1


def test_a_panel_filled_by_a_later_scrape_is_asked_again() -> None:
    prometheus = FakePrometheus(fills_after=2)  # the variable's query, then P95 empty once
    results, _ = evaluate_panels([BOARD], prometheus, 0.3, since=0.0, bound_s=2)
    assert [r.count for r in results] == [1]
    assert len(prometheus.asked) == 3


def _grafana(handler: Any, token: str | None = None) -> GrafanaApi:
    return GrafanaApi("http://grafana:3000", token, transport=httpx.MockTransport(handler))


def test_grafana_health_search_datasource_and_login() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        path = request.url.path
        if path == "/api/health":
            return httpx.Response(200, json={"database": "ok", "version": "11.3.0"})
        if path == "/api/search":
            return httpx.Response(200, json=[{"title": "API Performance", "type": "dash-db"}])
        if path == "/api/datasources/uid/prometheus/health":
            return httpx.Response(200, json={"status": "OK", "message": "Successfully queried"})
        body = json.loads(request.content)
        return httpx.Response(401 if body == {"user": "admin", "password": "admin"} else 200)

    grafana = _grafana(answer, token="glsa_token123")
    assert grafana.health() == {"database": "ok", "version": "11.3.0"}
    assert grafana.dashboard_titles() == ["API Performance"]
    assert grafana.datasource_health("prometheus") == ("OK", "Successfully queried")
    assert grafana.accepts_login("admin", "admin") is False
    assert seen[1].headers["authorization"] == "Bearer glsa_token123"
    assert "authorization" not in seen[-1].headers  # the login form never sees the token


def test_grafana_refusing_the_harness_says_which_parameter_to_set() -> None:
    grafana = _grafana(lambda _: httpx.Response(401, json={"message": "Unauthorized"}))
    with pytest.raises(GrafanaRefused, match="set --param grafana_token=TOKEN"):
        grafana.dashboard_titles()


def test_no_grafana_or_something_else_answering_is_no_grafana() -> None:
    assert _grafana(lambda _: httpx.Response(200, text="<html>")).health() is None

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    assert _grafana(refuse).health() is None
