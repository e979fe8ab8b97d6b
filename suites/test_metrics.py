"""Monitoring > Prometheus > Metrics Collected: the backend's metrics tell the truth.

Each check scrapes the metrics path, sends traffic whose routes and statuses it knows,
scrapes again and compares: the request counter must move by exactly the requests sent, per
route template, the error counter by the failing ones, the latency histogram's count by all.
Counting is exact only when nothing else talks to the backend meanwhile: on a shared stack
these checks hold its lock exclusively (``disruptive``), and they scrape the backend they
sent to. Metric names are parameters, for APIs whose instrumentation names them otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from harness.errors import UnexpectedAnswer
from harness.probes import answers
from harness.probes.http import client_for, next_loopback_address
from harness.probes.logins import login
from harness.probes.metrics import MissingMetric, Scrape, moved, rise, status_class
from harness.probes.metrics_traffic import (
    ScrapeFailed,
    Traffic,
    create_formula,
    item_path,
    judge_routes,
    scrape,
    send_reads,
)
from harness.report.evidence import Evidence
from harness.targets import Capability, Target
from harness.targets.accounts import new_username, user_account

requirement = pytest.mark.requirement
needs_path = pytest.mark.needs_path
# exact counts: no other check's requests may reach the backend meanwhile
exclusive = pytest.mark.disruptive
ENDPOINT = "MON-METRICS-ENDPOINT"


@pytest.fixture
def client(target: Target, evidence: Evidence) -> Iterator[httpx.Client]:
    """A client that sees every answer (429s are counted by the target too, so no retries)."""
    local = next_loopback_address() if target.has(Capability.CLIENT_ADDRESSES) else None
    with client_for(target.url, local_address=local, retry_429=False) as opened:
        yield opened


def _scrape(client: httpx.Client, params: dict[str, Any], evidence: Evidence) -> Scrape:
    try:
        return scrape(client, params["metrics_path"])
    except ScrapeFailed as exc:
        evidence.blocked_by(ENDPOINT, str(exc))


def _traffic(
    client: httpx.Client, params: dict[str, Any], evidence: Evidence, error_probe: str = ""
) -> tuple[Scrape, Traffic, Scrape]:
    """Scrape, the known reads (and a request of ``error_probe``, a 5xx on demand), scrape."""
    path = params["api_probe_path"]
    _scrape(client, params, evidence)  # without metrics the API's shape does not matter
    ident = create_formula(client, path, "traffic")
    before = _scrape(client, params, evidence)
    traffic = send_reads(client, path, ident)
    if error_probe:
        traffic.answered["probe", client.get(error_probe).status_code] += 1
    after = _scrape(client, params, evidence)
    client.delete(item_path(path, ident))
    evidence.note("traffic sent", traffic.to_json())
    return before, traffic, after


def _by_route(
    before: Scrape, after: Scrape, name: str, route_label: str, evidence: Evidence
) -> dict[str, float]:
    """How far ``name``'s GET series moved per route label, with before/after values."""
    after.require(name)
    if route_label not in after.label_names(name):
        raise MissingMetric(name, f" labelled {route_label!r} (set --param route_label=...)")
    start = before.totals(name, (route_label, "method"))
    end = after.totals(name, (route_label, "method"))
    moves = moved(before, after, name, (route_label, "method"))
    evidence.note(
        f"{name} per route (before -> after)",
        {f"{m} {r}": f"{start.get((r, m), 0):g} -> {end[(r, m)]:g}" for r, m in moves},
    )
    return {route: change for (route, method), change in moves.items() if method in ("GET", "")}


@requirement(ENDPOINT)
def test_metrics_endpoint_serves_prometheus_text(
    client: httpx.Client, params: dict[str, Any], evidence: Evidence
) -> None:
    path = params["metrics_path"]
    try:
        found = scrape(client, path)
    except ScrapeFailed as exc:
        if exc.absent:  # another path may hold them: not judged on a 404
            pytest.skip(str(exc))
        pytest.fail(str(exc))
    evidence.note("series", len(found.samples))
    assert found.samples, f"GET {path} answered the Prometheus format without one sample"


