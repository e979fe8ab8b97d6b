"""The performance targets as verdicts: measured value, threshold, margin, and why."""

from __future__ import annotations

import socket
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from ipaddress import ip_address, ip_network
from typing import Any
from urllib.parse import urlsplit

from harness.load.results import LoadResult

# below this share of the planned rate a run is saturated: the deployment (or the generator)
# did not serve the load the scenario stands for
SATURATION_FLOOR = 0.9

# requirement id -> (what, parameter, percentile or None)
TARGETS: dict[str, tuple[str, str, float | None]] = {
    "LOAD-P50": ("P50 response time", "p50_ms", 50.0),
    "LOAD-P95": ("P95 response time", "p95_ms", 95.0),
    "LOAD-P99": ("P99 response time", "p99_ms", 99.0),
    "LOAD-ERROR-RATE": ("error rate", "max_error_rate", None),
    "LOAD-THROUGHPUT": ("throughput", "min_throughput_rps", None),
}


@dataclass(frozen=True)
class Exemption:
    """Whether the target exempts the load generator's address from rate limiting."""

    exempt: bool
    address: str
    reason: str

    @property
    def count_429(self) -> bool:
        return not self.exempt


@dataclass(frozen=True)
class Judgement:
    requirement: str
    passed: bool
    measured: float
    threshold: float
    unit: str
    margin: float  # how far inside the target (negative: how far outside)
    detail: str
    # False where the scenario cannot show it (planned below the throughput target)
    applicable: bool = True

    def as_evidence(self) -> dict[str, Any]:
        return asdict(self)


def generator_address(url: str) -> str:
    """The source address this host uses to reach ``url`` (what the target sees, barring NAT)."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.connect((parts.hostname or "127.0.0.1", port))  # UDP: picks a route, sends nothing
        return str(sock.getsockname()[0])


def exemption(url: str, facts: Mapping[str, Any], declared: bool) -> Exemption:
    """From the target's stated exempt list, else the ``load_generator_exempt`` parameter."""
    address = generator_address(url)
    listed: Sequence[str] | None = facts.get("rate_limit_exempt")
    if listed is not None:
        hit = any(ip_address(address) in ip_network(item, strict=False) for item in listed)
        where = f"the target's rate_limit_exempt {list(listed)}"
        return Exemption(
            hit,
            address,
            f"generator address {address} {'is' if hit else 'is not'} in {where}: 429 responses "
            + ("do not count as errors" if hit else "count as errors"),
        )
    if declared:
        return Exemption(
            True,
            address,
            f"load_generator_exempt=true declares generator address {address} exempt from "
            "rate limiting: 429 responses do not count as errors",
        )
    return Exemption(
        False,
        address,
        f"generator address {address} is not known to be exempt from rate limiting "
        "(set load_generator_exempt=true if it is): 429 responses count as errors",
    )


def judge(
    requirement: str, result: LoadResult, params: Mapping[str, Any], exempt: Exemption
) -> Judgement:
    """The verdict of one LOAD- target on ``result``."""
    what, name, percentile = TARGETS[requirement]
    threshold = float(params[name])
    invalid = result.invalid_reasons()
    if percentile is not None:
        measured = result.percentile_ms(percentile)
        raw = result.percentile_ms(percentile, corrected=False)
        ok, margin, unit = measured < threshold, threshold - measured, "ms"
        detail = (
            f"{what} {measured:.1f} ms (corrected for coordinated omission; "
            f"as measured {raw:.1f} ms, locust's own "
            f"{result.locust.get(f'p{int(percentile)}_ms')} ms) against < {threshold:g} ms"
        )
    elif requirement == "LOAD-ERROR-RATE":
        measured = result.error_rate(exempt.count_429)
        ok, margin, unit = measured < threshold, threshold - measured, "ratio"
        detail = (
            f"{result.errors(exempt.count_429)} errors in {result.requests} requests "
            f"({measured:.2%}) against < {threshold:.2%}; failures by kind "
            f"{result.failures() or {}}; {exempt.reason}"
        )
    else:
        measured = result.achieved_rps
        ok, margin, unit = measured > threshold, measured - threshold, "req/s"
        detail = (
            f"achieved {measured:.1f} req/s while all {result.scenario.users} users ran, "
            f"planned {result.planned_rps:.1f} req/s, against > {threshold:g} req/s"
        )
        if result.planned_rps <= threshold:
            detail += f"; not applicable: {result.scenario.name} plans no more than that"
            return Judgement(requirement, ok, measured, threshold, unit, margin, detail, False)
    if invalid:
        ok = False
        detail = f"invalid run, not judged: {'; '.join(invalid)} ({detail})"
    return Judgement(requirement, ok, measured, threshold, unit, margin, detail)


def saturation(result: LoadResult) -> str | None:
    """Why ``result`` is saturated (achieved below 90 % of the planned rate), else None."""
    planned, achieved = result.planned_rps, result.achieved_rps
    if planned <= 0 or achieved >= SATURATION_FLOOR * planned:
        return None
    return (
        f"saturated: achieved {achieved:.1f} req/s of {planned:.1f} planned "
        f"({achieved / planned:.0%}, below {SATURATION_FLOOR:.0%})"
    )


def saturation_failure(result: LoadResult) -> str | None:
    """Why a saturated run is not a pass of its scenario; None when it is not saturated or
    its requirement says saturation is what it probes (``probes_saturation``: stress, spike)."""
    from harness.spec import load_catalogue

    reason = saturation(result)
    rid = f"LOAD-SCENARIO-{result.scenario.name.upper()}"
    if reason is None or load_catalogue()[rid].probes_saturation:
        return None
    return f"{reason}: the deployment did not serve the load {result.scenario.name} stands for"
