"""Monitoring > Health Checks under faults: the backend keeps serving while Redis is down, and
a write load running through a database outage and a Redis outage loses nothing it
acknowledged. Both stop services of the deployment (``disruptive``)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from harness.probes.answers import FORMULAS_API, identifier, status_in
from harness.probes.health import component_status
from harness.probes.http import client_for, next_loopback_address
from harness.probes.outages import wait_until
from harness.probes.write_load import WriteLoad
from harness.report.evidence import Evidence
from harness.targets import Capability, Target

requirement = pytest.mark.requirement
# writes per outage: about 2 s of the load at 5 writes a second
WRITES_PER_OUTAGE = 10


def _component(response: httpx.Response, name: str) -> str | None:
    try:
        return component_status(response.json(), name)
    except ValueError:
        return None


def _formula(tag: str) -> dict[str, str]:
    return {"name": f"fault-{tag}", "expression": "2 * 21", "description": f"written {tag}"}


def _call(send: Callable[[], httpx.Response]) -> httpx.Response | str:
    """The answer, or why there was none: a backend that drops the connection serves no one,
    which is the claim's failure, not the check's."""
    try:
        return send()
    except httpx.TransportError as exc:
        return f"no answer ({exc or 'the connection failed'})"


def _limited_as_configured(answer: httpx.Response | str, mode: str) -> str | None:
    """Why ``answer`` (to an API request while Redis is down) is not what the limiter's fail
    mode promises; None when it is."""
    if isinstance(answer, str):
        return answer
    status = answer.status_code
    if mode == "open":
        return None if 200 <= status < 300 else f"{status}, where failing open serves it (2xx)"
    json_body = answer.headers.get("content-type", "").startswith("application/json")
    if status == 503 and json_body and answer.headers.get("retry-after"):
        return None
    return f"{status}, where failing closed answers 503 with Retry-After and a JSON body"


@requirement("MON-FAULT-REDIS-SERVING")
@pytest.mark.disruptive
def test_backend_serves_while_redis_is_down(
    target: Target, http: httpx.Client, params: dict[str, Any], evidence: Evidence
) -> None:
    target.require(Capability.REDIS)
    control = target.require(Capability.CONTROL)
    path, health = params["api_probe_path"], params["health_path"]
    mode = params["rate_limit_fail_mode"]
    detect_s, recover_s = params["health_detection_timeout_s"], params["health_recovery_timeout_s"]
    tag = uuid.uuid4().hex[:8]
    created = http.post(path, json=_formula(f"{tag}-before"))
    status_in(created, {201}, "201 for a new formula", FORMULAS_API)
    one = f"{path.rstrip('/')}/{identifier(created, api=FORMULAS_API)}"
    status_in(http.get(one), {200}, "200 for the formula just created", FORMULAS_API)
    instance = control.incarnation("backend")
    with control.outage("redis"):
        detected = wait_until(
            lambda: http.get(health), lambda r: _component(r, "redis") == "down", detect_s
        )
        evidence.note("detection of the Redis outage", detected.as_dict())
        assert detected.within_bound, (
            f"/health did not report redis down within {detect_s:g} s of Redis stopping "
            f"(redis {_component(detected.last, 'redis')}){detected.late()}"
        )
        answers = {
            "read one": _call(lambda: http.get(one)),
            "list": _call(lambda: http.get(path)),
            "write": _call(lambda: http.post(path, json=_formula(f"{tag}-during"))),
        }
    statuses = {
        name: answer if isinstance(answer, str) else answer.status_code
        for name, answer in answers.items()
    }
    evidence.note(f"API while Redis is down (rate limiting fails {mode})", statuses)
    wrong = {
        name: why
        for name, answer in answers.items()
        if (why := _limited_as_configured(answer, mode)) is not None
    }
    assert not wrong, f"while Redis was down the API answered {wrong}"
    recovered = wait_until(
        lambda: http.get(health),
        lambda r: r.status_code == 200 and _component(r, "redis") == "up",
        recover_s,
    )
    evidence.note("recovery after Redis returned", recovered.as_dict())
    assert recovered.within_bound, (
        f"/health was not healthy again within {recover_s:g} s of Redis coming back "
        f"(it answered {recovered.last.status_code}){recovered.late()}"
    )
    after = http.get(one)
    assert after.status_code == 200, f"after Redis returned, GET {one} answered {after.status_code}"
    now = control.incarnation("backend")
    evidence.note("backend instance before and after", {"before": instance, "after": now})
    assert now == instance, (
        f"the backend was restarted during the Redis outage ({instance} -> {now})"
    )


def _outage_under_load(
    target: Target, load: WriteLoad, component: str, params: dict[str, Any]
) -> dict[str, Any]:
    """Stop ``component`` until the load has tried ``WRITES_PER_OUTAGE`` writes, start it
    again and wait until /health is healthy; the window and what the writes got in it."""
    control = target.require(Capability.CONTROL)
    bound = params["health_detection_timeout_s"] + params["fault_write_timeout_s"]
    health = params["health_path"]
    control.stop(component)
    stopped = time.monotonic()
    try:
        wait_until(lambda: load.attempts_since(stopped), lambda n: n >= WRITES_PER_OUTAGE, bound)
    finally:
        starting = time.monotonic()
        control.start(component)  # returns once the component answers again
        back = time.monotonic()
    with client_for(target.url) as client:
        recovered = wait_until(
            lambda: client.get(health).status_code, lambda status: status == 200,
            params["health_recovery_timeout_s"],
        )  # fmt: skip
    assert recovered.within_bound, (
        f"/health was not 200 again within {recovered.bound_s:g} s of {component} coming back "
        f"(it answered {recovered.last}): the write load cannot go on to the next outage"
    )
    return {
        "component": component,
        "down_s": round(starting - stopped, 2),
        "start_took_s": round(back - starting, 2),
        "healthy_again_after_s": recovered.as_dict()["measured_s"],
        "writes while down": load.report.between(stopped, starting),
    }


@requirement("MON-FAULT-NO-LOST-WRITES")
@pytest.mark.disruptive
def test_no_acknowledged_write_is_lost_through_outages(
    target: Target, params: dict[str, Any], evidence: Evidence
) -> None:
    target.require(Capability.CONTROL)
    components = ["database"] + (["redis"] if target.has(Capability.REDIS) else [])
    path, timeout = params["api_probe_path"], params["fault_write_timeout_s"]
    # a source address of its own: the load's requests spend no other check's budget
    local = next_loopback_address() if target.has(Capability.CLIENT_ADDRESSES) else None
    with client_for(target.url, local_address=local, retry_429=False) as client:
        load = WriteLoad(client, path, uuid.uuid4().hex[:8], timeout)
        with load:
            began = time.monotonic()
            wait_until(lambda: len(load.report.acknowledged), lambda n: n >= 3, timeout)
            windows = [_outage_under_load(target, load, name, params) for name in components]
            resumed = time.monotonic()
            wait_until(lambda: load.attempts_since(resumed), lambda n: n >= 5, timeout)
    # the reads back from another address, clear of the limiter's budget the load spent
    with client_for(target.url, local_address=local and next_loopback_address()) as reader:
        report = load.verify(reader)
    evidence.note("outage windows", windows)
    evidence.note("write load", report.as_dict())
    evidence.note("load ran s", round(time.monotonic() - began, 1))
    assert report.acknowledged, f"no write was acknowledged: {report.outcomes()}"
    assert report.acknowledged_since(resumed), (
        f"no write was acknowledged after the outages ended: {report.between(resumed, 1e12)}"
    )
    assert not report.unclean, (
        f"{len(report.unclean)} writes were not refused cleanly (a 5xx with a JSON body within "
        f"{timeout:g} s): " + "; ".join(report.unclean[:3])
    )
    lost = len(report.lost) + len(report.changed)
    assert not lost, (
        f"{lost} of {len(report.acknowledged)} acknowledged writes were lost "
        f"(gone: {report.lost[:5]}, changed: {list(report.changed)[:5]})"
    )
