"""Security Configuration by profile: CORS, HSTS, the HTTP -> HTTPS redirect, TLS versions and
the allowed hosts (a forged Host is not served as the real site, nor one with a port or a
trailing dot, first of two Host lines, in an absolute request URI or a forwarded-host header).

The redirect check compares scheme, host and path, not the port: behind a port mapping
(Docker, a load balancer) the port a server names is rightly not the one the client used,
so the port is recorded in the evidence only.
"""

from __future__ import annotations

import contextlib
from typing import Any, NoReturn
from urllib.parse import urlsplit

import httpx
import pytest

from harness.probes import cors, hosts, response_kinds, tls
from harness.probes.discovery import Discovery
from harness.probes.headers import Finding, check_hsts, values_of
from harness.probes.http import client_for
from harness.probes.rawhttp import RawHTTPError, send_raw
from harness.report.evidence import Evidence
from harness.targets import Capability, Target

requirement = pytest.mark.requirement
needs_path = pytest.mark.needs_path
_ADDRESS = "127.0.4.20"


def _surfaces(target: Target) -> list[str]:
    urls = [target.url]
    if target.has(Capability.FRONTEND):
        urls.append(target.service_url("frontend"))
        with contextlib.suppress(KeyError):
            urls.append(target.service_url("frontend-http"))
    return urls


def _client(url: str, evidence: Evidence) -> httpx.Client:
    address = response_kinds.local_address(url, _ADDRESS)
    return client_for(url, on_response=evidence.exchange, local_address=address)


def _cors_surfaces(target: Target) -> list[str]:
    # the API is reached on the backend and, proxied, through the frontend; not over a redirect
    return [url for url in _surfaces(target)[:2]]


def _judge(findings: list[tuple[str, Finding]], evidence: Evidence) -> None:
    __tracebackhide__ = True
    for where, finding in findings:
        evidence.note(where, finding.value if finding.ok else finding.reason)
    failures = [f"{where}: {finding.reason}" for where, finding in findings if not finding.ok]
    assert not failures, "; ".join(failures)


