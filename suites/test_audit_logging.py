"""Security Hardening > Security Middleware > Audit Logging: one JSON record per API request,
its fields, the request id, refused requests, sensitive paths, failed logins, no secrets.

Every probe sends an ``X-Request-ID`` of its own and finds its record by it among the records
the target reads (Capability.AUDIT_LOG: the embedded app's log file, the backend container's
log). Logins go to ``login_path``; where the target can create accounts (Capability.USERS)
the failed login is a wrong password for a real user, else an unknown user name.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from harness.probes import answers
from harness.probes.audit import (
    failure_outcome,
    field_problems,
    missing_fields,
    new_request_id,
    secrets_in,
    wait_for_records,
)
from harness.probes.http import client_for, next_loopback_address
from harness.probes.ipfilter import first_address
from harness.report.evidence import Evidence
from harness.targets import Capability, Target
from harness.targets.base import AuditLog

requirement = pytest.mark.requirement
needs_path = pytest.mark.needs_path
pytestmark = pytest.mark.usefixtures("audit_log")


class Prober:
    """Sends requests from one source address, each with a fresh request id."""

    def __init__(
        self, target: Target, params: dict[str, Any], evidence: Evidence, retry: bool
    ) -> None:
        self.log = target.require(Capability.AUDIT_LOG)
        self.header = params["request_id_header"]
        self.source = next_loopback_address() if target.has(Capability.CLIENT_ADDRESSES) else None
        self.client = client_for(
            target.url, on_response=evidence.exchange, local_address=self.source, retry_429=retry
        )
        self.sent: dict[str, httpx.Response] = {}

    def send(self, method: str, path: str, **kwargs: Any) -> tuple[str, httpx.Response]:
        request_id = new_request_id(method.lower())
        headers = {self.header: request_id, **kwargs.pop("headers", {})}
        response = self.client.request(method, path, headers=headers, **kwargs)
        self.sent[request_id] = response
        return request_id, response

    def records(self, *request_ids: str) -> dict[str, list[dict[str, Any]]]:
        return wait_for_records(self.log.audit_records, request_ids or tuple(self.sent))


@pytest.fixture
def audit_log(target: Target) -> AuditLog:
    return target.require(Capability.AUDIT_LOG)


@pytest.fixture
def prober(target: Target, params: dict[str, Any], evidence: Evidence) -> Iterator[Prober]:
    made = Prober(target, params, evidence, retry=True)
    yield made
    made.client.close()


def _one(found: dict[str, list[dict[str, Any]]], request_id: str) -> dict[str, Any]:
    __tracebackhide__ = True
    records = found[request_id]
    assert len(records) == 1, f"request {request_id} has {len(records)} audit records, expected 1"
    return records[0]


def _login(prober: Prober, path: str, username: str, password: str) -> tuple[str, httpx.Response]:
    return prober.send("POST", path, json={"username": username, "password": password})


def _account(target: Target) -> tuple[str, str, bool]:
    """A user name and password: a real account where the target can create one."""
    # every character class, so it meets any password policy
    username, password = f"harness-{secrets.token_hex(4)}", f"Hx-{secrets.token_urlsafe(18)}9"
    if target.has(Capability.USERS):
        target.require(Capability.USERS).create_user(username, password)
        return username, password, True
    return username, password, False


@requirement("SEC-AUD-EVERY-REQUEST")
@needs_path("api_probe_path")
def test_every_request_has_exactly_one_record(
    prober: Prober, params: dict[str, Any], evidence: Evidence
) -> None:
    path = params["api_probe_path"]
    prober.send("GET", path)
    prober.send("GET", path.rstrip("/") + "/harness-no-such-item")
    prober.send("POST", path, json={})
    prober.send("DELETE", path)
    found = prober.records()
    evidence.note("records per request", {rid: len(recs) for rid, recs in found.items()})
    counts = {
        f"{r.request.method} {r.request.url.path} -> {r.status_code}": len(found[rid])
        for rid, r in prober.sent.items()
    }
    assert all(n == 1 for n in counts.values()), f"audit records per request: {counts}"


@requirement("SEC-AUD-FIELDS")
@needs_path("api_probe_path")
def test_record_fields_describe_the_request(
    target: Target, prober: Prober, params: dict[str, Any], evidence: Evidence
) -> None:
    path = params["api_probe_path"]
    request_id, response = prober.send("GET", path)
    record = _one(prober.records(request_id), request_id)
    evidence.note("record", record)
    missing = missing_fields(record, params["audit_log_fields"])
    assert not missing, f"audit record lacks {missing}: {record}"
    expected: dict[str, Any] = {
        "method": "GET",
        "path": path,
        "status": response.status_code,
        "user": None,
    }
    if prober.source is not None:
        expected["client_ip"] = prober.source
    problems = field_problems(record, expected)
    assert not problems, "audit record does not match the request: " + "; ".join(problems)
    if target.has(Capability.USERS):  # an authenticated request names its user
        username, password, _ = _account(target)
        login = _login(prober, params["login_path"], username, password)[1]
        answers.status_in(login, {200}, "200 and a token for an account it has", answers.LOGIN_API)
        token = answers.field(login, "access_token", str, answers.LOGIN_API)
        auth = {"Authorization": f"Bearer {token}"}
        request_id, _ = prober.send("GET", path, headers=auth)
        user = _one(prober.records(request_id), request_id).get("user")
        evidence.note("user of an authenticated request", user)
        assert user == username, f"authenticated as {username!r}, the record says {user!r}"


@requirement("SEC-AUD-REQUEST-ID")
@needs_path("api_probe_path")
def test_response_request_id_matches_the_record(
    prober: Prober, params: dict[str, Any], evidence: Evidence
) -> None:
    header, path = params["request_id_header"], params["api_probe_path"]
    sent_id, echoed = prober.send("GET", path)
    assert echoed.headers.get(header) == sent_id, (
        f"sent {header}: {sent_id}, the response carries {echoed.headers.get(header)!r}"
    )
    generated = prober.client.get(path).headers.get(header)
    evidence.note("generated request id", generated)
    assert generated, f"a response to a request without {header} carries none"
    found = prober.records(sent_id, generated)
    for request_id in (sent_id, generated):
        assert len(found[request_id]) == 1, (
            f"no single audit record has request id {request_id} (found {len(found[request_id])})"
        )


@requirement("SEC-AUD-REJECTED")
@needs_path("api_probe_path")
def test_refused_requests_are_audited(
    target: Target, params: dict[str, Any], evidence: Evidence
) -> None:
    path = params["api_probe_path"]
    prober = Prober(target, params, evidence, retry=False)
    with prober.client:
        prober.send("GET", path, params={"q": "<script>alert(document.cookie)</script>"})
        prober.send("POST", path, content=b"x" * (params["max_body_bytes"] + 1))
        denied = first_address(params["ip_denylist"])
        if prober.source is not None and denied:
            with client_for(target.url, local_address=denied) as client:
                rid = new_request_id("denied")
                prober.sent[rid] = client.get(path, headers={prober.header: rid})
        found = prober.records()
    statuses = {rid: response.status_code for rid, response in prober.sent.items()}
    evidence.note("statuses", statuses)
    refused = [rid for rid, status in statuses.items() if status in (400, 403, 413, 429)]
    assert refused, f"none of the probes was refused, nothing to check: {statuses}"
    unaudited = [f"{statuses[rid]} ({rid})" for rid in refused if len(found[rid]) != 1]
    assert not unaudited, f"refused requests without exactly one audit record: {unaudited}"


@requirement("SEC-AUD-SENSITIVE")
@needs_path("api_probe_path")
def test_sensitive_paths_are_flagged(
    prober: Prober, params: dict[str, Any], evidence: Evidence
) -> None:
    sensitive = {
        prober.send("GET", prefix.rstrip("/") + "/harness-probe")[0]: True
        for prefix in params["sensitive_paths"]
    }
    ordinary, _ = prober.send("GET", params["api_probe_path"])
    found = prober.records()
    flags = {rid: _one(found, rid).get("sensitive") for rid in found}
    evidence.note("sensitive flags", {prober.sent[r].request.url.path: f for r, f in flags.items()})
    wrong = [
        prober.sent[rid].request.url.path
        for rid, expected in {**sensitive, ordinary: False}.items()
        if bool(flags[rid]) is not expected
    ]
    assert not wrong, f"sensitive flag wrong for {wrong} (sensitive: {params['sensitive_paths']})"


@requirement("SEC-AUD-FAILED-LOGIN")
@needs_path("login_path")
def test_failed_login_is_recorded(
    target: Target, prober: Prober, params: dict[str, Any], evidence: Evidence
) -> None:
    username, password, real = _account(target)
    wrong = "wrong-" + password
    request_id, response = _login(prober, params["login_path"], username, wrong)
    evidence.note("login", {"user exists": real, "status": response.status_code})
    answers.present(response, "a refused login", answers.LOGIN_API)
    assert response.status_code in (400, 401, 403), f"a wrong password got {response.status_code}"
    record = _one(prober.records(request_id), request_id)
    evidence.note("record", record)
    assert username in record.values(), f"the attempted user name is not in the record: {record}"
    assert record.get("client_ip"), f"the record has no client IP: {record}"
    if prober.source is not None:
        assert record["client_ip"] == prober.source, f"client IP is not {prober.source}"
    assert failure_outcome(record), f"the record does not say the login failed: {record}"
    assert not secrets_in([record], [wrong]), "the record contains the attempted password"


@requirement("SEC-AUD-NO-SECRETS")
@needs_path("login_path", "api_probe_path")
def test_no_record_holds_a_secret(
    target: Target, prober: Prober, params: dict[str, Any], evidence: Evidence
) -> None:
    username, password, real = _account(target)
    markers = {"password": password, "wrong password": f"harness-pw-{secrets.token_hex(8)}"}
    markers["bearer token"], markers["cookie"] = secrets.token_hex(16), secrets.token_hex(16)
    _login(prober, params["login_path"], username, markers["wrong password"])
    _, ok = _login(prober, params["login_path"], username, password)
    token = None
    if real and ok.status_code == 200:
        token = answers.field(ok, "access_token", str, answers.LOGIN_API)
    if token:
        markers["issued token"] = token
    for bearer in filter(None, (markers["bearer token"], token)):
        prober.send(
            "GET",
            params["api_probe_path"],
            headers={"Authorization": f"Bearer {bearer}", "Cookie": f"s={markers['cookie']}"},
        )
    found = prober.records()
    evidence.note("records checked", sum(len(records) for records in found.values()))
    evidence.note("secrets sent", sorted(markers))
    leaked = secrets_in(prober.log.audit_records(), markers.values())
    names = [name for name, value in markers.items() if value in leaked]
    assert not names, f"audit records contain the {', '.join(names)}"
