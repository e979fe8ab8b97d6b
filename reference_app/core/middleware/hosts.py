"""Security middleware layer: trusted hosts (spec: Applying Security Middleware,
``"allowed_hosts": security_settings.allowed_hosts``).

A request whose ``Host`` is not an allowed host gets 400 before any route sees it, so a forged
Host can never poison links the app builds (password-reset mails, redirects, caches). An
entry ``*`` allows any host, ``*.example.com`` any subdomain. An IP literal is always served:
it names no site an attacker could own, and orchestrators probe containers by their address.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable
from functools import lru_cache

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from reference_app.core.security_config import SecurityConfig

_INVALID = json.dumps({"detail": "Invalid host header"}).encode()


def host_of(scope: Scope) -> str:
    """The Host header's name, lower case, without port or IPv6 brackets."""
    for name, value in scope.get("headers", ()):
        if name == b"host":
            host = str(value.decode("latin-1")).strip().lower()
            if host.startswith("["):
                return host[1:].partition("]")[0]
            return host.rpartition(":")[0] if host.count(":") == 1 else host
    return ""


@lru_cache(maxsize=1024)  # asked on every request; the Host names a server sees repeat
def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def patterns_of(allowed: Iterable[str]) -> tuple[str, ...]:
    """The configured entries as ``is_allowed`` compares them."""
    return tuple(entry.strip().lower() for entry in allowed)


def is_allowed(host: str, allowed: Iterable[str]) -> bool:
    return _matches(host.lower(), patterns_of(allowed))


def _matches(host: str, patterns: tuple[str, ...]) -> bool:
    # the names first: they need no parsing, and an IP literal is served either way
    return any(
        pattern in ("*", host) or (pattern.startswith("*.") and host.endswith(pattern[1:]))
        for pattern in patterns
    ) or _is_ip(host)


class TrustedHostMiddleware:
    """Answers 400 to a request for a host the deployment does not serve."""

    def __init__(self, app: ASGIApp, config: SecurityConfig) -> None:
        self.app = app
        self.allowed = tuple(config.allowed_hosts)
        self.patterns = patterns_of(self.allowed)

    def accepts(self, scope: Scope) -> bool:
        return _matches(host_of(scope), self.patterns)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.accepts(scope):
            await self.app(scope, receive, send)
            return
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(_INVALID)).encode()),
        ]
        await send({"type": "http.response.start", "status": 400, "headers": headers})
        await send({"type": "http.response.body", "body": _INVALID})


def install(app: FastAPI, config: SecurityConfig) -> None:
    app.add_middleware(TrustedHostMiddleware, config=config)
