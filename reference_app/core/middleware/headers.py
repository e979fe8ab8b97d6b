"""Security middleware layer: security headers, cookie flags and CORS (pure ASGI).

The headers layer wraps every inner layer, so the 413, 429 and 403 answers of the
validation, rate-limit and IP-filter layers carry the headers too, and so do the app's
errors. HSTS is sent in production over HTTPS only: the request's own scheme, or
X-Forwarded-Proto when the peer is a trusted proxy (RFC 6797 7.2: never over plain HTTP).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reference_app.core.security_config import SecurityConfig

CSP = (
    "default-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'; "
    "base-uri 'self'; form-action 'self'"
)
HSTS = "max-age=31536000; includeSubDomains"
SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("x-xss-protection", "0"),  # the spec names it; 0 switches the legacy filter off
    ("content-security-policy", CSP),
    ("referrer-policy", "strict-origin-when-cross-origin"),
)
_DROPPED = frozenset({b"server", b"x-powered-by"})
_OWN = frozenset(name.encode() for name, _ in SECURITY_HEADERS) | {b"strict-transport-security"}
_REPLACED = _DROPPED | _OWN


def _networks(items: Iterable[str]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in items)


class SecurityHeadersMiddleware:
    """Adds the security headers to every HTTP response and hardens its cookies."""

    def __init__(self, app: ASGIApp, config: SecurityConfig) -> None:
        self.app = app
        self.production = config.environment == "production"
        self.trusted = _networks(config.trusted_proxies)
        self.headers: list[tuple[bytes, bytes]] = [
            (name.encode(), value.encode()) for name, value in self.security_headers()
        ]

    def security_headers(self) -> Iterable[tuple[str, str]]:
        return SECURITY_HEADERS

    def hsts(self) -> str:
        return HSTS

    def is_https(self, scope: Scope) -> bool:
        if scope.get("scheme") == "https":
            return True
        client = scope.get("client")
        if not client or not self.trusted:
            return False
        try:
            peer = ipaddress.ip_address(client[0])
        except ValueError:
            return False
        if not any(peer in network for network in self.trusted):
            return False
        for name, value in scope.get("headers", ()):
            if name == b"x-forwarded-proto":
                # the nearest proxy appends last
                proto: str = value.decode("latin-1").split(",")[-1].strip().lower()
                return proto == "https"
        return False

    def sends_hsts(self, scope: Scope) -> bool:
        return self.production and self.is_https(scope)

    def rewrite(self, headers: list[tuple[bytes, bytes]], hsts: bool) -> list[tuple[bytes, bytes]]:
        kept: list[tuple[bytes, bytes]] = []
        granted = False
        for name, value in headers:
            lower = name.lower()
            if lower in _REPLACED:
                continue
            granted = granted or lower == b"access-control-allow-origin"
            kept.append((name, self.cookie(value) if lower == b"set-cookie" else value))
        if not granted:
            # Starlette sends Allow-Credentials to any Origin; without a grant it only confuses
            kept = [(n, v) for n, v in kept if n.lower() != b"access-control-allow-credentials"]
        kept.extend(self.headers)
        if hsts:
            kept.append((b"strict-transport-security", self.hsts().encode()))
        return kept

    def cookie(self, value: bytes) -> bytes:
        # attribute names only: the cookie's own value may contain any of these words
        names = {part.split(b"=")[0].strip().lower() for part in value.split(b";")[1:]}
        extra = b""
        if b"httponly" not in names:
            extra += b"; HttpOnly"
        if b"samesite" not in names:
            extra += b"; SameSite=Lax"
        if self.production and b"secure" not in names:
            extra += b"; Secure"
        return value + extra

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        hsts = self.sends_hsts(scope)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": self.rewrite(list(message["headers"]), hsts)}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def cors_options(config: SecurityConfig) -> dict[str, object]:
    """Starlette CORSMiddleware options: the configured origins only, echoed exactly."""
    return {
        "allow_origins": list(config.cors_origins),
        "allow_credentials": True,
        "allow_methods": ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        "allow_headers": ["Authorization", "Content-Type", "X-Request-ID"],
        "max_age": 600,
    }


def install(app: FastAPI, config: SecurityConfig) -> None:
    """Add CORS, then the headers layer around it (the last added is the outermost)."""
    app.add_middleware(CORSMiddleware, **cors_options(config))  # type: ignore[arg-type]
    app.add_middleware(SecurityHeadersMiddleware, config=config)
