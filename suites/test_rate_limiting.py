"""Security Hardening > Rate Limiting: exact budgets per client IP and endpoint, 429 with
Retry-After, window reset, Redis outage.

Each check sends from loopback addresses no other check uses (127.1.W.3, 127.1.W.4, ... with
W the xdist worker) when the target sees client addresses; otherwise (a user's image behind
docker-proxy, where all requests share one address) it takes the stack for itself
(``disruptive``: no other check runs meanwhile) and starts from a fresh window, waiting for
the announced reset when earlier requests are still counted. The window length is the
``*_period_s`` parameter, or the value the target states in ``facts`` (the embedded target
shortens it to keep the gate quick) when the user set none.

A route the target does not have (404, 405, 501) skips the check with the parameter to set. A
whole budget served with no 429 and no rate-limit field means there is no limiter: the root
check (SEC-RL-DEFAULT-LIMIT, SEC-RL-LOGIN for the login) fails, the checks that need a limiter
to judge anything are ``blocked`` by it, and no check waits for a window that does not exist.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, NoReturn

import httpx
import pytest

from harness.probes import answers
from harness.probes.http import client_for
from harness.probes.ratelimit import (
    Burst,
    Route,
    burst,
    no_limiter,
    parse_limit_headers,
    parse_retry_after,
    spend,
    start_fresh_window,
    wait_for_reset,
    within_window,
)
from harness.report.console import say
from harness.report.evidence import Evidence
from harness.targets import Capability, Target

requirement = pytest.mark.requirement
# exact counts need the shared address to ourselves; under xdist every rate-limit check runs
# in one worker, so a route found unlimited is spent once per gate and window waits never overlap
pytestmark = [pytest.mark.disruptive, pytest.mark.xdist_group("ratelimit")]
_addresses = itertools.count(2)
LOGIN_BODY = {"username": "ratelimit-probe", "password": "not-the-password"}
DEFAULT, LOGIN = "SEC-RL-DEFAULT-LIMIT", "SEC-RL-LOGIN"


def _say_and_sleep(config: pytest.Config) -> Callable[[float], None]:
    """A window wait, said aloud on the console: a silent minute looks like a hang."""

    def wait(seconds: float) -> None:
        say(config, f"rate limiting: waiting {seconds:.1f} s for a window to reset")
        time.sleep(seconds)

    return wait


@pytest.fixture(scope="session")
def unlimited_routes() -> dict[tuple[str, str], str]:
    """(target URL, path) -> why nothing limits it, from the first check of this worker that
    spent a whole budget there; later checks conclude from it without spending another."""
    return {}


@dataclass
class Spender:
    """Spends budgets for one check and remembers what it needs afterwards."""

    target: Target
    evidence: Evidence
    unlimited: dict[tuple[str, str], str]
    sleep: Callable[[float], None] = time.sleep
    cooldown: httpx.Response | None = None  # the last answer of a spent, limited budget

    def unlimited_found(self, reason: str, root: str, is_root: bool) -> NoReturn:
        __tracebackhide__ = True
        if is_root:
            pytest.fail(reason, pytrace=False)
        self.evidence.blocked_by(root, reason)

    def concluded(self, path: str, root: str) -> None:
        """Blocked at once when an earlier check of this process found no limiter on ``path``."""
        reason = self.unlimited.get((self.target.url, path))
        if reason is not None:
            self.evidence.blocked_by(root, reason)

    def exhaust(
        self,
        send: Callable[[], httpx.Response],
        route: Route,
        limit: int,
        period: float,
        *,
        root: str,
        is_root: bool = False,
    ) -> Burst:
        """From a fresh window, send exactly limit + 1 requests; asserts the boundary."""
        __tracebackhide__ = True
        key = (self.target.url, route.path)
        if key in self.unlimited:
            self.evidence.note("concluded from an earlier check of this run", self.unlimited[key])
            self.unlimited_found(self.unlimited[key], root, is_root)
        first = send()
        if first.status_code in answers.ABSENT:
            self.evidence.exchange(first)
            pytest.skip(route.absent(first.status_code))
        fresh = self.target.has(Capability.CLIENT_ADDRESSES)
        spent = spend(send, first, route, limit, period, fresh_address=fresh, sleep=self.sleep)
        self.evidence.note("burst", spent.summary())
        if spent.no_limiter is not None:
            self.unlimited[key] = spent.no_limiter
            self.unlimited_found(spent.no_limiter, root, is_root)
        result, took, served = spent.result, spent.took_s, spent.served
        self.cooldown = result.first_limited or result.last_served
        if took >= period:
            pytest.fail(
                f"inconclusive: the burst of {result.sent} requests took {took:.1f} s, not "
                f"less than the {period} s window, so the window may have reset during it"
            )
        assert served == limit, (
            f"{served} {route.requests} were served before the first 429, expected exactly "
            f"{limit}" + (" (no 429 at all)" if result.first_limited is None else "")
        )
        last = result.statuses[-1]
        assert last == 429, f"request {limit + 1} was answered {last}"
        return result


@pytest.fixture
def rl(params: dict[str, Any], target: Target) -> dict[str, Any]:
    """The parameters, with the target's stated periods where the user set none (the
    ``params`` fixture resolves them and records the values applied)."""
    return params


@pytest.fixture
def spender(
    pytestconfig: pytest.Config,
    target: Target,
    evidence: Evidence,
    unlimited_routes: dict[tuple[str, str], str],
) -> Spender:
    return Spender(target, evidence, unlimited_routes, _say_and_sleep(pytestconfig))


@pytest.fixture
def new_client(
    target: Target, rl: dict[str, Any], spender: Spender
) -> Iterator[Callable[..., httpx.Client]]:
    """Clients from fresh loopback addresses (or plain clients without that capability);
    ``new_client(url, like=other)`` sends to ``url`` from ``other``'s address.

    Without fresh addresses the budget the check spent is everyone's: the check keeps the
    stack until the window it spent has passed (as long as the target says, at most the
    period), so the next checks start with a whole budget."""
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
    spent = spender.cooldown
    if spent is not None and not target.has(Capability.CLIENT_ADDRESSES):
        period = max(rl["rate_limit_period_s"], rl["login_rate_limit_period_s"])
        wait_for_reset(spent, cap_s=period + 0.5, sleep=spender.sleep)


def _api(rl: dict[str, Any]) -> Route:
    return Route("GET", rl["api_probe_path"], "api_probe_path")


def _login_route(rl: dict[str, Any]) -> Route:
    return Route("POST", rl["login_path"], "login_path", "login attempts")


def _get(client: httpx.Client, path: str) -> Callable[[], httpx.Response]:
    return lambda: client.get(path)


def _login(client: httpx.Client, path: str) -> Callable[[], httpx.Response]:
    return lambda: client.post(path, json=LOGIN_BODY)


@requirement("SEC-RL-DEFAULT-LIMIT")
def test_exactly_the_limit_passes(
    new_client: Any, spender: Spender, rl: dict[str, Any], evidence: Evidence
) -> None:
    client, route = new_client(), _api(rl)
    limit = rl["rate_limit_calls"]
    send = _get(client, route.path)
    spender.exhaust(send, route, limit, rl["rate_limit_period_s"], root=DEFAULT, is_root=True)
    # per client IP: the spent budget must limit this client on the other routes too
    for path in dict.fromkeys((rl["health_path"], "/")):
        if path == route.path:
            continue
        other = client.get(path)
        evidence.exchange(other)
        if other.status_code in answers.ABSENT:
            continue  # not a route of the target: it proves nothing either way
        assert other.status_code == 429, (
            f"the limit is per route, not per client IP: after {limit} requests to "
            f"{route.path} the same address was still served GET {path} ({other.status_code})"
        )
        return
    evidence.note("per client across routes", "no other route found to probe")


@requirement("SEC-RL-429")
def test_429_has_retry_after_and_limit_headers(
    new_client: Any, spender: Spender, rl: dict[str, Any], evidence: Evidence
) -> None:
    limit, period, route = rl["rate_limit_calls"], rl["rate_limit_period_s"], _api(rl)
    result = spender.exhaust(_get(new_client(), route.path), route, limit, period, root=DEFAULT)
    refused = result.first_limited
    assert refused is not None
    evidence.exchange(refused)
    retry = parse_retry_after(refused.headers.get("retry-after"))
    assert retry is not None, (
        f"the 429 has no valid Retry-After ({refused.headers.get('retry-after')!r})"
    )
    assert retry > 0, f"Retry-After {retry:g} s asks for no wait at all"
    assert within_window(retry, period), (
        f"Retry-After {retry:g} s is not within the {period} s window"
    )
    for name, response in (("the 429", refused), ("a served response", result.last_served)):
        if response is None:
            continue
        seen = parse_limit_headers(response.headers)
        evidence.note(f"limit headers of {name}", seen.__dict__)
        assert seen.complete, f"{name} lacks rate-limit headers (limit, remaining, reset)"
        assert seen.limit == limit, f"{name} states a limit of {seen.limit}, expected {limit}"
        reset = seen.reset_s or 0.0
        assert within_window(reset, period), (
            f"{name} states a reset in {reset:.2f} s, beyond the {period} s window "
            "(whole-second fields are allowed 1 s)"
        )
    assert parse_limit_headers(refused.headers).remaining == 0, "the 429 states requests remain"


@requirement("SEC-RL-WINDOW-RESET")
def test_window_resets(
    new_client: Any, spender: Spender, rl: dict[str, Any], evidence: Evidence
) -> None:
    period, route = rl["rate_limit_period_s"], _api(rl)
    send = _get(new_client(), route.path)
    result = spender.exhaust(send, route, rl["rate_limit_calls"], period, root=DEFAULT)
    assert result.first_limited is not None
    waited = wait_for_reset(result.first_limited, cap_s=period + 2, sleep=spender.sleep)
    evidence.note("waited s", round(waited, 2))
    again = send()
    assert again.status_code != 429, (
        f"still 429 after waiting {waited:.1f} s (the window is {period} s)"
    )


@requirement("SEC-RL-PER-IP")
def test_client_addresses_have_separate_budgets(
    target: Target, new_client: Any, spender: Spender, rl: dict[str, Any], evidence: Evidence
) -> None:
    target.require(Capability.CLIENT_ADDRESSES)
    route = _api(rl)
    first = new_client()
    limit, period = rl["rate_limit_calls"], rl["rate_limit_period_s"]
    spender.exhaust(_get(first, route.path), route, limit, period, root=DEFAULT)
    other = new_client().get(route.path)
    evidence.exchange(other)
    assert other.status_code != 429, "a second client address is limited by the first's budget"


@requirement("SEC-RL-XFF")
def test_forwarded_for_does_not_buy_a_fresh_budget(
    target: Target, new_client: Any, spender: Spender, rl: dict[str, Any], evidence: Evidence
) -> None:
    # from a peer the deployment does not trust as a proxy (a relay container on a stack)
    client, route = new_client(target.untrusted_url(target.url)), _api(rl)
    limit, period = rl["rate_limit_calls"], rl["rate_limit_period_s"]
    spender.exhaust(_get(client, route.path), route, limit, period, root=DEFAULT)
    spoofed = client.get(route.path, headers={"X-Forwarded-For": "203.0.113.77"})
    evidence.exchange(spoofed)
    assert spoofed.status_code == 429, (
        f"X-Forwarded-For from an untrusted client reset its budget ({spoofed.status_code})"
    )


@requirement("SEC-RL-LOGIN")
def test_login_has_its_stricter_limit(
    new_client: Any, spender: Spender, rl: dict[str, Any]
) -> None:
    route = _login_route(rl)
    limit, period = rl["login_rate_limit_calls"], rl["login_rate_limit_period_s"]
    send = _login(new_client(), route.path)
    spender.exhaust(send, route, limit, period, root=LOGIN, is_root=True)


@requirement("SEC-RL-PER-ENDPOINT")
def test_endpoint_budget_is_separate(
    new_client: Any, spender: Spender, rl: dict[str, Any], evidence: Evidence
) -> None:
    client, route = new_client(), _login_route(rl)
    limit, period = rl["login_rate_limit_calls"], rl["login_rate_limit_period_s"]
    spender.exhaust(_login(client, route.path), route, limit, period, root=LOGIN)
    ordinary = client.get(rl["api_probe_path"])
    evidence.exchange(ordinary)
    assert ordinary.status_code != 429, "exhausting the login limit also limits other endpoints"


@requirement("SEC-RL-REDIS-SHARED")
def test_replicas_share_one_budget(
    target: Target, new_client: Any, spender: Spender, rl: dict[str, Any], evidence: Evidence
) -> None:
    first_url, second_url, *_ = target.require(Capability.REPLICAS)
    limit, path = rl["rate_limit_calls"], rl["api_probe_path"]
    spender.concluded(path, DEFAULT)
    first = new_client(first_url)
    second = new_client(second_url, like=first)  # the same client address
    to_first = _get(first, path)
    counted = start_fresh_window(to_first, limit, rl["rate_limit_period_s"] + 2, spender.sleep)
    half = burst(to_first, limit // 2 - counted)
    rest = burst(_get(second, path), limit - limit // 2 + 1)
    spender.cooldown = rest.first_limited or rest.last_served
    evidence.note("replicas", [first_url, second_url])
    evidence.note("first replica", half.summary())
    evidence.note("second replica", rest.summary())
    served = counted + half.served_before_limit + rest.served_before_limit
    if half.unlimited and rest.unlimited:
        evidence.blocked_by(DEFAULT, no_limiter(served))
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
    target: Target,
    new_client: Any,
    spender: Spender,
    rl: dict[str, Any],
    evidence: Evidence,
) -> None:
    control = target.require(Capability.CONTROL)
    target.require(Capability.REDIS)
    spender.concluded(rl["api_probe_path"], DEFAULT)  # no limiter: no outage of one to judge
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
