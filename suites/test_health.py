"""Monitoring > Health Checks: the /health contract of every service."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from harness.probes.discovery import moved_to
from harness.probes.health import (
    HealthFormatError,
    clock_skew_s,
    component_status,
    is_semver,
    parse_timestamp,
    schema_errors,
)
from harness.probes.outages import wait_until
from harness.report.evidence import Evidence
from harness.targets import Capability, Target
from harness.targets.base import ServiceControl

requirement = pytest.mark.requirement
# a target with nothing at health_path (404, or a redirect elsewhere) may have its health
# endpoint at another path: every health check skips naming the parameter to set, and the
# gate cannot pass (INCOMPLETE) until the endpoint is found and judged
needs_path = pytest.mark.needs_path


def _json_body(response: httpx.Response) -> Any:
    __tracebackhide__ = True
    media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    assert media_type == "application/json", (
        f"/health answered Content-Type {media_type or '(none)'!r}, expected application/json"
    )
    try:
        return response.json()
    except ValueError:
        pytest.fail(f"/health body is not JSON: {response.text[:200]!r}")


@requirement("MON-HEALTH-001")
@needs_path("health_path")
def test_backend_health_answers_200_json(http: httpx.Client, params: dict[str, Any]) -> None:
    path = params["health_path"]
    response = http.get(path)
    status = response.status_code
    moved = moved_to(path, status, response.headers.get("location", ""))
    assert moved is None, (
        f"{path} answered {status}, a redirect to {moved}: a health probe must get its answer "
        f"at the path it asks; if {moved} is the health endpoint, set --param health_path={moved}"
    )
    assert status == 200, (
        f"{path} answered {status} while the deployment is up: {response.text[:200]}"
    )
    _json_body(response)


@requirement("MON-HEALTH-002")
@needs_path("health_path")
def test_health_body_has_spec_format(
    http: httpx.Client, params: dict[str, Any], evidence: Evidence
) -> None:
    body = _json_body(http.get(params["health_path"]))
    errors = schema_errors(body)
    evidence.note("schema errors", errors)
    assert not errors, "health body departs from the spec's format: " + "; ".join(errors)


@requirement("MON-HEALTH-003")
@needs_path("health_path")
def test_health_timestamp_is_iso8601_and_current(
    http: httpx.Client, params: dict[str, Any], evidence: Evidence
) -> None:
    sent = datetime.now(UTC)
    body = _json_body(http.get(params["health_path"]))
    received = datetime.now(UTC)
    assert isinstance(body, dict), "health body is not a JSON object"
    assert "timestamp" in body, "health body has no timestamp"
    try:
        timestamp = parse_timestamp(body["timestamp"])
    except HealthFormatError as exc:
        pytest.fail(f"health {exc}")
    skew = clock_skew_s(timestamp, (sent, received))
    evidence.note("timestamp", body["timestamp"])
    evidence.note("clock skew s", round(skew, 3))
    if not timestamp.had_offset:
        evidence.note("timezone", "no UTC offset; read as UTC, as the spec's example shows")
    limit = params["health_max_clock_skew_s"]
    assert skew <= limit, (
        f"health timestamp {body['timestamp']} is {skew:.1f} s away from the time of the request "
        f"(limit {limit} s): it is not computed per request, or the clock is wrong"
    )


@requirement("MON-HEALTH-004")
@needs_path("health_path")
def test_health_version_is_semantic(
    http: httpx.Client, params: dict[str, Any], evidence: Evidence
) -> None:
    body = _json_body(http.get(params["health_path"]))
    version = body.get("version") if isinstance(body, dict) else None
    evidence.note("version", version)
    assert is_semver(version), (
        f"health version {version!r} is not a semantic version (MAJOR.MINOR.PATCH)"
    )
    expected = params["expected_version"]
    if expected:
        assert version == expected, f"deployment reports version {version}, expected {expected}"


def _answer(http: httpx.Client, path: str) -> httpx.Response | None:
    """The /health answer, or None when it took longer than the client's timeout: a health
    endpoint that hangs through an outage does not report it."""
    try:
        return http.get(path)
    except httpx.TimeoutException:
        return None


def _said(response: httpx.Response | None, component: str) -> str:
    if response is None:
        return "no answer within the client's timeout"
    try:
        seen = component_status(response.json(), component)
    except ValueError:
        seen = None
    return f"{response.status_code}, {component} {seen}"


def _reports(status: int, component: str, state: str) -> Callable[[httpx.Response | None], bool]:
    def done(response: httpx.Response | None) -> bool:
        if response is None or response.status_code != status:
            return False
        try:
            return component_status(response.json(), component) == state
        except ValueError:
            return False

    return done


def _check_outage(
    control: ServiceControl,
    http: httpx.Client,
    params: dict[str, Any],
    evidence: Evidence,
    component: str,
) -> None:
    """Stop ``component``: /health must say so (503, unhealthy, the component down) within
    the detection bound, and be healthy again within the recovery bound after it returns,
    with the same backend instance (recovered, not restarted)."""
    path = params["health_path"]
    detect_s, recover_s = params["health_detection_timeout_s"], params["health_recovery_timeout_s"]
    before = http.get(path)
    assert before.status_code == 200, f"/health is {before.status_code} before {component} stops"
    instance = control.incarnation("backend")
    stopping = time.monotonic()
    with control.outage(component):
        # the detection time counts from the stop's return (the component is gone); how long
        # stopping took is noted beside it
        stop_s = round(time.monotonic() - stopping, 2)
        detected = wait_until(
            lambda: _answer(http, path), _reports(503, component, "down"), detect_s
        )
        evidence.note(
            f"detection of the {component} outage", {**detected.as_dict(), "stop_took_s": stop_s}
        )
        during = detected.last
        if during is None or not detected.within_bound:
            pytest.fail(
                f"/health did not report {component} down (503) within {detect_s:g} s of it "
                f"stopping (last answer: {_said(during, component)}){detected.late()}"
            )
        body = _json_body(during)
        evidence.note(f"while {component} is down", {"status": during.status_code, "body": body})
        overall = body.get("status") if isinstance(body, dict) else None
        assert overall == "unhealthy", f"status is {overall!r} while {component} was down"
        seen = component_status(body, component)
        assert seen == "down", f"components.{component}.status is {seen!r} while it was down"
    recovered = wait_until(lambda: _answer(http, path), _reports(200, component, "up"), recover_s)
    evidence.note(f"recovery after {component} returned", recovered.as_dict())
    assert recovered.within_bound, (
        f"/health was not healthy again within {recover_s:g} s of {component} coming back "
        f"(last answer: {_said(recovered.last, component)}){recovered.late()}"
    )
    now = control.incarnation("backend")
    evidence.note("backend instance before and after", {"before": instance, "after": now})
    assert now == instance, (
        f"the backend was restarted during the {component} outage ({instance} became {now}): "
        "it must recover by itself, without a restart"
    )


@requirement("MON-HEALTH-005")
@needs_path("health_path")
@pytest.mark.disruptive
def test_health_reports_database_outage(
    target: Target, http: httpx.Client, params: dict[str, Any], evidence: Evidence
) -> None:
    control = target.require(Capability.CONTROL)
    _check_outage(control, http, params, evidence, "database")


@requirement("MON-HEALTH-006")
@needs_path("health_path")
@pytest.mark.disruptive
def test_health_reports_redis_outage(
    target: Target, http: httpx.Client, params: dict[str, Any], evidence: Evidence
) -> None:
    target.require(Capability.REDIS)
    control = target.require(Capability.CONTROL)
    _check_outage(control, http, params, evidence, "redis")


@requirement("MON-HEALTH-007")
def test_frontend_exposes_health(
    target: Target, params: dict[str, Any], evidence: Evidence
) -> None:
    frontend = target.require(Capability.FRONTEND)
    from harness.probes.http import client_for

    with client_for(frontend, on_response=evidence.exchange) as client:
        response = client.get(params["health_path"])
    assert response.status_code == 200, f"frontend /health answered {response.status_code}"
    # an SPA fallback answers 200 with index.html for any path: that is not a health check
    body = _json_body(response)
    status = body.get("status") if isinstance(body, dict) else None
    assert status == "healthy", f"frontend /health reports status {status!r}, expected 'healthy'"
