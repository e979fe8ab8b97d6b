"""The PromQL of dashboard panels: metric names read by a parser, Grafana's macros and
variables expanded as Grafana does, the exposition's names, and the provisioned reference
dashboards read as Grafana loads them."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.probes.config_audit_files import read_documents
from harness.probes.dashboard_queries import (
    QueryError,
    builtins,
    expand,
    exported_names,
    metric_names,
    missing_names,
    parse_duration,
    placeholders,
    regex_of,
    variable_expr,
)
from harness.probes.dashboards import (
    admin_password_setting,
    mounted_provisioning,
    range_seconds,
    read_provisioning,
)
from reference_app.project_mutants import PROJECT

EXPOSITION = """\
# HELP http_request_duration_seconds Latency.
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.5",method="GET",route="/health"} 1.0
http_request_duration_seconds_bucket{le="+Inf",method="GET",route="/health"} 1.0
http_request_duration_seconds_count{method="GET",route="/health"} 1.0
http_request_duration_seconds_sum{method="GET",route="/health"} 0.01
# HELP cache_errors_total Cache unreachable.
# TYPE cache_errors_total counter
# HELP active_users Users.
# TYPE active_users gauge
active_users 2.0
"""


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ("up", {"up"}),
        ('sum by (route) (rate(http_requests_total{job="backend"}[1m]))', {"http_requests_total"}),
        (
            "histogram_quantile(0.95, sum by (le) (rate(latency_bucket[5m])))"
            " / on() group_left count(up)",
            {"latency_bucket", "up"},
        ),
        ('{__name__="active_users"} or vector(0)', {"active_users"}),
        ("max_over_time(rate(c_total[5m])[1h:1m] offset 5m)", {"c_total"}),
        ("sum without (instance) (a) > bool 3", {"a"}),
    ],
)
def test_metric_names_are_the_selectors_not_functions_or_labels(expr: str, names: set[str]) -> None:
    assert metric_names(expr).names == names


def test_a_name_regex_is_kept_as_a_pattern() -> None:
    found = metric_names('{__name__=~"http_.*", job="backend"}')
    assert (found.names, found.patterns) == (frozenset(), frozenset({"http_.*"}))


def test_a_query_that_is_no_promql_is_one_line() -> None:
    with pytest.raises(QueryError, match=r"^not PromQL \(.*\): sum\(rate\(x\[5m\]\)$") as info:
        metric_names("sum(rate(x[5m])")
    assert "\n" not in str(info.value)


def test_exported_names_cover_samples_and_families_declared_without_samples() -> None:
    names = exported_names(EXPOSITION)
    assert {"http_request_duration_seconds_bucket", "http_request_duration_seconds_sum"} <= names
    assert {"cache_errors_total", "active_users"} <= names
    assert "http_request_duration_seconds" not in names  # a histogram has no series of its name


def test_missing_names_accept_the_scrape_series_and_matching_patterns() -> None:
    have = exported_names(EXPOSITION)
    expr = 'sum(rate(http_request_duration_seconds_count[1m])) / up + {__name__=~"active_.*"}'
    assert missing_names(expr, have) == []
    assert missing_names("process_resident_memory_bytes + {__name__=~'nope_.*'}", have) == [
        "process_resident_memory_bytes",
        "{__name__=~'nope_.*'}",
    ]


@pytest.mark.parametrize(
    ("range_s", "scrape_s", "points", "interval", "rate_interval"),
    [
        (3600, 15, None, "15s", "60s"),  # a one-hour range: the scrape interval is the floor
        (6 * 3600, 15, None, "22s", "60s"),  # 4 scrapes still exceed interval + scrape
        (24 * 3600, 15, None, "86s", "101s"),  # interval + scrape wins
        (3600, 30, None, "30s", "120s"),
        (3600, 15, 100, "36s", "60s"),  # a panel's maxDataPoints
    ],
)
def test_grafana_interval_macros(
    range_s: float, scrape_s: float, points: int | None, interval: str, rate_interval: str
) -> None:
    macros = builtins(range_s, scrape_s, points)
    assert (macros["__interval"], macros["__rate_interval"]) == (interval, rate_interval)
    assert macros["__range"] == f"{range_s}s"
    assert macros["__range_ms"] == str(range_s * 1000)


def test_a_panels_minimum_interval_raises_interval_and_rate_interval() -> None:
    macros = builtins(3600, 15, None, minimum_s=60)
    assert (macros["__interval"], macros["__rate_interval"]) == ("60s", "75s")


def test_every_variable_syntax_is_expanded_and_unknown_ones_are_left() -> None:
    values = {"instance": "(a:1|b:2)", "__rate_interval": "60s"}
    expr = 'rate(x{i=~"$instance",j=~"${instance}",k=~"[[instance]]"}[$__rate_interval]) $other'
    assert expand(expr, values) == (
        'rate(x{i=~"(a:1|b:2)",j=~"(a:1|b:2)",k=~"(a:1|b:2)"}[60s]) $other'
    )
    # the form parsed without a Prometheus: unknown variables match all
    assert placeholders('rate(x{i=~"$other"}[$__rate_interval])', {}) == 'rate(x{i=~".*"}[60s])'


def test_multi_values_become_grafanas_escaped_regex() -> None:
    assert regex_of(["10.0.0.1:8000"]) == r"10\.0\.0\.1:8000"
    assert regex_of(["a.b", "c"]) == r"(a\.b|c)"


@pytest.mark.parametrize(
    ("query", "expr"),
    [
        ('label_values(up{job="backend"}, instance)', 'up{job="backend"}'),
        ("label_values(instance)", None),
        ("query_result(topk(3, up))", "topk(3, up)"),
        ("metrics(http_.*)", None),
    ],
)
def test_the_promql_inside_a_variable_query(query: str, expr: str | None) -> None:
    assert variable_expr(query) == expr


def test_durations_and_ranges() -> None:
    assert parse_duration("1m30s") == 90
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("15")
    assert range_seconds({"from": "now-1h", "to": "now"}) == 3600
    assert range_seconds({"from": "2026-01-01T00:00:00Z"}) == 6 * 3600  # Grafana's default


def test_the_reference_tree_provisions_the_five_dashboards_as_grafana_loads_them() -> None:
    compose = read_documents(PROJECT / "docker-compose.yml", "docker-compose.yml")[0]
    service = compose.body["services"]["grafana"]
    folder, resolve = mounted_provisioning(compose, service, PROJECT)
    assert folder == (PROJECT / "monitoring/grafana/provisioning").resolve()
    found = read_provisioning(folder, resolve, lambda p: p.name)
    assert found.problems == []
    assert sorted(b.title for b in found.dashboards) == [
        "API Performance",
        "Database Metrics",
        "Error Tracking",
        "System Resources",
        "User Activity",
    ]
    assert [(s.kind, s.uid, s.url) for s in found.datasources] == [
        ("prometheus", "prometheus", "http://prometheus:9090")
    ]
    for board in found.dashboards:
        assert board.range_s == 3600
        assert [v.name for v in board.variables] == ["instance"]
        for panel in board.panels:
            assert panel.queries, (board.title, panel.title)
            assert panel.datasources == ("prometheus",), (board.title, panel.title)


def test_a_provider_folder_no_mount_brings_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "dashboards").mkdir()
    (tmp_path / "dashboards" / "p.yml").write_text(
        "apiVersion: 1\nproviders:\n  - name: p\n    options:\n      path: /elsewhere\n"
    )
    found = read_provisioning(tmp_path, lambda _: None, lambda p: p.name)
    assert found.problems == [
        "p.yml: provider p reads /elsewhere, which no bind mount brings from the repository"
    ]


@pytest.mark.parametrize(
    ("environment", "found"),
    [
        ("    environment:\n      GF_SECURITY_ADMIN_PASSWORD: ${P:?set P}\n", ("${P:?set P}", 5)),
        ("    environment:\n      - GF_SECURITY_ADMIN_PASSWORD=${P}\n", ("${P}", 5)),
        ("    environment:\n      GF_SECURITY_ADMIN_PASSWORD__FILE: /run/s\n", ("$GF_FILE", 5)),
        ("    environment:\n      GF_USERS_ALLOW_SIGN_UP: 'false'\n", (None, 3)),
    ],
)
def test_grafanas_admin_password_as_the_compose_file_writes_it(
    tmp_path: Path, environment: str, found: tuple[str | None, int]
) -> None:
    path = tmp_path / "compose.yml"
    path.write_text("services:\n  db: {}\n  grafana:\n" + environment)
    compose = read_documents(path, "compose.yml")[0]
    raw, where = admin_password_setting(compose, "grafana", compose.body["services"]["grafana"])
    assert (raw, where) == (found[0], f"compose.yml:{found[1]}")
