"""The spec's ``security_settings`` object, read per ENVIRONMENT, judged: the fields
``setup_security_middleware`` is given in the spec's example, with values per environment."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

SETTINGS_FIELDS = (
    "allowed_hosts",
    "rate_limit_calls",
    "rate_limit_period",
    "ip_whitelist",
    "ip_blacklist",
)


def _is_network(value: Any) -> bool:
    try:
        ipaddress.ip_network(str(value), strict=False)
    except ValueError:
        return False
    return True


def _field_gaps(environment: str, values: Mapping[str, Any]) -> list[str]:
    gaps = [f"{environment}: no {name}" for name in SETTINGS_FIELDS if name not in values]
    hosts = values.get("allowed_hosts")
    if "allowed_hosts" in values and (
        not isinstance(hosts, list) or not hosts or not all(isinstance(h, str) for h in hosts)
    ):
        gaps.append(f"{environment}: allowed_hosts is {hosts!r}, not a list of host names")
    for name in ("rate_limit_calls", "rate_limit_period"):
        value = values.get(name)
        if name in values and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            gaps.append(f"{environment}: {name} is {value!r}, not a positive integer")
    for name in ("ip_whitelist", "ip_blacklist"):
        value = values.get(name)
        if name in values and (
            not isinstance(value, list) or not all(_is_network(item) for item in value)
        ):
            gaps.append(f"{environment}: {name} is {value!r}, not a list of addresses or networks")
    return gaps


def settings_gaps(
    by_environment: Mapping[str, Mapping[str, Any]], profile: str, rate: tuple[int, int]
) -> list[str]:
    """What breaks the claim in ``security_settings`` read with ENVIRONMENT=production and
    development: a missing or mistyped field, the run's ``profile`` not applying ``rate``
    (calls, period), a wildcard host in production, or values that ignore ENVIRONMENT."""
    gaps = [gap for env, values in by_environment.items() for gap in _field_gaps(env, values)]
    if gaps:
        return gaps
    production, development = by_environment["production"], by_environment["development"]
    mine = by_environment["production" if profile == "production" else "development"]
    applied = (mine["rate_limit_calls"], mine["rate_limit_period"])
    if applied != rate:
        gaps.append(
            f"{profile}: {applied[0]} requests per {applied[1]} s, "
            f"not the profile's {rate[0]} per {rate[1]} s"
        )
    if "*" in production["allowed_hosts"]:
        gaps.append("production: allowed_hosts holds '*', any Host is served")
    if production == development:
        gaps.append("production and development read the same values: ENVIRONMENT is ignored")
    elif development["rate_limit_calls"] / development["rate_limit_period"] < (
        production["rate_limit_calls"] / production["rate_limit_period"]
    ):
        gaps.append("development allows fewer requests than production")
    return gaps
