"""Rate-limit probing: send exactly limit + 1 requests, read the 429 and its headers, wait for
the reset. Pure logic over an ``httpx.Client``; the suites choose clients and addresses."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

RESET_SLACK_S = 0.5
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


def parse_limit_headers(headers: Mapping[str, str], now: float | None = None) -> LimitHeaders:
    """X-RateLimit-*, the older draft's RateLimit-Limit/-Remaining/-Reset, or the IETF
    structured ``RateLimit: "p";r=R;t=T`` with ``RateLimit-Policy: "p";q=Q;w=W``.

    A Reset larger than ten years of seconds is read as a Unix time."""
    lower = {k.lower(): v for k, v in headers.items()}
    ietf = _structured(lower.get("ratelimit"))
    policy = _structured(lower.get("ratelimit-policy"))
    limit = _int(lower.get("x-ratelimit-limit")) or _int(lower.get("ratelimit-limit"))
    remaining = _int(lower.get("x-ratelimit-remaining"))
    if remaining is None:
        remaining = _int(lower.get("ratelimit-remaining"))
    reset = _int(lower.get("x-ratelimit-reset"))
    if reset is None:
        reset = _int(lower.get("ratelimit-reset"))
    limit = limit if limit is not None else policy.get("q")
    remaining = remaining if remaining is not None else ietf.get("r")
    reset = reset if reset is not None else ietf.get("t")
    reset_s: float | None = None
    if reset is not None:
        reset_s = float(reset)
        if reset_s > 10 * 365 * 86400:  # a Unix time
            reset_s = max(0.0, reset_s - (time.time() if now is None else now))
    return LimitHeaders(limit, remaining, reset_s, policy.get("w"))


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait: delta-seconds or an HTTP-date; ``None`` when absent or invalid."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


@dataclass
class Burst:
    """The outcome of sending ``sent`` requests one after another."""

    statuses: list[int] = field(default_factory=list)
    first_limited: httpx.Response | None = None  # the first 429
    last_served: httpx.Response | None = None

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
    """Sleep as long as ``response`` announces (plus slack), never longer than ``cap_s``;
    returns the seconds slept."""
    hint = wait_hint_s(response)
    wait = cap_s if hint is None else min(hint + RESET_SLACK_S, cap_s)
    sleep(wait)
    return wait


def start_fresh_window(
    send: Send, limit: int, cap_s: float, sleep: Callable[[float], None] = time.sleep
) -> int:
    """Make sure the next requests start a fresh window for this client.

    Sends one request: if it was the first of a window (Remaining = limit - 1) it counts and
    1 is returned; otherwise (requests of others share the address) waits for the announced
    reset and returns 0."""
    response = send()
    seen = parse_limit_headers(response.headers)
    if response.status_code != 429 and seen.remaining == limit - 1:
        return 1
    wait_for_reset(response, cap_s, sleep)
    return 0