def _preflight(client: httpx.Client, path: str, origin: str) -> httpx.Response:
    headers = {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    return client.options(path, headers=headers)


def _items(response: httpx.Response) -> list[tuple[str, str]]:
    return list(response.headers.multi_items())


@requirement("CFG-CORS-STRICT")
@needs_path("api_probe_path")
def test_foreign_origin_never_granted(
    target: Target, params: dict[str, Any], evidence: Evidence
) -> None:
    origin, path = params["foreign_origin"], params["api_probe_path"]
    findings = []
    for url in _cors_surfaces(target):
        with _client(url, evidence) as client:
            simple = client.get(path, headers={"Origin": origin, "Cookie": "session=probe"})
            findings.append((f"GET {url}", cors.check_foreign(_items(simple), origin)))
            pre = _preflight(client, path, origin)
            findings.append((f"preflight {url}", cors.check_foreign(_items(pre), origin)))
    _judge(findings, evidence)


@requirement("CFG-CORS-ALLOWED")
@needs_path("api_probe_path")
def test_allowed_origin_echoed_exactly(
    target: Target, params: dict[str, Any], evidence: Evidence
) -> None:
    path = params["api_probe_path"]
    findings = []
    for url in _cors_surfaces(target):
        with _client(url, evidence) as client:
            for origin in params["allowed_cors_origins"]:
                response = client.get(path, headers={"Origin": origin})
                findings.append(
                    (f"{origin} at {url}", cors.check_allowed(_items(response), origin))
                )
    _judge(findings, evidence)


@requirement("CFG-CORS-PREFLIGHT")
@needs_path("api_probe_path")
def test_preflight(target: Target, params: dict[str, Any], evidence: Evidence) -> None:
    path, foreign = params["api_probe_path"], params["foreign_origin"]
    origin = params["allowed_cors_origins"][0]
    findings = []
    for url in _cors_surfaces(target):
        with _client(url, evidence) as client:
            granted = _preflight(client, path, origin)
            finding = cors.check_preflight(_items(granted), origin, "POST", "content-type")
            if finding.ok and granted.status_code >= 300:
                finding = Finding(False, origin, f"preflight answered {granted.status_code}")
            findings.append((f"allowed preflight {url}", finding))
            refused = _preflight(client, path, foreign)
            findings.append(
                (f"foreign preflight {url}", cors.check_foreign(_items(refused), foreign))
            )
    _judge(findings, evidence)


@requirement("CFG-CORS-RELAXED")
@needs_path("api_probe_path")
def test_development_origins_allowed(
    target: Target, params: dict[str, Any], evidence: Evidence
) -> None:
    origins = params["allowed_cors_origins"]
    local = [o for o in origins if urlsplit(o).hostname in {"localhost", "127.0.0.1"}]
    assert local, f"allowed_cors_origins {origins} names no local development-server origin"
    findings = []
    with _client(target.url, evidence) as client:
        for origin in origins:
            response = client.get(params["api_probe_path"], headers={"Origin": origin})
            findings.append((origin, cors.check_allowed(_items(response), origin)))
    _judge(findings, evidence)


PLAIN_ONLY = "production target answers on plain HTTP and offers no HTTPS"


def _no_https(discovery: Discovery, what: str) -> NoReturn:
    """A plain-HTTP target with no TLS anywhere on its host fails the HTTPS claims; where
    HTTPS may sit in front of it out of sight (a proxy elsewhere) nothing can be proven."""
    __tracebackhide__ = True
    if discovery.serves_plain_http_only:
        pytest.fail(f"{PLAIN_ONLY} ({discovery.https_note})")
    pytest.skip(what)


def _https(target: Target, discovery: Discovery) -> list[str]:
    urls = [url for url in _surfaces(target) if url.startswith("https://")]
    if not urls:
        _no_https(discovery, f"the target has no HTTPS endpoint; {discovery.https_note}")
    return urls


@requirement("SEC-HDR-HSTS")
def test_hsts_over_https(
    target: Target, discovery: Discovery, params: dict[str, Any], evidence: Evidence
) -> None:
    findings = []
    for url in _https(target, discovery):
        with _client(url, evidence) as client:
            for path in ("/", params["health_path"]):
                response = client.get(path)
                finding = check_hsts(
                    _items(response),
                    params["hsts_min_max_age_s"],
                    params["hsts_require_include_subdomains"],
                )
                findings.append((f"GET {url}{path}", finding))
    _judge(findings, evidence)


@requirement("SEC-HDR-HSTS-HTTPS-ONLY")
def test_no_hsts_over_http(target: Target, params: dict[str, Any], evidence: Evidence) -> None:
    plain = [url for url in _surfaces(target) if url.startswith("http://")]
    if not plain:
        pytest.skip("the target has no plain-HTTP endpoint")
    failures = []
    for url in plain:
        with _client(url, evidence) as client:
            for path in (params["health_path"], params["api_probe_path"]):
                sent = values_of(_items(client.get(path)), "Strict-Transport-Security")
                if sent:
                    failures.append(f"{url}{path} sends Strict-Transport-Security {sent[0]!r}")
    evidence.note("plain-HTTP endpoints", plain)
    assert not failures, "HSTS over plain HTTP (RFC 6797 7.2 forbids it): " + "; ".join(failures)


def _plain_entry(target: Target, discovery: Discovery) -> str:
    try:
        return str(target.service_url("frontend-http"))
    except KeyError:
        pass
    parts = urlsplit(target.url)
    if parts.scheme == "https":
        return f"http://{parts.hostname}"
    _no_https(discovery, "the target has no plain-HTTP entry that fronts an HTTPS endpoint")


@requirement("CFG-HTTPS-REDIRECT")
def test_http_redirects_to_https(
    target: Target, discovery: Discovery, params: dict[str, Any], evidence: Evidence
) -> None:
    entry = _plain_entry(target, discovery)
    path = params["api_probe_path"] + "?probe=1"
    try:
        with _client(entry, evidence) as client:
            response = client.get(path)
    except httpx.ConnectError:
        pytest.skip(f"nothing listens for plain HTTP at {entry}: no request to redirect")
    location = response.headers.get("location", "")
    evidence.note("redirect", {"status": response.status_code, "location": location})
    assert response.status_code in (301, 308), (
        f"GET {entry}{path} answered {response.status_code}, expected 301 or 308 to HTTPS"
    )
    target_url = urlsplit(location)
    assert target_url.scheme == "https", f"redirect goes to {location!r}, not to HTTPS"
    assert target_url.hostname == urlsplit(entry).hostname, f"redirect leaves the host: {location}"
    assert f"{target_url.path}?{target_url.query}" == path, f"redirect loses the path: {location}"
    evidence.note("redirect port (not compared)", target_url.port)


@requirement("CFG-HTTPS-TLS")
def test_tls_version(
    target: Target, discovery: Discovery, params: dict[str, Any], evidence: Evidence
) -> None:
    minimum = params["min_tls_version"]
    older = [v for v in tls.ORDER if tls.ORDER.index(v) < tls.ORDER.index(minimum)]
    failures = []
    for url in _https(target, discovery):
        modern = tls.handshake(url)
        evidence.note(f"{url} negotiated", modern.version or modern.error)
        if not tls.at_least(modern.version, minimum):
            failures.append(f"{url} negotiated {modern.version or modern.error}")
        for version in older:
            old = tls.handshake(url, maximum=version)
            evidence.note(f"{url} offered at most {version}", old.version or old.error)
            if old.version is not None:
                failures.append(f"{url} accepted {old.version}")
    assert not failures, f"TLS below {minimum}: " + "; ".join(failures)


def _served_path(discovery: Discovery, params: dict[str, Any]) -> str:
    """A route that serves the real site: the API, else a page or JSON route discovery found."""
    candidates = [params["api_probe_path"]] if discovery.exists("api_probe_path") else []
    candidates += [a.path for a in (discovery.html_page, discovery.json_route) if a is not None]
    if discovery.exists("health_path"):
        candidates.append(params["health_path"])
    if not candidates:
        pytest.skip(
            "no route of the target answered: nothing to compare a forged Host with; "
            "set --param api_probe_path=/your/route"
        )
    return str(candidates[0])


def _raw_answer(url: str, case: hosts.HostCase) -> httpx.Response:
    raw = send_raw(
        url,
        "GET",
        case.target,
        case.headers,
        local_address=response_kinds.local_address(url, _ADDRESS),
        host_lines=case.host_lines,
    )
    return httpx.Response(raw.status, headers=list(raw.headers), content=raw.body)


def _variant_failures(
    url: str, path: str, forged: str, real: httpx.Response, evidence: Evidence
) -> list[str]:
    """The Host-header variants (port, trailing dot, two Host lines, absolute URI, forwarded
    headers) sent raw: an HTTP client would normalise them away."""
    failures: list[str] = []
    seen: dict[str, int | str] = {}
    for case in hosts.attack_cases(forged, urlsplit(url).netloc, path):
        try:
            answer = _raw_answer(url, case)
        except RawHTTPError as exc:  # a connection closed on the attack is a refusal
            seen[case.name] = str(exc)
            continue
        seen[case.name] = answer.status_code
        why = hosts.judge_case(case, forged, real, answer)
        if why is not None:
            failures.append(f"{case.name}: {why}")
    evidence.note("Host header variants", seen)
    return failures


@requirement("CFG-ALLOWED-HOSTS")
def test_forged_host_is_not_served(
    target: Target, discovery: Discovery, params: dict[str, Any], evidence: Evidence
) -> None:
    path = _served_path(discovery, params)
    forged_host = hosts.forged_host(params["allowed_hosts"])
    with _client(target.url, evidence) as client:
        real = client.get(path)
        forged = client.get(path, headers={"Host": forged_host})
    evidence.note("answers", {"real": real.status_code, f"Host: {forged_host}": forged.status_code})
    if not 200 <= real.status_code < 300:
        pytest.skip(f"GET {path} answered {real.status_code}: no real content to compare with")
    failures = []
    served = hosts.served_as_real(real, forged)
    if served is not None:
        failures.append(f"GET {path} with Host: {forged_host} {served}")
    failures += _variant_failures(target.url, path, forged_host, real, evidence)
    assert not failures, (
        "; ".join(failures) + ": the deployment serves any Host "
        "(set allowed_hosts / trusted-host validation)"
    )
