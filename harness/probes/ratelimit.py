"""Rate-limit probing: send exactly limit + 1 requests, read the 429 and its headers, wait for
the reset. Pure logic over an ``httpx.Client``; the suites choose clients and addresses."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

RESET_SLACK_S = 0.5
# Retry-After and the Reset headers count whole seconds, and servers round either way
# (Flask-Limiter truncates Retry-After): the window may end up to one second after the value
HEADER_RESOLUTION_S = 1.0
_ITEM = re.compile(r"\b([a-z]+)=(\d+)")


@dataclass(frozen=True)
class LimitHeaders:
    """What a response says about its budget; ``None`` where it says nothing."""

    limit: int | None = None
    remaining: int | None = None
    reset_s: float | None = None  # seconds until the window resets
    window_s: int | None = None  # from RateLimit-Policy w=

    @property
    def complete(self) -> bool:
        return None not in (self.limit, self.remaining, self.reset_s)


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    value = value.strip()
    return int(value) if value.isdigit() else None


def _structured(value: str | None) -> dict[str, int]:
    """The integer parameters of the first item of an IETF RateLimit(-Policy) field."""
    if not value:
        return {}
    first = value.split(",")[0]
    return {key: int(number) for key, number in _ITEM.findall(first)}


# a Reset above this is a Unix time, not a delta: 1e9 s is 2001-09-09, and no window is 31 years
EPOCH_FLOOR = 1e9
# whole-second fields are rounded (often up) by the server: judge them within their resolution
WHOLE_SECOND_TOLERANCE_S = 1.0
LIMIT_HEADERS = (
    "ratelimit",
    "ratelimit-policy",
    "ratelimit-limit",
    "ratelimit-remaining",
    "ratelimit-reset",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
)


def parse_reset(value: str | None, now: float | None = None) -> float | None:
    """Seconds until a window resets from ``X-RateLimit-Reset``/``RateLimit-Reset``: delta
    seconds, or a Unix time when above ``EPOCH_FLOOR``; ``None`` when absent or unreadable."""
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    if not math.isfinite(number) or number < 0:
        return None
    if number > EPOCH_FLOOR:
        return max(0.0, number - (time.time() if now is None else now))
    return number


def parse_limit_headers(headers: Mapping[str, str], now: float | None = None) -> LimitHeaders:
    """X-RateLimit-*, the older draft's RateLimit-Limit/-Remaining/-Reset, or the IETF
    structured ``RateLimit: "p";r=R;t=T`` with ``RateLimit-Policy: "p";q=Q;w=W``."""
    lower = {k.lower(): v for k, v in headers.items()}
    ietf = _structured(lower.get("ratelimit"))
    policy = _structured(lower.get("ratelimit-policy"))
    limit = _int(lower.get("x-ratelimit-limit")) or _int(lower.get("ratelimit-limit"))
    remaining = _int(lower.get("x-ratelimit-remaining"))
    if remaining is None:
        remaining = _int(lower.get("ratelimit-remaining"))
    reset_s = parse_reset(lower.get("x-ratelimit-reset"), now)
    if reset_s is None:
        reset_s = parse_reset(lower.get("ratelimit-reset"), now)
    if reset_s is None and "t" in ietf:
        reset_s = float(ietf["t"])
    limit = limit if limit is not None else policy.get("q")
    remaining = remaining if remaining is not None else ietf.get("r")
    return LimitHeaders(limit, remaining, reset_s, policy.get("w"))


def announces_limit(headers: Mapping[str, str]) -> bool:
    """Whether a response carries any rate-limit field (or Retry-After) at all."""
    lower = {k.lower() for k in headers}
    return any(name in lower for name in (*LIMIT_HEADERS, "retry-after"))


def within_window(reset_s: float, window_s: float) -> bool:
    """A stated reset fits the window, judged with the whole-second resolution of the field."""
    return 0 <= reset_s <= window_s + WHOLE_SECOND_TOLERANCE_S


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait: delta-seconds or an HTTP-date; ``None`` when absent or invalid."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


@dataclass
class Burst:
    """The outcome of sending ``sent`` requests one after another."""

    statuses: list[int] = field(default_factory=list)
    first_limited: httpx.Response | None = None  # the first 429
    last_served: httpx.Response | None = None
    announced: bool = False  # some answer carried a rate-limit field

    @property
    def unlimited(self) -> bool:
        """No 429 and no rate-limit field in any answer: nothing limits this client."""
        return self.first_limited is None and not self.announced

    @property
    def sent(self) -> int:
        return len(self.statuses)

    @property
    def served_before_limit(self) -> int:
        """Requests answered before the first 429 (all of them when none was refused)."""
        return self.statuses.index(429) if 429 in self.statuses else len(self.statuses)

    def summary(self) -> dict[str, Any]:
        counts: dict[int, int] = {}
        for status in self.statuses:
            counts[status] = counts.get(status, 0) + 1
        return {
            "sent": self.sent,
            "served_before_429": self.served_before_limit,
            "by_status": counts,
        }


Send = Callable[[], httpx.Response]


def burst(send: Send, count: int) -> Burst:
    """Send exactly ``count`` requests; remember the last served and the first refused."""
    result = Burst()
    for _ in range(count):
        response = send()
        result.statuses.append(response.status_code)
        result.announced = result.announced or announces_limit(response.headers)
        if response.status_code == 429:
            if result.first_limited is None:
                result.first_limited = response
        else:
            result.last_served = response
    return result


def wait_hint_s(response: httpx.Response) -> float | None:
    """How long ``response`` tells the client to wait: Retry-After, else the Reset header."""
    retry = parse_retry_after(response.headers.get("retry-after"))
    if retry is not None:
        return retry
    return parse_limit_headers(response.headers).reset_s


def wait_for_reset(
    response: httpx.Response, cap_s: float, sleep: Callable[[float], None] = time.sleep
) -> float:
    """Sleep as long as ``response`` announces, plus the header's resolution and some slack,
    never longer than ``cap_s``; returns the seconds slept."""
    hint = wait_hint_s(response)
    wait = cap_s if hint is None else min(hint + HEADER_RESOLUTION_S + RESET_SLACK_S, cap_s)
    sleep(wait)
    return wait


def counts_in_fresh_window(response: httpx.Response, limit: int, fresh_address: bool) -> bool:
    """Whether ``response`` was the first request of a fresh window for its client: its
    Remaining says so, or (stating none) it came from an address never used before."""
    if response.status_code == 429:
        return False
    remaining = parse_limit_headers(response.headers).remaining
    if remaining is not None:
        return remaining == limit - 1
    return fresh_address


def start_fresh_window(
    send: Send,
    limit: int,
    cap_s: float,
    sleep: Callable[[float], None] = time.sleep,
    *,
    fresh_address: bool = False,
    first: httpx.Response | None = None,
) -> int:
    """Make sure the next requests start a fresh window for this client.

    Uses ``first`` (or sends one request): if it was the first of a window it counts and 1 is
    returned; otherwise (requests of others share the address) waits for the announced reset
    and returns 0."""
    response = first if first is not None else send()
    if counts_in_fresh_window(response, limit, fresh_address):
        return 1
    wait_for_reset(response, cap_s, sleep)
    return 0


@dataclass(frozen=True)
class Route:
    """A probed route, what its requests are called, and the parameter that names it."""

    method: str
    path: str
    param: str
    requests: str = "requests"

    def absent(self, status: int) -> str:
        return (
            f"{self.method} {self.path} answered {status}: the target has no such route; "
            f"set --param {self.param}=/your/route"
        )


def no_limiter(served: int, requests: str = "requests") -> str:
    return (
        f"no rate limiter: {served} {requests} served, no 429 and no RateLimit/X-RateLimit headers"
    )


@dataclass
class Spent:
    """A whole budget spent from a fresh window: ``counted`` requests before the burst (the
    first, when it opened the window), then the burst, which took ``took_s``."""

    route: Route
    counted: int
    result: Burst
    took_s: float

    @property
    def served(self) -> int:
        return self.counted + self.result.served_before_limit

    @property
    def no_limiter(self) -> str | None:
        """Why nothing limits this client on this route, or ``None`` when something does."""
        if not self.result.unlimited:
            return None
        return no_limiter(self.served, self.route.requests)

    def summary(self) -> dict[str, Any]:
        return {
            **self.result.summary(),
            "counted_before_burst": self.counted,
            "s": round(self.took_s, 2),
        }


def spend(
    send: Send,
    first: httpx.Response,
    route: Route,
    limit: int,
    period: float,
    *,
    fresh_address: bool,
    sleep: Callable[[float], None] = time.sleep,
) -> Spent:
    """After ``first`` (an answer of the route), send until limit + 1 requests of one fresh
    window were sent; waits for the announced reset first when ``first`` did not open one."""
    counted = start_fresh_window(
        send, limit, period + 2, sleep, fresh_address=fresh_address, first=first
    )
    began = time.monotonic()
    result = burst(send, limit + 1 - counted)
    took = time.monotonic() - began
    result.announced = result.announced or announces_limit(first.headers)
    return Spent(route, counted, result, took)
