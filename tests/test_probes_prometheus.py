"""PrometheusApi against answers written the way Prometheus writes them (httpx.MockTransport)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from harness.errors import TargetUnreachable, UnexpectedAnswer
from harness.probes.prometheus import (
    PrometheusApi,
    ScrapeTimeout,
    describe_target,
    job_of,
    scrape_started,
    unsettled,
)


def _target(
    job: str, instance: str, health: str = "up", last: str = "", error: str = ""
) -> dict[str, Any]:
    return {
        "labels": {"job": job, "instance": instance},
        "scrapePool": job,
        "scrapeUrl": f"http://{instance}/metrics",
        "health": health,
        "lastError": error,
        "lastScrape": last or "0001-01-01T00:00:00Z",
    }


def _api(answer: Any, status: int = 200, seen: list[httpx.Request] | None = None) -> PrometheusApi:
    def handle(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        body = answer(request) if callable(answer) else answer
        text = body if isinstance(body, str) else json.dumps(body)
        return httpx.Response(status, text=text, headers={"content-type": "application/json"})

    return PrometheusApi("http://prom:9090/", transport=httpx.MockTransport(handle))


def _targets(*found: dict[str, Any]) -> dict[str, Any]:
    return {"status": "success", "data": {"activeTargets": list(found), "droppedTargets": []}}


def test_targets_and_their_description() -> None:
    down = _target("frontend", "frontend:8080", "down", error="connection refused")
    found = _api(_targets(_target("backend", "172.18.0.5:8000"), down)).targets()
    assert [describe_target(t) for t in found] == [
        "backend 172.18.0.5:8000: up",
        "frontend frontend:8080: down (connection refused)",
    ]


def test_query_returns_the_vector_and_sends_the_promql() -> None:
    seen: list[httpx.Request] = []
    vector = [{"metric": {"job": "backend"}, "value": [1700000000.0, "1"]}]
    answer = {"status": "success", "data": {"resultType": "vector", "result": vector}}
    assert _api(answer, seen=seen).query('up{job="backend"}') == vector
    assert seen[0].url.params["query"] == 'up{job="backend"}'
    scalar = {"status": "success", "data": {"resultType": "scalar", "result": [1.0, "2"]}}
    assert _api(scalar).query("1+1") == [{"metric": {}, "value": [1.0, "2"]}]


def test_a_failed_query_is_one_line_naming_prometheus_error() -> None:
    answer = {"status": "error", "errorType": "bad_data", "error": "parse error at char 3"}
    with pytest.raises(UnexpectedAnswer, match="400 parse error at char 3"):
        _api(answer, status=400).query("up{")


@pytest.mark.parametrize(
    "answer", ["<html>nginx</html>", {"status": "success", "data": {"activeTargets": "x"}}]
)
def test_another_shape_is_an_unexpected_answer(answer: Any) -> None:
    with pytest.raises(UnexpectedAnswer, match="GET /api/v1/targets"):
        _api(answer).targets()


def test_ready_and_unreachable() -> None:
    assert _api("Prometheus Server is Ready.").ready()
    assert not _api("Service Unavailable", status=503).ready()

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    api = PrometheusApi("http://prom:9090", transport=httpx.MockTransport(refuse))
    with pytest.raises(TargetUnreachable, match="does not answer GET /-/ready"):
        api.ready()


def test_scrape_started_reads_nanoseconds_and_the_zero_time() -> None:
    assert scrape_started({"lastScrape": "2026-01-02T03:04:05.123456789Z"}) == pytest.approx(
        1767323045.123456
    )
    assert scrape_started({"lastScrape": "2026-01-02T03:04:05.5+01:00"}) == pytest.approx(
        1767319445.5
    )
    assert scrape_started({"lastScrape": "0001-01-01T00:00:00Z"}) is None
    assert scrape_started({}) is None


def test_wait_scraped_after_polls_until_every_target_is_fresh() -> None:
    answers = iter(
        [
            _targets(_target("backend", "a:8000", last="2026-01-02T03:04:05Z")),
            _targets(
                _target("backend", "a:8000", last="2026-01-02T03:04:20Z"),
                _target("backend", "b:8000", last="2026-01-02T03:04:05Z"),
            ),
            _targets(
                _target("backend", "a:8000", last="2026-01-02T03:04:20Z"),
                _target("backend", "b:8000", last="2026-01-02T03:04:21Z"),
                _target("frontend", "f:8080"),  # another job never scraped: not waited for
            ),
        ]
    )
    sleeps: list[float] = []
    api = _api(lambda request: next(answers))
    moment = scrape_started({"lastScrape": "2026-01-02T03:04:10Z"}) or 0.0
    api.wait_scraped_after(moment, clock=lambda: 0.0, sleep=sleeps.append)
    assert len(sleeps) == 2


def test_wait_scraped_after_gives_up_at_the_bound_naming_the_stale_targets() -> None:
    times = iter([0.0, 5.0, 61.0])
    api = _api(_targets(_target("backend", "a:8000", "down", error="refused")))
    with pytest.raises(ScrapeTimeout, match=r"within 60 s .*backend a:8000: down \(refused\)"):
        api.wait_scraped_after(0.0, clock=lambda: next(times), sleep=lambda s: None)


def test_unsettled_waits_for_first_scrapes_jobs_and_a_fresh_look_at_down_targets() -> None:
    since = scrape_started({"lastScrape": "2026-01-02T03:04:10Z"}) or 0.0
    before, after = "2026-01-02T03:04:05Z", "2026-01-02T03:04:12Z"
    up_before = _target("backend", "a:8000", "up", before)
    down_before = _target("frontend", "f:8080", "down", before, "connection refused")
    down_after = _target("frontend", "f:8080", "down", after, "connection refused")
    never = _target("backend", "b:8000", "unknown")
    pending, absent = unsettled([up_before, down_before, never], ["backend", "frontend"], since)
    assert pending == [down_before, never]
    assert absent == []
    assert unsettled([up_before, down_after], ["backend", "frontend", "db"], since) == ([], ["db"])
    assert job_of({"scrapePool": "pool"}) == "pool"
