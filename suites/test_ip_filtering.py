"""Security Hardening > Security Middleware > IP Filtering: deny list, allow list, settings per
environment, and X-Forwarded-For believed only from trusted proxies.

The checks send from loopback source addresses of their own (Capability.CLIENT_ADDRESSES):
the deny-listed address comes from ``ip_denylist`` (the embedded target states the one it
configured); the allow-list and per-environment checks start a second instance of the app
with other lists (Capability.VARIANTS), as no check may lock everyone else out of the main one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from harness.config import HarnessConfig
from harness.probes.http import client_for
from harness.probes.ipfilter import address_outside, first_address
from harness.report.evidence import Evidence
from harness.targets import Capability, Target

requirement = pytest.mark.requirement
needs_path = pytest.mark.needs_path
# outside the 127.0.0.10-250 that other checks' clients use (harness.probes.http)
ALLOWED = "127.0.0.251"
OTHER = "127.0.0.252"


@pytest.fixture
def ip(params: dict[str, Any], target: Target) -> dict[str, Any]:
    """The parameters, with the lists the target configured where the user set none (the
    ``params`` fixture resolves them and records the values applied)."""
    target.require(Capability.CLIENT_ADDRESSES)
    return params


@pytest.fixture
def send(evidence: Evidence) -> Iterator[Any]:
    """``send(base_url, source, path, headers)``: one GET from a loopback source address."""
    clients: list[httpx.Client] = []

    def get(base: str, source: str, path: str, **headers: str) -> httpx.Response:
        client = client_for(base, on_response=evidence.exchange, local_address=source)
        clients.append(client)
        return client.get(path, headers=headers)

    yield get
    for client in clients:
        client.close()


def _denied_address(ip: dict[str, Any]) -> str:
    address = first_address(ip["ip_denylist"])
    if address is None:
        pytest.skip("no loopback address in ip_denylist to send from; set --param ip_denylist")
    return address


@requirement("SEC-IP-DENYLIST")
@needs_path("api_probe_path")
def test_denylisted_address_gets_403(
    target: Target, ip: dict[str, Any], send: Any, evidence: Evidence
) -> None:
    denied, path = _denied_address(ip), ip["api_probe_path"]
    refused = send(target.url, denied, path)
    served = send(target.url, ALLOWED, path)
    evidence.note("statuses", {denied: refused.status_code, ALLOWED: served.status_code})
    assert refused.status_code == 403, f"deny-listed {denied} got {refused.status_code}"
    assert served.status_code != 403, f"{ALLOWED}, not on the deny list, got 403 too"


@requirement("SEC-IP-XFF-UNTRUSTED")
@needs_path("api_probe_path")
def test_spoofed_forwarded_for_does_not_bypass_denylist(
    target: Target, ip: dict[str, Any], send: Any, evidence: Evidence
) -> None:
    denied = _denied_address(ip)
    assert first_address(ip["trusted_proxies"]) != denied, "the denied address is a proxy"
    # from a peer the deployment does not trust as a proxy (a relay container on a stack)
    untrusted = target.untrusted_url(target.url, denied)
    response = send(untrusted, denied, ip["api_probe_path"], **{"X-Forwarded-For": ALLOWED})
    evidence.note("spoofed X-Forwarded-For", {"from": denied, "claims": ALLOWED})
    assert response.status_code == 403, (
        f"{denied} (deny-listed, not a trusted proxy) claiming X-Forwarded-For: {ALLOWED} got "
        f"{response.status_code}: the forwarded header was believed from an untrusted address"
    )


@requirement("SEC-IP-XFF-TRUSTED")
@needs_path("api_probe_path")
def test_denied_client_is_refused_through_the_proxy(
    target: Target, ip: dict[str, Any], send: Any, evidence: Evidence
) -> None:
    frontend = target.require(Capability.FRONTEND)
    denied, path = _denied_address(ip), ip["api_probe_path"]
    refused = send(frontend, denied, path)
    served = send(frontend, ALLOWED, path)
    evidence.note(
        "through the frontend", {denied: refused.status_code, ALLOWED: served.status_code}
    )
    assert refused.status_code == 403, (
        f"deny-listed {denied} got {refused.status_code} through the frontend: the backend "
        "judged the proxy's address, not the forwarded client's"
    )
    assert served.status_code != 403, f"{ALLOWED} got 403 through the frontend"


@requirement("SEC-IP-ALLOWLIST")
@needs_path("api_probe_path")
def test_allowlist_mode_serves_only_listed_addresses(
    target: Target, ip: dict[str, Any], send: Any, evidence: Evidence
) -> None:
    variants = target.require(Capability.VARIANTS)
    allow = ip["ip_allowlist"] or [ALLOWED]
    listed = first_address(allow) or ALLOWED
    unlisted = address_outside(allow, [OTHER, "127.0.0.254"])
    # the harness's own start-up probe comes from 127.0.0.1
    with variants.variant(ip_allowlist=[*allow, "127.0.0.1"]) as variant:
        served = send(variant.url, listed, ip["api_probe_path"])
        refused = send(variant.url, unlisted, ip["api_probe_path"])
    evidence.note("allow list", allow)
    evidence.note("statuses", {listed: served.status_code, unlisted: refused.status_code})
    assert served.status_code != 403, f"{listed} is on the allow list but got 403"
    assert refused.status_code == 403, (
        f"{unlisted}, not on the allow list, got {refused.status_code}"
    )


@requirement("SEC-IP-PER-ENVIRONMENT")
@needs_path("api_probe_path")
def test_lists_follow_the_environment_settings(
    target: Target, ip: dict[str, Any], send: Any, evidence: Evidence, harness_config: HarnessConfig
) -> None:
    variants = target.require(Capability.VARIANTS)
    path, main_denied = ip["api_probe_path"], _denied_address(ip)
    other_profile = "development" if harness_config.profile == "production" else "production"
    before = send(target.url, OTHER, path).status_code
    with variants.variant(profile=other_profile, ip_denylist=[OTHER]) as variant:
        now_denied = send(variant.url, OTHER, path).status_code
        formerly_denied = send(variant.url, main_denied, path).status_code
    evidence.note(
        f"{other_profile} instance with ip_denylist=[{OTHER}]",
        {OTHER: now_denied, main_denied: formerly_denied, f"{OTHER} on the main app": before},
    )
    assert before != 403, f"{OTHER} is refused by the main app already"
    assert now_denied == 403, f"{OTHER} got {now_denied} from an instance that deny-lists it"
    assert formerly_denied != 403, (
        f"{main_denied} is refused by an instance whose settings do not list it: the list does "
        "not come from the settings"
    )