@requirement("MON-METRIC-REQUESTS")
@needs_path("api_probe_path")
@exclusive
def test_request_counter_moves_by_the_requests_sent(
    client: httpx.Client, params: dict[str, Any], evidence: Evidence
) -> None:
    name = params["requests_metric"]
    before, traffic, after = _traffic(client, params, evidence)
    moves = _by_route(before, after, name, params["route_label"], evidence)
    problems = judge_routes(moves, traffic, name)
    if "status" in after.label_names(name):
        route_label = params["route_label"]
        statuses: dict[str, float] = {}
        for (route, status), n in moved(before, after, name, (route_label, "status")).items():
            if traffic.covers(route):
                statuses[status] = statuses.get(status, 0) + n
        exact, classes = traffic.by_status(), traffic.by_status(classes=True)
        if statuses not in (exact, classes):
            problems.append(f"{name} by status moved {statuses} for answers {exact}")
    assert not problems, "; ".join(problems)


@requirement("MON-METRIC-LATENCY")
@needs_path("api_probe_path")
@exclusive
def test_latency_histogram_counts_every_request_at_the_targets(
    client: httpx.Client, params: dict[str, Any], evidence: Evidence
) -> None:
    name = params["latency_metric"]
    before, traffic, after = _traffic(client, params, evidence)
    targets = {params[key] / 1000 for key in ("p50_ms", "p95_ms", "p99_ms")}
    bounds = after.bucket_bounds(name)
    evidence.note("bucket bounds (s)", sorted(bounds))
    absent = sorted(t for t in targets if not any(math.isclose(t, b) for b in bounds))
    moves = _by_route(before, after, f"{name}_count", params["route_label"], evidence)
    problems = judge_routes(moves, traffic, f"{name}_count")
    if absent:
        problems.append(
            f"{name} has no bucket bound at the targets {', '.join(f'{t:g} s' for t in absent)}:"
            " the share of requests under a target cannot be read exactly"
        )
    assert not problems, "; ".join(problems)


@requirement("MON-METRIC-ERRORS")
@needs_path("api_probe_path")
@exclusive
def test_error_counter_moves_by_the_failing_requests(
    client: httpx.Client, params: dict[str, Any], evidence: Evidence
) -> None:
    name = params["errors_metric"]
    # a 5xx on demand where the target offers one; without it the 4xx class is judged
    error_probe = params.get("error_probe_path") or ""
    before, traffic, after = _traffic(client, params, evidence, error_probe)
    after.require(name)
    expected = traffic.error_classes()
    assert expected, "none of the reads of missing formulas failed: no error to count"
    labels = after.label_names(name)
    label = next((key for key in ("status_class", "status", "code") if key in labels), None)
    if label is None:
        raise MissingMetric(name, " labelled by status or status_class")
    changes = {value: n for (value,), n in moved(before, after, name, (label,)).items()}
    by_class: dict[str, float] = {}
    for value, n in changes.items():
        by_class[status_class(value)] = by_class.get(status_class(value), 0) + n
    evidence.note(f"{name} moved by {label}", changes)
    evidence.note("errors answered", expected)
    assert by_class == expected, (
        f"{name} moved by {by_class or 'nothing'} while the target answered errors {expected}"
    )


@requirement("MON-METRIC-RESOURCES")
def test_process_cpu_and_memory_are_exported(
    client: httpx.Client, params: dict[str, Any], evidence: Evidence
) -> None:
    found = _scrape(client, params, evidence)
    cpu, memory = params["cpu_metric"], params["memory_metric"]
    cpu_s, memory_b = found.value(cpu), found.value(memory)
    evidence.note("values", {cpu: cpu_s, memory: memory_b})
    assert cpu_s > 0, f"{cpu} is {cpu_s:g}: a serving backend has used CPU"
    # a Python web backend holds more than 1 MiB, and a reading above 1 TiB is a unit mistake
    assert 2**20 < memory_b < 2**40, f"{memory} is {memory_b:g} bytes, not a process's memory"


@requirement("MON-METRIC-DB-CONNECTIONS")
@needs_path("api_probe_path")
def test_pool_gauges_follow_the_pool(
    client: httpx.Client, params: dict[str, Any], evidence: Evidence
) -> None:
    path = params["api_probe_path"]
    for _ in range(3):  # database reads: the pool has opened a connection since
        client.get(path)
    found = _scrape(client, params, evidence)
    names = {key: params[f"db_{key}_metric"] for key in ("in_use", "idle", "pool_size")}
    values = {key: found.value(name) for key, name in names.items()}
    evidence.note("pool gauges", {names[key]: value for key, value in values.items()})
    negative = [names[key] for key, value in values.items() if value < 0]
    assert not negative, f"negative connection counts: {', '.join(negative)}"
    assert values["pool_size"] >= 1, f"{names['pool_size']} is {values['pool_size']:g}"
    held = values["in_use"] + values["idle"]
    assert held >= 1, (
        f"{names['in_use']} + {names['idle']} is {held:g} after database reads: "
        "the gauges do not follow the pool"
    )


