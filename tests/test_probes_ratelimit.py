"""Rate-limit probing against an in-process fake limiter (httpx.MockTransport)."""

from __future__ import annotations

import itertools
from email.utils import formatdate

import httpx
import pytest

from harness.probes import http as http_probe
from harness.probes.http import RetryAfter429, next_loopback_address
from harness.probes.ratelimit import (
    burst,
    parse_limit_headers,
    parse_retry_after,
    start_fresh_window,
    wait_for_reset,
)


@pytest.fixture(autouse=True)
def _no_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http_probe, "_PAUSED_UNTIL", {})


class FakeLimiter:
    """A fixed-window limiter: ``limit`` requests, then 429 until ``reset()``."""

    def __init__(self, limit: int, used: int = 0, retry_after: str | None = "7") -> None:
        self.limit, self.used, self.retry_after = limit, used, retry_after
        self.requests = 0

    def reset(self) -> None:
        self.used = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        self.used += 1
        remaining = max(0, self.limit - self.used)
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": "7",
        }
        if self.used > self.limit:
            if self.retry_after is not None:
                headers["Retry-After"] = self.retry_after
            return httpx.Response(429, headers=headers)
        return httpx.Response(200, headers=headers)


def client(limiter: FakeLimiter) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(limiter), base_url="http://t")


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "3", "X-RateLimit-Reset": "9"},
            (100, 3, 9.0, None),
        ),
        (
            {"RateLimit-Limit": "5", "RateLimit-Remaining": "0", "RateLimit-Reset": "60"},
            (5, 0, 60.0, None),
        ),
        (
            {"RateLimit": '"default";r=4;t=12', "RateLimit-Policy": '"default";q=10;w=60'},
            (10, 4, 12.0, 60),
        ),
        ({"x-ratelimit-limit": "7"}, (7, None, None, None)),
        ({"X-RateLimit-Limit": "ten"}, (None, None, None, None)),
        ({}, (None, None, None, None)),
    ],
)
def test_parse_limit_headers(
    headers: dict[str, str], expected: tuple[int | None, int | None, float | None, int | None]
) -> None:
    seen = parse_limit_headers(headers)
    assert (seen.limit, seen.remaining, seen.reset_s, seen.window_s) == expected


def test_reset_given_as_unix_time_is_read_as_seconds_from_now() -> None:
    seen = parse_limit_headers({"X-RateLimit-Reset": "2000000030"}, now=2_000_000_000)
    assert seen.reset_s == 30.0
    assert not seen.complete


def test_parse_retry_after() -> None:
    assert parse_retry_after("42") == 42.0
    assert parse_retry_after(" 0 ") == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("-3") is None
    date = formatdate(1_000_000_060, usegmt=True)
    assert parse_retry_after(date, now=1_000_000_000) == pytest.approx(60.0)


def test_burst_finds_the_boundary_and_sends_exactly_count() -> None:
    limiter = FakeLimiter(limit=5)
    with client(limiter) as c:
        result = burst(lambda: c.get("/"), 6)
    assert limiter.requests == 6
    assert result.served_before_limit == 5
    assert result.first_limited is not None
    assert result.first_limited.headers["retry-after"] == "7"
    assert result.summary() == {"sent": 6, "served_before_429": 5, "by_status": {200: 5, 429: 1}}


def test_burst_off_by_one_shows_no_429() -> None:
    limiter = FakeLimiter(limit=6)
    with client(limiter) as c:
        result = burst(lambda: c.get("/"), 6)
    assert result.served_before_limit == 6
    assert result.first_limited is None


def test_fresh_window_counts_the_first_request_of_a_window() -> None:
    slept: list[float] = []
    limiter = FakeLimiter(limit=5)
    with client(limiter) as c:
        assert start_fresh_window(lambda: c.get("/"), 5, cap_s=60, sleep=slept.append) == 1
    assert slept == []


def test_fresh_window_waits_when_others_spent_part_of_the_budget() -> None:
    slept: list[float] = []
    limiter = FakeLimiter(limit=5, used=2)
    with client(limiter) as c:
        assert start_fresh_window(lambda: c.get("/"), 5, cap_s=60, sleep=slept.append) == 0
    assert slept == [8.5]  # the announced reset, its one-second resolution and slack


def test_wait_for_reset_honours_retry_after_with_a_cap() -> None:
    slept: list[float] = []
    assert (
        wait_for_reset(httpx.Response(429, headers={"Retry-After": "3"}), 10, slept.append) == 4.5
    )
    assert (
        wait_for_reset(httpx.Response(429, headers={"Retry-After": "999"}), 10, slept.append) == 10
    )
    assert wait_for_reset(httpx.Response(429), 10, slept.append) == 10  # nothing announced
    assert slept == [4.5, 10, 10]  # a whole-second Retry-After may end a second later


def test_retry_transport_repeats_a_429_after_retry_after() -> None:
    limiter = FakeLimiter(limit=1, used=1, retry_after="2")
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        limiter.reset()

    transport = RetryAfter429(httpx.MockTransport(limiter), sleep=sleep)
    with httpx.Client(transport=transport, base_url="http://t") as c:
        assert c.post("/", content=b"body").status_code == 200
    assert slept == [pytest.approx(2.2)]
    assert limiter.requests == 2


def test_retry_transport_gives_up_after_its_retries_and_caps_the_wait() -> None:
    limiter = FakeLimiter(limit=0, retry_after="600")
    slept: list[float] = []
    transport = RetryAfter429(httpx.MockTransport(limiter), max_wait_s=5, sleep=slept.append)
    with httpx.Client(transport=transport, base_url="http://t") as c:
        assert c.get("/").status_code == 429
    assert slept == [5, 5]
    assert limiter.requests == 3


def test_retry_transport_waits_for_the_reset_once_the_budget_is_spent() -> None:
    limiter = FakeLimiter(limit=2)
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        limiter.reset()

    transport = RetryAfter429(httpx.MockTransport(limiter), sleep=sleep, source="127.0.0.9")
    with httpx.Client(transport=transport, base_url="http://t") as c:
        statuses = [c.get("/").status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    assert limiter.requests == 3  # no 429 spent: the third request waited for the reset
    assert slept == [pytest.approx(7.2, abs=0.1)]


def test_loopback_addresses_are_distinct_per_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: set[str] = set()
    for worker in range(4):
        monkeypatch.setattr(http_probe, "_loopback_counter", itertools.count())
        env = {"PYTEST_XDIST_WORKER": f"gw{worker}", "PYTEST_XDIST_WORKER_COUNT": "4"}
        mine = {next_loopback_address(env) for _ in range(10)}
        assert len(mine) == 10
        assert not mine & seen
        seen |= mine
    assert all(10 <= int(a.rsplit(".", 1)[1]) <= 250 for a in seen)
    monkeypatch.setattr(http_probe, "_loopback_counter", itertools.count())
    assert next_loopback_address({}) == "127.0.0.10"
