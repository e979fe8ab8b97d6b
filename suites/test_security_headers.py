"""Security Hardening > Security Headers: the six headers, CSP, disclosure and cookies.

Each surface (the backend, and the frontend where there is one) is probed from its own
loopback source address, so these checks neither spend nor suffer other suites' rate limit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from harness.config import HarnessConfig
from harness.probes import csp, response_kinds
from harness.probes.discovery import COOKIE_PAGES, Answer, Discovery
from harness.probes.headers import (
    Finding,
    check_cookie,
    check_disclosure,
    check_frame_options,
    check_hsts,
    check_nosniff,
    check_referrer_policy,
    check_xss_protection,
)
from harness.probes.http import client_for
from harness.report.evidence import Evidence
from harness.targets import Capability, Target

requirement = pytest.mark.requirement
Headers = list[tuple[str, str]]
# (surface, kind) -> response; one set per module and surface
Observed = dict[tuple[str, str], httpx.Response]
_ADDRESSES = {"backend": "127.0.4.1", "frontend": "127.0.4.2"}
_HTML = {"backend": ("/docs",), "frontend": ("/",)}
# kinds the module's fixture could not provoke, with the reason (reported as evidence)
observed_missing: dict[str, str] = {}


def _surfaces(target: Target) -> dict[str, str]:
    surfaces = {"backend": target.url}
    if target.has(Capability.FRONTEND):
        surfaces["frontend"] = target.service_url("frontend")
    return surfaces


def _client(url: str, surface: str, evidence: Evidence | None = None) -> httpx.Client:
    address = response_kinds.local_address(url, _ADDRESSES[surface])
    hook = evidence.exchange if evidence is not None else None
    return client_for(url, on_response=hook, local_address=address)


def _found(answer: Answer | None) -> tuple[str, ...]:
    return (answer.path,) if answer is not None else ()


@pytest.fixture(scope="module")
def ordinary(target: Target, session_params: dict[str, Any], discovery: Discovery) -> Observed:
    """JSON/HTML 200, redirect, 404, 405 and HEAD from every surface, fetched once; the page
    and JSON route discovery found stand in where the configured paths give none."""
    observed: Observed = {}
    observed_missing.clear()
    for surface, url in _surfaces(target).items():
        found = surface == "backend"  # discovery asked the target URL
        with _client(url, surface) as client:
            kinds = response_kinds.ordinary_kinds(
                client,
                session_params["api_probe_path"],
                _HTML[surface] + (_found(discovery.html_page) if found else ()),
                session_params["health_path"],
                _found(discovery.json_route) if found else (),
            )
        observed.update({(surface, kind): response for kind, response in kinds.responses.items()})
        observed_missing.update({f"{surface} {kind}": why for kind, why in kinds.missing.items()})
    return observed


def _headers(response: httpx.Response) -> Headers:
    return list(response.headers.multi_items())


def _judge(
    observed: Observed, evidence: Evidence, check: Callable[[Headers], Finding], kinds: set[str]
) -> None:
    __tracebackhide__ = True
    failures = []
    checked = 0
    for (surface, kind), response in observed.items():
        if kind not in kinds:
            continue
        checked += 1
        finding = check(_headers(response))
        evidence.note(f"{surface} {kind}", finding.value if finding.ok else finding.reason)
        if not finding.ok:
            failures.append(f"{surface} {response.request.method} {response.request.url.path} "
                            f"({response.status_code}): {finding.reason}")  # fmt: skip
    assert checked, f"the target gave none of the responses {sorted(kinds)}"
    assert not failures, "; ".join(failures)


_SAMPLE = {"json-200", "html-200", "404"}


@requirement("SEC-HDR-NOSNIFF")
def test_nosniff(ordinary: Observed, evidence: Evidence) -> None:
    _judge(ordinary, evidence, check_nosniff, _SAMPLE)


@requirement("SEC-HDR-XFO")
def test_frame_options_deny(ordinary: Observed, evidence: Evidence) -> None:
    _judge(ordinary, evidence, check_frame_options, _SAMPLE)


@requirement("SEC-HDR-XXSS")
def test_xss_protection_zero(ordinary: Observed, evidence: Evidence) -> None:
    _judge(ordinary, evidence, check_xss_protection, _SAMPLE)


@requirement("SEC-HDR-REFERRER")
def test_referrer_policy_private(
    ordinary: Observed, params: dict[str, Any], evidence: Evidence
) -> None:
    allowed = params["referrer_policies"]
    _judge(ordinary, evidence, lambda h: check_referrer_policy(h, allowed), _SAMPLE)


@requirement("SEC-HDR-NO-DISCLOSURE")
def test_no_server_disclosure(ordinary: Observed, evidence: Evidence) -> None:
    _judge(ordinary, evidence, check_disclosure, set(k for _, k in ordinary))


def _csp_check(check: Callable[..., Finding]) -> Callable[[Headers], Finding]:
    # every policy a browser enforces, judged together (their intersection)
    def run(headers: Headers) -> Finding:
        policies, problem = csp.enforced_policies(headers)
        if not policies:
            return Finding(False, None, problem)
        return check(*(policy.directives for policy in policies))

    return run


@requirement("SEC-HDR-CSP")
def test_csp_is_one_parseable_policy(ordinary: Observed, evidence: Evidence) -> None:
    _judge(ordinary, evidence, csp.check_single, _SAMPLE)


def _judge_directive(observed: Observed, evidence: Evidence, check: Callable[..., Finding]) -> None:
    """A directive is judged on the responses that carry a policy (several are judged
    together); the rest are SEC-HDR-CSP's failure. With no policy anywhere there is nothing
    to judge: the directive checks are blocked by SEC-HDR-CSP, so one missing header is one
    root cause, not five."""
    __tracebackhide__ = True
    sampled = {key: r for key, r in observed.items() if key[1] in _SAMPLE}
    problems = {key: csp.enforced_policies(_headers(r))[1] for key, r in sampled.items()}
    judged = {key: r for key, r in sampled.items() if not problems[key]}
    if sampled and not judged:
        evidence.blocked_by("SEC-HDR-CSP", "; ".join(sorted(set(problems.values()))))
    _judge(judged or sampled, evidence, _csp_check(check), _SAMPLE)


@requirement("SEC-HDR-CSP-SCRIPT")
def test_csp_scripts_not_unsafe(ordinary: Observed, evidence: Evidence) -> None:
    _judge_directive(ordinary, evidence, csp.check_script)


@requirement("SEC-HDR-CSP-FRAME-ANCESTORS")
def test_csp_frame_ancestors_none(ordinary: Observed, evidence: Evidence) -> None:
    _judge_directive(ordinary, evidence, csp.check_frame_ancestors)


@requirement("SEC-HDR-CSP-OBJECT")
def test_csp_object_src_none(ordinary: Observed, evidence: Evidence) -> None:
    _judge_directive(ordinary, evidence, csp.check_object_src)


@requirement("SEC-HDR-CSP-BASE-URI")
def test_csp_base_uri_restricted(ordinary: Observed, evidence: Evidence) -> None:
    _judge_directive(ordinary, evidence, csp.check_base_uri)


@requirement("SEC-HDR-COOKIE-SECURE", "SEC-HDR-COOKIE-FLAGS")
def test_cookie_flags(
    ordinary: Observed, discovery: Discovery, harness_config: HarnessConfig, evidence: Evidence
) -> None:
    cookies = [
        (surface, kind, value)
        for (surface, kind), response in ordinary.items()
        for value in response.headers.get_list("set-cookie")
    ]
    # login and admin pages set session and CSRF cookies where no API response does
    cookies += [
        ("backend", f"GET {page.path}", value)
        for page in discovery.cookie_pages
        for value in page.cookies
    ]
    if not cookies:
        pytest.skip(
            f"no probed response sets a cookie (the API and {len(COOKIE_PAGES)} login/admin "
            "pages asked)"
        )
    secure = harness_config.profile == "production"
    failures = [
        f"{surface} {kind}: {finding.reason}"
        for surface, kind, value in cookies
        if not (finding := check_cookie(value, require_secure=secure)).ok
    ]
    evidence.note("cookies checked", len(cookies))
    assert not failures, "; ".join(failures)


_SIX: tuple[Callable[[Headers], Finding], ...] = (
    check_nosniff,
    check_frame_options,
    check_xss_protection,
    csp.check_single,
)


def _wants_hsts(response: httpx.Response, harness_config: HarnessConfig) -> bool:
    return response.url.scheme == "https" and harness_config.profile == "production"


def _server_error(
    client: httpx.Client,
    surface: str,
    path: str | None,
    observed: Observed,
    missing: dict[str, str],
) -> None:
    if not path:
        missing[f"{surface} 500"] = "error_probe_path is not set: no 500 can be provoked"
        return
    response = client.get(path)
    if response.status_code >= 500:
        observed[(surface, str(response.status_code))] = response
    else:  # kept under its own status elsewhere; this is no 500
        missing[f"{surface} 500"] = f"GET {path} (error_probe_path) answered {response.status_code}"


@requirement("SEC-HDR-EVERY-RESPONSE")
def test_headers_on_every_kind_of_response(
    target: Target,
    ordinary: Observed,
    *,
    discovery: Discovery,
    params: dict[str, Any],
    harness_config: HarnessConfig,
    evidence: Evidence,
) -> None:
    observed = dict(ordinary)
    missing: dict[str, str] = dict(observed_missing)
    # the 413 and 429 are answers of the API route: a target without it cannot give them
    no_api = discovery.missing("api_probe_path")
    for surface, url in _surfaces(target).items():
        with _client(url, surface, evidence) as client:
            if no_api is None:
                too_big = response_kinds.oversize(
                    client, params["api_probe_path"], params["max_body_bytes"]
                )
                observed[(surface, f"oversize-{too_big.status_code}")] = too_big
            else:
                missing[f"{surface} oversize"] = no_api
            _server_error(client, surface, params["error_probe_path"], observed, missing)
    limited = no_api or response_kinds.rate_limited(
        target.url, params["api_probe_path"], params["rate_limit_calls"],
        ("127.0.4.10", "127.0.4.11"), evidence.exchange,
    )  # fmt: skip
    if isinstance(limited, str):
        missing["backend 429"] = limited
    else:
        observed[("backend", "429")] = limited
    evidence.note("kinds checked", sorted(f"{s} {k}" for s, k in observed))
    evidence.note("kinds not provoked", missing)
    referrer: list[str] = params["referrer_policies"]
    min_age: int = params["hsts_min_max_age_s"]

    def referrer_check(h: Headers) -> Finding:
        return check_referrer_policy(h, referrer)

    def hsts_check(h: Headers) -> Finding:
        return check_hsts(h, min_age)

    checks: tuple[Callable[[Headers], Finding], ...] = (*_SIX, referrer_check)
    hsts = (hsts_check,)
    failures = [
        f"{surface} {kind} ({response.status_code}): {finding.reason}"
        for (surface, kind), response in sorted(observed.items())
        # HSTS belongs on every HTTPS response of a production deployment
        for check in checks + (hsts if _wants_hsts(response, harness_config) else ())
        if not (finding := check(_headers(response))).ok
    ]
    assert not failures, "; ".join(failures[:8])
