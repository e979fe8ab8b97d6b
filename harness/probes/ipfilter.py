"""Addresses to probe an IP filter with: which configured entries the harness can send from."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

LOOPBACK = ipaddress.ip_network("127.0.0.0/8")


def _network(entry: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(str(entry).strip(), strict=False)
    except ValueError:
        return None


def first_address(entries: Iterable[str]) -> str | None:
    """A loopback address of ``entries`` (addresses or CIDR ranges) the harness can send from;
    None when no entry holds one."""
    for entry in entries:
        network = _network(entry)
        if network is None or network.version != 4 or not network.subnet_of(LOOPBACK):  # type: ignore[arg-type]
            continue
        if network.num_addresses == 1:
            return str(network.network_address)
        # a range: skip its network address, which some stacks refuse to bind
        return str(network.network_address + 1)
    return None


def is_listed(address: str, entries: Iterable[str]) -> bool:
    parsed = ipaddress.ip_address(address)
    networks = [network for network in map(_network, entries) if network is not None]
    return any(parsed.version == network.version and parsed in network for network in networks)


def address_outside(entries: Iterable[str], candidates: Iterable[str]) -> str:
    """The first of ``candidates`` that no entry lists; ValueError when all are listed."""
    listed = list(entries)
    for candidate in candidates:
        if not is_listed(candidate, listed):
            return candidate
    raise ValueError(f"every candidate address is on the list {listed}")
