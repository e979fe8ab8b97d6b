"""Security Configuration > Development: no HTTPS requirement and higher rate limits
(CFG-HTTP-DEV, CFG-DEV-RATE-LIMIT). Both apply to the development profile only.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from harness.probes import answers
from harness.probes.http import client_for, next_loopback_address
from harness.report.evidence import Evidence
from harness.spec import load_catalogue
from harness.targets import Capability, Target

requirement = pytest.mark.requirement
needs_path = pytest.mark.needs_path


@requirement("CFG-HTTP-DEV")
@needs_path("api_probe_path")
def test_served_over_plain_http(
    target: Target, http: httpx.Client, params: dict[str, Any], evidence: Evidence
) -> None:
    if urlsplit(target.url).scheme != "http":
        pytest.skip(
            f"the target URL {target.url} is HTTPS: give the development deployment's "
            "plain-HTTP URL with --target-url"
        )
    path = params["api_probe_path"]
    response = http.get(path)
    location = response.headers.get("location", "")
    evidence.note("plain HTTP", {"status": response.status_code, "location": location})
    redirected = response.is_redirect and urlsplit(location).scheme == "https"
    assert not redirected, f"GET {path} over plain HTTP is redirected to HTTPS ({location})"
    status = response.status_code
    assert status < 400, f"GET {path} over plain HTTP answered {status}"


@requirement("CFG-DEV-RATE-LIMIT")
@needs_path("api_probe_path")
def test_more_than_the_production_limit_is_served(
    target: Target, params: dict[str, Any], evidence: Evidence
) -> None:
    production = load_catalogue().parameters["rate_limit_calls"].default_for("production")
    path, count = params["api_probe_path"], production + 1
    fresh = target.has(Capability.CLIENT_ADDRESSES)
    source = next_loopback_address() if fresh else None
    statuses: dict[int, int] = {}
    first_429 = None
    with client_for(target.url, local_address=source, retry_429=False) as client:
        for number in range(1, count + 1):
            response = client.get(path)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            if response.status_code == 429:
                first_429 = number
                break
            answers.present(response, "the API's answer", answers.FORMULAS_API)
    evidence.note("burst", {"sent": count, "statuses": statuses, "first 429": first_429})
    if first_429 is not None and not fresh:
        pytest.skip(
            f"429 after {first_429} requests, but every check shares this client address, "
            "so the window may hold other checks' requests: cannot judge"
        )
    assert first_429 is None, (
        f"429 after {first_429} requests in one window: development serves no more than the "
        f"production default of {production}"
    )