def _cache_moves(before: Scrape, after: Scrape, params: dict[str, Any]) -> dict[str, float]:
    return {
        kind: rise(before, after, params[f"cache_{kind}_metric"]) for kind in ("hits", "misses")
    }


@requirement("MON-METRIC-CACHE")
@needs_path("api_probe_path")
@exclusive
def test_cache_counters_follow_repeated_reads(
    client: httpx.Client, params: dict[str, Any], evidence: Evidence
) -> None:
    path, reads = params["api_probe_path"], 4
    _scrape(client, params, evidence)
    ident = create_formula(client, path, "cache")
    before = _scrape(client, params, evidence)
    for _ in range(reads):
        client.get(item_path(path, ident))
    after = _scrape(client, params, evidence)
    client.delete(item_path(path, ident))
    moves = _cache_moves(before, after, params)
    looked_up = moves["hits"] + moves["misses"]
    evidence.note(f"{reads} reads of one formula", moves)
    assert looked_up == reads, (
        f"hits and misses moved by {looked_up:g} for {reads} reads of one formula"
    )
    evidence.note("hit rate", moves["hits"] / looked_up)
    assert moves == {"hits": reads - 1, "misses": 1}, (
        f"{reads} reads of one formula counted {moves['hits']:g} hits and "
        f"{moves['misses']:g} misses: only the first read may miss"
    )


@requirement("OPS-REDIS-CACHE")
@needs_path("api_probe_path")
@exclusive
def test_repeated_reads_hit_and_a_write_invalidates(
    client: httpx.Client, params: dict[str, Any], evidence: Evidence
) -> None:
    path = params["api_probe_path"]
    _scrape(client, params, evidence)
    ident = create_formula(client, path, "invalidate")
    item = item_path(path, ident)
    before = _scrape(client, params, evidence)
    for _ in range(2):
        client.get(item)
    after = _scrape(client, params, evidence)
    moves = _cache_moves(before, after, params)
    evidence.note("two reads", moves)
    changed = client.patch(item, json={"expression": "x + 2"})
    answers.status_in(changed, {200, 204}, "the formula updated", answers.FORMULAS_API)
    read = client.get(item)
    answers.status_in(read, {200}, "the formula read back", answers.FORMULAS_API)
    value = answers.json_object(read, ("expression",), answers.FORMULAS_API)["expression"]
    client.delete(item)
    evidence.note("read after the write", value)
    assert moves["hits"] >= 1, f"two reads of one formula hit the cache {moves['hits']:g} times"
    assert value == "x + 2", (
        f"the read after an update answered the old value {value!r}: the write did not "
        "invalidate the cached formula"
    )


@requirement("MON-METRIC-USERS")
@needs_path("login_path")
@exclusive
def test_logins_and_active_users_are_counted(
    client: httpx.Client,
    target: Target,
    params: dict[str, Any],
    evidence: Evidence,
) -> None:
    logins, active = params["logins_metric"], params["active_users_metric"]
    _scrape(client, params, evidence)
    account = user_account(target, params, "metrics")
    before = _scrape(client, params, evidence)
    answer = login(client, params["login_path"], account.username, account.password)
    # an account nobody has: a refusal that locks no one
    refused = login(client, params["login_path"], new_username("nobody"), account.password)
    if answer.token is None or refused.kind != "refused":
        raise UnexpectedAnswer(
            f"POST {params['login_path']}",
            "a token for the right password and a refusal for a wrong one",
            f"{answer.shape} and {refused.shape}",
        )
    me = client.get(params["me_path"], headers={"Authorization": f"Bearer {answer.token}"})
    answers.status_in(me, {200}, "the signed-in user", "the user API (set me_path)")
    after = _scrape(client, params, evidence)
    counted = rise(before, after, logins)
    users = after.value(active)
    evidence.note("values", {f"{logins} moved": counted, active: users})
    assert counted == 2, f"{logins} moved by {counted:g} for 2 login attempts"
    assert users >= 1, f"{active} is {users:g} right after a signed-in request"
