"""Load and attack traffic only goes to loopback or hosts the user allowed explicitly."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_allowed_host(url: str, allow_hosts: tuple[str, ...] = ()) -> bool:
    """True when ``url`` points at loopback or at a host named in ``allow_hosts``."""
    host = (urlsplit(url).hostname or "").lower()
    return _is_loopback(host) or host in {h.lower() for h in allow_hosts}
