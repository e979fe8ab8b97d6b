"""Reset headers in every documented form, judged with their resolution, and a limiter's absence
told from a whole budget: tables over the pure probes, no server."""

from __future__ import annotations

from email.utils import formatdate

import httpx
import pytest

from harness.probes.ratelimit import (
    Route,
    announces_limit,
    burst,
    counts_in_fresh_window,
    parse_limit_headers,
    parse_reset,
    parse_retry_after,
    spend,
    within_window,
)

NOW = 1_700_000_000.25  # a quarter past a whole Unix second, as a real clock reads
WINDOW = 60


def _date(offset_s: int) -> str:
    return formatdate(int(NOW) + offset_s, usegmt=True)


# (header, value, the seconds it states, whether that fits a 60 s window); None: unreadable
FORMS: list[tuple[str, str, float | None, bool | None]] = [
    ("X-RateLimit-Reset", "60", 60.0, True),  # delta seconds
    ("X-RateLimit-Reset", "61", 61.0, True),  # a whole second above: within the resolution
    ("X-RateLimit-Reset", "62", 62.0, False),  # beyond it
    ("X-RateLimit-Reset", "0", 0.0, True),
    ("X-RateLimit-Reset", "59.5", 59.5, True),  # some servers send fractions
    # a Unix time (Flask-Limiter): a whole second rounded up reads 60.75 s, within the window
    ("X-RateLimit-Reset", str(int(NOW) + 61), 60.75, True),
    ("X-RateLimit-Reset", str(int(NOW) + 62), 61.75, False),
    ("X-RateLimit-Reset", str(int(NOW) - 5), 0.0, True),  # already passed
    ("X-RateLimit-Reset", "1000000000", 1e9, False),  # the floor itself is still a delta
    ("RateLimit-Reset", "30", 30.0, True),  # IETF draft: delta seconds
    ("RateLimit-Reset", "61", 61.0, True),
    ("RateLimit", '"default";r=0;t=59', 59.0, True),  # IETF structured field
    ("X-RateLimit-Reset", "soon", None, None),
    ("X-RateLimit-Reset", "-3", None, None),
    ("X-RateLimit-Reset", "nan", None, None),
    ("X-RateLimit-Reset", "1e999", None, None),
    ("X-RateLimit-Reset", "", None, None),
]


@pytest.mark.parametrize(("name", "value", "seconds", "fits"), FORMS)
def test_reset_forms(name: str, value: str, seconds: float | None, fits: bool | None) -> None:
    reset = parse_limit_headers({name: value}, now=NOW).reset_s
    if seconds is None:
        assert reset is None
        return
    assert reset == pytest.approx(seconds)
    assert reset is not None
    assert within_window(reset, WINDOW) is fits


RETRY_AFTER: list[tuple[str, float | None, bool | None]] = [
    ("60", 60.0, True),
    ("61", 61.0, True),
    ("62", 62.0, False),
    (_date(61), 60.75, True),  # an HTTP-date has whole seconds too
    (_date(62), 61.75, False),
    (_date(-10), 0.0, True),
    ("tomorrow", None, None),
    ("Mon, 99 Foo 2024 25:61:00 GMT", None, None),
    ("1.5", None, None),  # delta-seconds are whole by the RFC
    ("", None, None),
]


@pytest.mark.parametrize(("value", "seconds", "fits"), RETRY_AFTER)
def test_retry_after_forms(value: str, seconds: float | None, fits: bool | None) -> None:
    wait = parse_retry_after(value, now=NOW)
    if seconds is None:
        assert wait is None
        return
    assert wait == pytest.approx(seconds)
    assert wait is not None
    assert within_window(wait, WINDOW) is fits


def test_the_x_field_wins_over_the_draft_field_only_when_readable() -> None:
    headers = {"X-RateLimit-Reset": "later", "RateLimit-Reset": "12"}
    assert parse_reset(headers["X-RateLimit-Reset"]) is None
    assert parse_limit_headers(headers, now=NOW).reset_s == 12.0


def _answers(status: int, headers: dict[str, str] | None = None) -> httpx.Client:
    transport = httpx.MockTransport(lambda request: httpx.Response(status, headers=headers))
    return httpx.Client(transport=transport, base_url="http://t")


def test_a_whole_budget_without_429_or_fields_is_no_limiter() -> None:
    with _answers(200) as c:
        result = burst(lambda: c.get("/"), 101)
    assert result.served_before_limit == 101
    assert result.unlimited


def test_a_limiter_that_announces_itself_is_not_absent_though_it_never_refused() -> None:
    with _answers(200, {"RateLimit-Policy": '"p";q=200;w=60'}) as c:
        result = burst(lambda: c.get("/"), 101)
    assert result.first_limited is None
    assert not result.unlimited


def test_a_429_is_a_limiter_even_without_fields() -> None:
    with _answers(429) as c:
        assert not burst(lambda: c.get("/"), 3).unlimited


@pytest.mark.parametrize(
    "headers",
    [{"Retry-After": "3"}, {"x-ratelimit-limit": "5"}, {"RATELIMIT": '"p";r=1;t=2'}],
)
def test_any_rate_limit_field_announces_a_limiter(headers: dict[str, str]) -> None:
    assert announces_limit(headers)
    assert not announces_limit({"Content-Type": "text/plain"})


@pytest.mark.parametrize(
    ("status", "headers", "fresh_address", "counts"),
    [
        (200, {"X-RateLimit-Remaining": "99"}, False, True),
        (200, {"X-RateLimit-Remaining": "97"}, True, False),  # others spent part of it
        (200, {}, True, True),  # states nothing, but nobody used this address before
        (200, {}, False, False),  # states nothing on a shared address: wait for the window
        (429, {}, True, False),
    ],
)
def test_first_request_counts_in_a_fresh_window(
    status: int, headers: dict[str, str], fresh_address: bool, counts: bool
) -> None:
    with _answers(status, headers) as c:
        assert counts_in_fresh_window(c.get("/"), 100, fresh_address) is counts


API = Route("GET", "/api/v1/formulas", "api_probe_path")


def test_spending_a_budget_on_no_limiter_says_so_without_waiting() -> None:
    slept: list[float] = []
    with _answers(200) as c:
        spent = spend(
            lambda: c.get("/"), c.get("/"), API, 100, 60, fresh_address=True, sleep=slept.append
        )
    assert slept == []
    assert spent.result.sent == 100  # the first answer counted: 101 in all
    assert spent.no_limiter == (
        "no rate limiter: 101 requests served, no 429 and no RateLimit/X-RateLimit headers"
    )


def test_spending_a_budget_on_a_limiter_finds_no_absence() -> None:
    used = iter(range(1, 1000))

    def limiter(request: httpx.Request) -> httpx.Response:
        n = next(used)
        headers = {"X-RateLimit-Limit": "5", "X-RateLimit-Remaining": str(max(0, 5 - n))}
        return httpx.Response(429 if n > 5 else 200, headers=headers)

    with httpx.Client(transport=httpx.MockTransport(limiter), base_url="http://t") as c:
        spent = spend(lambda: c.get("/"), c.get("/"), API, 5, 60, fresh_address=False)
    assert spent.no_limiter is None
    assert (spent.counted, spent.served, spent.result.statuses[-1]) == (1, 5, 429)


def test_a_route_that_is_not_there_names_the_parameter_to_set() -> None:
    assert Route("POST", "/api/v1/auth/login", "login_path").absent(404) == (
        "POST /api/v1/auth/login answered 404: the target has no such route; "
        "set --param login_path=/your/route"
    )
