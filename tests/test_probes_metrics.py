"""Reading Prometheus text and judging how counters moved for known traffic."""

from __future__ import annotations

import httpx
import pytest

from harness.probes.metrics import (
    MetricsFormatError,
    MissingMetric,
    Scrape,
    moved,
    rise,
    status_class,
)
from harness.probes.metrics_traffic import ScrapeFailed, Traffic, judge_routes, scrape

BEFORE = """\
# HELP http_requests_total HTTP requests.
# TYPE http_requests_total counter
http_requests_total{method="GET",route="/api/v1/formulas",status="200"} 2.0
# HELP http_request_duration_seconds Latency.
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.2",method="GET",route="/a"} 1.0
http_request_duration_seconds_bucket{le="0.5",method="GET",route="/a"} 1.0
http_request_duration_seconds_bucket{le="+Inf",method="GET",route="/a"} 1.0
http_request_duration_seconds_count{method="GET",route="/a"} 1.0
http_request_duration_seconds_sum{method="GET",route="/a"} 0.1
# HELP user_logins_total Logins.
# TYPE user_logins_total counter
# HELP backend_process_cpu_seconds_total CPU.
# TYPE backend_process_cpu_seconds_total gauge
backend_process_cpu_seconds_total 3.5
"""
AFTER = """\
# TYPE http_requests_total counter
http_requests_total{method="GET",route="/api/v1/formulas",status="200"} 5.0
http_requests_total{method="GET",route="/api/v1/formulas/{id}",status="404"} 4.0
# TYPE user_logins_total counter
user_logins_total{outcome="success"} 1.0
"""


def test_values_sum_the_matching_series_and_a_counter_declared_without_samples_is_zero() -> None:
    before, after = Scrape.parse(BEFORE), Scrape.parse(AFTER)

    assert before.value("http_requests_total") == 2
    assert after.value("http_requests_total", status="404") == 4
    assert before.value("user_logins_total") == 0  # declared, no series yet
    assert before.value("backend_process_cpu_seconds_total") == 3.5
    assert rise(before, after, "user_logins_total") == 1


def test_a_metric_not_exported_is_one_line_naming_it() -> None:
    with pytest.raises(MissingMetric, match=r"^the target exports no metric 'cache_hits_total'$"):
        Scrape.parse(AFTER).value("cache_hits_total")
    assert Scrape.parse(AFTER).value_or_zero("cache_hits_total") == 0


def test_moved_per_label_combination_leaves_out_what_did_not_move() -> None:
    before, after = Scrape.parse(BEFORE), Scrape.parse(AFTER)

    assert moved(before, after, "http_requests_total", ("route", "status")) == {
        ("/api/v1/formulas", "200"): 3,
        ("/api/v1/formulas/{id}", "404"): 4,
    }


def test_bucket_bounds_are_the_finite_le_values() -> None:
    assert Scrape.parse(BEFORE).bucket_bounds("http_request_duration_seconds") == {0.2, 0.5}
    with pytest.raises(MissingMetric):
        Scrape.parse(AFTER).bucket_bounds("http_request_duration_seconds")


def test_a_body_that_is_not_prometheus_text_is_a_format_error() -> None:
    with pytest.raises(MetricsFormatError):
        Scrape.parse('{"detail": "Not Found"}\nnot a metric line at all {')


@pytest.mark.parametrize(
    ("status", "answer", "message", "absent"),
    [
        (404, "text/plain", "answered 404: .*; set --param metrics_path=/your/route", True),
        (500, "text/plain", "answered 500 text/plain", False),
        (200, "application/json", "Content-Type application/json, not the Prometheus", False),
    ],
)
def test_a_scrape_that_finds_no_metrics_says_why_in_one_line(
    status: int, answer: str, message: str, absent: bool
) -> None:
    transport = httpx.MockTransport(
        lambda request: httpx.Response(status, headers={"content-type": answer}, text="{}")
    )
    client = httpx.Client(transport=transport, base_url="http://t")
    with client, pytest.raises(ScrapeFailed, match=message) as raised:
        scrape(client, "/metrics")
    assert "\n" not in str(raised.value)
    assert raised.value.absent is absent


def _traffic() -> Traffic:
    traffic = Traffic("/api/v1/formulas", {"/api/v1/formulas/7", "/api/v1/formulas/2000000001"})
    traffic.answered.update({("list", 200): 3, ("item", 200): 5, ("item", 404): 1})
    return traffic


def test_moves_by_route_template_are_judged_right() -> None:
    moves = {"/api/v1/formulas": 3.0, "/api/v1/formulas/{formula_id}": 6.0}

    assert judge_routes(moves, _traffic(), "http_requests_total") == []


def test_raw_paths_as_route_labels_are_named() -> None:
    moves = {
        "/api/v1/formulas": 3.0,
        "/api/v1/formulas/7": 5.0,
        "/api/v1/formulas/2000000001": 1.0,
    }

    problems = judge_routes(moves, _traffic(), "http_requests_total")

    assert "labelled by raw path (/api/v1/formulas/2000000001, /api/v1/formulas/7)" in problems[0]
    assert any("no route label of http_requests_total moved by the 6 item" in p for p in problems)


def test_requests_to_other_routes_meanwhile_are_not_the_harness_s() -> None:
    # an orchestrator's health check or a scraper between the two scrapes
    moves = {"/api/v1/formulas": 3.0, "/api/v1/formulas/{formula_id}": 6.0, "/health": 2.0}

    assert judge_routes(moves, _traffic(), "http_requests_total") == []


@pytest.mark.parametrize(
    ("moves", "hint"),
    [
        ({"/a": 1.0, "/b": 3.0}, "point it at one"),
        (
            {"/api/v1/formulas": 3.0, "/api/v1/formulas/{formula_id}": 8.0},
            "something else sent requests",
        ),
    ],
)
def test_counts_that_do_not_add_up_say_which_way(moves: dict[str, float], hint: str) -> None:
    problems = judge_routes(moves, _traffic(), "x")
    assert any(hint in problem for problem in problems), problems


def test_status_classes() -> None:
    assert status_class(404) == "4xx"
    assert status_class("503") == "5xx"
    assert _traffic().error_classes() == {"4xx": 1}
    assert _traffic().by_status(classes=True) == {"2xx": 8, "4xx": 1}
