"""Security middleware layer: IP filtering (spec: Security Middleware > IP Filtering).

A deny-listed client gets 403; with an allow list configured only listed clients are served.
The client is the socket peer, unless that peer is a configured trusted proxy: then the
right-most address of ``X-Forwarded-For`` that is not itself a trusted proxy. A header sent
by anyone else is ignored, so it cannot be used to slip past the lists.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable
from functools import lru_cache

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from reference_app.core.security_config import SecurityConfig

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

_FORBIDDEN = json.dumps({"detail": "Forbidden: your address is not allowed"}).encode()


@lru_cache(maxsize=64)
def parse_networks(items: tuple[str, ...]) -> tuple[Network, ...]:
    """Addresses or CIDR ranges as networks; ValueError names the bad entry."""
    networks: list[Network] = []
    for item in items:
        try:
            networks.append(ipaddress.ip_network(item.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{item!r} is not an IP address or CIDR range") from None
    return tuple(networks)


# every request parses its peer (and the IP filter, rate limiter and audit log each ask):
# the few addresses a server sees repeat, and a bounded cache keeps hostile headers cheap
@lru_cache(maxsize=4096)
def parse_address(text: str) -> Address | None:
    """An address from a peer or a forwarded-header entry (``[v6]:port`` and
    ``v4:port`` included); IPv4-mapped IPv6 becomes IPv4; None when malformed."""
    text = text.strip().strip('"')
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_listed(address: Address | None, networks: Iterable[Network]) -> bool:
    return address is not None and any(
        address.version == network.version and address in network for network in networks
    )


def forwarded_for(scope: Scope) -> list[str]:
    entries: list[str] = []
    for name, value in scope.get("headers", ()):
        if name.lower() == b"x-forwarded-for":
            entries.extend(value.decode("latin-1").split(","))
    return entries


@lru_cache(maxsize=4096)
def _canonical(text: str) -> str:
    address = parse_address(text)
    return str(address) if address is not None else text


def client_ip(scope: Scope, trusted_proxies: Iterable[str | Network]) -> str:
    """The client's address: ``X-Forwarded-For`` is believed only when the socket peer is a
    trusted proxy, and then only up to the right-most address that is not a trusted proxy."""
    return client_address(scope, parse_networks(tuple(str(item) for item in trusted_proxies)))


def client_address(scope: Scope, trusted: tuple[Network, ...]) -> str:
    """``client_ip`` with the trusted proxies already parsed (the middleware's per-request path)."""
    client = scope.get("client")
    peer_text = str(client[0]) if client else ""
    if not trusted:  # the common case, and the cheapest answer
        return _canonical(peer_text)
    peer = parse_address(peer_text)
    if not is_listed(peer, trusted):
        return _canonical(peer_text)
    assert peer is not None
    current: Address = peer
    for entry in reversed(forwarded_for(scope)):
        hop = parse_address(entry)
        if hop is None:
            break  # a malformed hop: nothing left of it can be trusted
        current = hop
        if not is_listed(hop, trusted):
            break
    return str(current)


class IPFilterMiddleware:
    """Answers 403 to deny-listed clients and, in allow-list mode, to unlisted ones."""

    def __init__(self, app: ASGIApp, config: SecurityConfig) -> None:
        self.app = app
        self.deny = parse_networks(tuple(config.ip_blacklist))
        self.allow = parse_networks(tuple(config.ip_whitelist))
        self.trusted = parse_networks(tuple(config.trusted_proxies))

    def client_of(self, scope: Scope) -> str:
        return client_address(scope, self.trusted)

    def refuses(self, address: str) -> bool:
        if not self.deny and not self.allow:
            return False
        parsed = parse_address(address)
        if is_listed(parsed, self.deny):
            return True
        return bool(self.allow) and not is_listed(parsed, self.allow)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or not self.refuses(self.client_of(scope)):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        await send(
            {
                "type": "http.response.start",
                "status": 403,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(_FORBIDDEN)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": _FORBIDDEN})


def install(app: FastAPI, config: SecurityConfig) -> None:
    """Add this layer to ``app``; a malformed list entry stops the start with its name."""
    for key in ("ip_blacklist", "ip_whitelist", "trusted_proxies"):
        try:
            parse_networks(tuple(getattr(config, key)))
        except ValueError as exc:
            raise ValueError(f"SECURITY_{key.upper()}: {exc}") from None
    app.add_middleware(IPFilterMiddleware, config=config)
