"""Security Hardening > Rate Limiting: exact budgets per client IP and endpoint, 429 with
Retry-After, window reset, Redis outage.

Each check sends from loopback addresses no other check uses (127.1.W.3, 127.1.W.4, ... with
W the xdist worker) when the target sees client addresses; otherwise (a container stack
behind docker-proxy, where all requests share one address) it takes the stack for itself
(``disruptive``: no other check runs meanwhile) and starts from a fresh window, waiting for
the announced reset when earlier requests are still counted. The window length is the
``*_period_s`` parameter, or the value the target states in ``facts`` (the embedded target
shortens it to keep the gate quick) when the user set none.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from harness.probes import answers
from harness.probes.http import client_for
from harness.probes.ratelimit import (
    Burst,
    burst,
    parse_limit_headers,
    parse_retry_after,
    start_fresh_window,
    wait_for_reset,
)
from harness.report.evidence import Evidence
from harness.targets import Capability, Target

requirement = pytest.mark.requirement
pytestmark = pytest.mark.disruptive  # exact counts need the shared address to ourselves
_addresses = itertools.count(2)
LOGIN_BODY = {"username": "ratelimit-probe", "password": "not-the-password"}


@pytest.fixture
def rl(params: dict[str, Any], target: Target) -> dict[str, Any]:
    """The parameters, with the target's stated periods where the user set none (the
    ``params`` fixture resolves them and records the values applied)."""
    return params


@pytest.fixture
def new_client(target: Target, rl: dict[str, Any]) -> Iterator[Callable[..., httpx.Client]]:
    """Clients from fresh loopback addresses (or plain clients without that capability);
    ``new_client(url, like=other)`` sends to ``url`` from ``other``'s address.

    Without fresh addresses the budget the check spent is everyone's: the check keeps the
    stack until its windows have passed, so the next checks start with a whole budget."""
    opened: dict[httpx.Client, str | None] = {}
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    subnet = (int(worker) if worker.isdigit() else 0) % 256

    def make(url: str | None = None, like: httpx.Client | None = None) -> httpx.Client:
        local = None
        if like is not None:
            local = opened[like]
        elif target.has(Capability.CLIENT_ADDRESSES):
            local = f"127.1.{subnet}.{next(_addresses) % 254 + 1}"
        client = client_for(url or target.url, local_address=local, retry_429=False)
        opened[client] = local
        return client

    yield make
    for client in opened:
        client.close()
    if opened and not target.has(Capability.CLIENT_ADDRESSES):
        time.sleep(max(rl["rate_limit_period_s"], rl["login_rate_limit_period_s"]) + 0.5)


def _get(client: httpx.Client, path: str) -> Callable[[], httpx.Response]:
    return lambda: client.get(path)


def _login(client: httpx.Client, path: str) -> Callable[[], httpx.Response]:
    def send() -> httpx.Response:
        # a login limit cannot be judged on a target without the login endpoint
        response = client.post(path, json=LOGIN_BODY)
        return answers.present(response, "an answer to a login attempt", answers.LOGIN_API)

    return send


def exhaust(
    send: Callable[[], httpx.Response], limit: int, period: float, evidence: Evidence
) -> Burst:
    """From a fresh window, send exactly limit + 1 requests; asserts the boundary."""
    __tracebackhide__ = True
    counted = start_fresh_window(send, limit, cap_s=period + 2)
    began = time.monotonic()
    result = burst(send, limit + 1 - counted)
    took = time.monotonic() - began
    served = counted + result.served_before_limit
    evidence.note("burst", {**result.summary(), "counted_before_burst": counted, "s": took})
    if took >= period:
        pytest.fail(
            f"inconclusive: the burst of {result.sent} requests took {took:.1f} s, not less "
            f"than the {period} s window, so the window may have reset during it"
        )
    assert served == limit, (
        f"{served} requests were served before the first 429, expected exactly {limit}"
        + (" (no 429 at all)" if result.first_limited is None else "")
    )
    assert result.statuses[-1] == 429, f"request {limit + 1} was answered {result.statuses[-1]}"
    return result


@requirement("SEC-RL-DEFAULT-LIMIT")
def test_exactly_the_limit_passes(new_client: Any, rl: dict[str, Any], evidence: Evidence) -> None:
    exhaust(
        _get(new_client(), rl["api_probe_path"]),
        rl["rate_limit_calls"],
        rl["rate_limit_period_s"],
        evidence,
    )


@requirement("SEC-RL-429")
def test_429_has_retry_after_and_limit_headers(
    new_client: Any, rl: dict[str, Any], evidence: Evidence
) -> None:
    limit, period = rl["rate_limit_calls"], rl["rate_limit_period_s"]
    result = exhaust(_get(new_client(), rl["api_probe_path"]), limit, period, evidence)
    refused = result.first_limited
    assert refused is not None
    evidence.exchange(refused)
    retry = parse_retry_after(refused.headers.get("retry-after"))
    assert retry is not None, "the 429 has no valid Retry-After"
    assert 0 < retry <= period, f"Retry-After {retry:g} s is not within the {period} s window"
    for name, response in (("the 429", refused), ("a served response", result.last_served)):
        if response is None:
            continue
        seen = parse_limit_headers(response.headers)
        evidence.note(f"limit headers of {name}", seen.__dict__)
        assert seen.complete, f"{name} lacks rate-limit headers (limit, remaining, reset)"
        assert seen.limit == limit, f"{name} states a limit of {seen.limit}, expected {limit}"
        assert (seen.reset_s or 0) <= period, (
            f"{name} states a reset in {seen.reset_s} s, beyond the {period} s window"
        )
    assert parse_limit_headers(refused.headers).remaining == 0, "the 429 states requests remain"


@requirement("SEC-RL-WINDOW-RESET")
def test_window_resets(new_client: Any, rl: dict[str, Any], evidence: Evidence) -> None:
    period = rl["rate_limit_period_s"]
    send = _get(new_client(), rl["api_probe_path"])
    result = exhaust(send, rl["rate_limit_calls"], period, evidence)
    assert result.first_limited is not None
    waited = wait_for_reset(result.first_limited, cap_s=period + 2)
    evidence.note("waited s", round(waited, 2))
    again = send()
    assert again.status_code != 429, (
        f"still 429 after waiting {waited:.1f} s (the window is {period} s)"
    )


@requirement("SEC-RL-PER-IP")
def test_client_addresses_have_separate_budgets(
    target: Target, new_client: Any, rl: dict[str, Any], evidence: Evidence
) -> None:
    target.require(Capability.CLIENT_ADDRESSES)
    path = rl["api_probe_path"]
    first = new_client()
    exhaust(_get(first, path), rl["rate_limit_calls"], rl["rate_limit_period_s"], evidence)
    other = new_client().get(path)
    evidence.exchange(other)
    assert other.status_code != 429, "a second client address is limited by the first's budget"


@requirement("SEC-RL-XFF")
def test_forwarded_for_does_not_buy_a_fresh_budget(
    new_client: Any, rl: dict[str, Any], evidence: Evidence
) -> None:
    client = new_client()
    path = rl["api_probe_path"]
    exhaust(_get(client, path), rl["rate_limit_calls"], rl["rate_limit_period_s"], evidence)
    spoofed = client.get(path, headers={"X-Forwarded-For": "203.0.113.77"})
    evidence.exchange(spoofed)
    assert spoofed.status_code == 429, (
        f"X-Forwarded-For from an untrusted client reset its budget ({spoofed.status_code})"
    )


@requirement("SEC-RL-LOGIN")
def test_login_has_its_stricter_limit(
    new_client: Any, rl: dict[str, Any], evidence: Evidence
) -> None:
    send = _login(new_client(), rl["login_path"])
    exhaust(send, rl["login_rate_limit_calls"], rl["login_rate_limit_period_s"], evidence)


@requirement("SEC-RL-PER-ENDPOINT")
def test_endpoint_budget_is_separate(
    new_client: Any, rl: dict[str, Any], evidence: Evidence
) -> None:
    client = new_client()
    login = _login(client, rl["login_path"])
    exhaust(login, rl["login_rate_limit_calls"], rl["login_rate_limit_period_s"], evidence)
    ordinary = client.get(rl["api_probe_path"])
    evidence.exchange(ordinary)
    assert ordinary.status_code != 429, "exhausting the login limit also limits other endpoints"


@requirement("SEC-RL-REDIS-SHARED")
def test_replicas_share_one_budget(
    target: Target, new_client: Any, rl: dict[str, Any], evidence: Evidence
) -> None:
    first_url, second_url, *_ = target.require(Capability.REPLICAS)
    limit, path = rl["rate_limit_calls"], rl["api_probe_path"]
    first = new_client(first_url)
    second = new_client(second_url, like=first)  # the same client address
    to_first = _get(first, path)
    counted = start_fresh_window(to_first, limit, cap_s=rl["rate_limit_period_s"] + 2)
    half = burst(to_first, limit // 2 - counted)
    rest = burst(_get(second, path), limit - limit // 2 + 1)
    evidence.note("replicas", [first_url, second_url])
    evidence.note("first replica", half.summary())
    evidence.note("second replica", rest.summary())
    served = counted + half.served_before_limit + rest.served_before_limit
    assert served == limit, (
        f"the two replicas served {served} requests of one client, the limit is {limit}: "
        "the budget is counted per replica"
    )


def _status_or_silence(client: httpx.Client, path: str) -> int | str:
    """The status, or why there was none: a server that drops the connection serves no one,
    which is the claim's failure, not the check's."""
    try:
        return client.get(path).status_code
    except httpx.TransportError as exc:
        return f"no answer ({exc})"


@requirement("SEC-RL-REDIS-DOWN")
def test_redis_outage_behaves_as_configured(
    target: Target, new_client: Any, rl: dict[str, Any], evidence: Evidence
) -> None:
    control = target.require(Capability.CONTROL)
    target.require(Capability.REDIS)
    client, path, mode = new_client(), rl["api_probe_path"], rl["rate_limit_fail_mode"]
    with control.outage("redis"):
        during = [_status_or_silence(client, path) for _ in range(3)]
    evidence.note("statuses while Redis is down", during)
    if mode == "open":
        bad = [s for s in during if not isinstance(s, int) or s >= 500 or s == 429]
        assert not bad, f"fail-open limiter answered {during} while Redis was down"
    else:
        assert all(s == 503 for s in during), f"fail-closed limiter answered {during}, not 503"
    timeout = rl["health_recovery_timeout_s"]
    deadline = time.monotonic() + timeout
    while not parse_limit_headers(client.get(path).headers).complete:
        assert time.monotonic() < deadline, (
            f"rate-limit headers did not return within {timeout} s of Redis returning"
        )
        time.sleep(0.5)
