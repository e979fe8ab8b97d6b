"""Security middleware layer: rate limiting per client IP, pure ASGI, with the `limits` library.

Strategy: fixed window (``limits.aio.strategies.FixedWindowRateLimiter``). A window opens
with a client's first request and lasts ``rate_limit_period`` seconds; one INCR per request
keeps Redis cheap, and the announced reset is exact: once it has passed the client has its
whole budget again. The cost is the known burst of up to twice the limit across a window
boundary, acceptable for the spec's abuse protection.

Storage: ``config.rate_limit_storage`` (``memory://`` in the embedded app, ``redis://`` from
REDIS_URL on the container stack, so replicas share one budget per client IP).

Budgets: a request whose path starts with a prefix of ``config.endpoint_limits`` counts only
against that prefix's limit (the login limit is separate from, and stricter than, the
default); every other request counts against the default ``rate_limit_calls`` per
``rate_limit_period``. Addresses in ``rate_limit_exempt`` are not limited.

Client IP: ``ipfilter.client_address``, the socket peer; ``X-Forwarded-For`` is believed only when
the peer is one of ``config.trusted_proxies``.

Every limited response carries ``X-RateLimit-Limit`` / ``-Remaining`` / ``-Reset`` (seconds
until the window resets) and the IETF ``RateLimit`` / ``RateLimit-Policy`` fields; a refused
request gets 429 with ``Retry-After``.

While the storage is unreachable (Redis down): ``rate_limit_fail_mode`` ``open`` serves the
request without rate-limit headers and logs a warning (at most once per 10 s); ``closed``
answers 503 with ``Retry-After: 1``.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import math
import time
from typing import Any

from fastapi import FastAPI
from limits import RateLimitItemPerSecond
from limits.aio.storage import Storage
from limits.aio.strategies import FixedWindowRateLimiter, RateLimiter
from limits.storage import storage_from_string
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reference_app.core.middleware.ipfilter import (
    client_address,
    is_listed,
    parse_address,
    parse_networks,
)
from reference_app.core.security_config import SecurityConfig

logger = logging.getLogger("reference_app.ratelimit")
WARN_EVERY_S = 10.0
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _in(address: str, networks: tuple[Network, ...]) -> bool:
    return bool(networks) and is_listed(parse_address(address), networks)


def make_storage(uri: str) -> Storage:
    """An async `limits` storage for ``memory://`` or ``redis://`` URIs, with short timeouts."""
    if uri.startswith("memory://"):
        return storage_from_string("async+memory://")  # type: ignore[return-value]
    if uri.startswith(("redis://", "rediss://")):
        return storage_from_string(  # type: ignore[return-value]
            "async+" + uri,
            implementation="redispy",
            socket_connect_timeout=0.5,
            socket_timeout=0.5,
        )
    return storage_from_string(uri)  # type: ignore[return-value]


class RateLimitMiddleware:
    """Counts each request against its client's budget; 429 beyond it."""

    strategy: type[RateLimiter] = FixedWindowRateLimiter

    def __init__(self, app: ASGIApp, config: SecurityConfig) -> None:
        self.app = app
        self.config = config
        self.default = RateLimitItemPerSecond(config.rate_limit_calls, config.rate_limit_period)
        # longest prefix first, so a more specific endpoint limit wins
        self.endpoints = [
            (prefix, RateLimitItemPerSecond(calls, period))
            for prefix, (calls, period) in sorted(
                config.endpoint_limits.items(), key=lambda item: -len(item[0])
            )
        ]
        self.exempt = parse_networks(config.rate_limit_exempt)
        self.trusted = parse_networks(config.trusted_proxies)
        self.limiter = self.strategy(make_storage(config.rate_limit_storage))
        self._warned_at = -math.inf

    def budget(self, path: str) -> tuple[str, RateLimitItemPerSecond]:
        for prefix, item in self.endpoints:
            if path.startswith(prefix):
                return prefix, item
        return "default", self.default

    def client_key(self, scope: Scope) -> str:
        return client_address(scope, self.trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = self.client_key(scope)
        if _in(client, self.exempt):
            await self.app(scope, receive, send)
            return
        name, item = self.budget(scope.get("path", "/"))
        try:
            allowed = await self.limiter.hit(item, name, client)
            stats = await self.limiter.get_window_stats(item, name, client)
        except Exception as exc:  # the storage is unreachable: Redis down
            await self._storage_failed(exc, scope, receive, send)
            return
        reset = max(1, math.ceil(stats.reset_time - time.time()))
        headers = _headers(name, item, max(0, stats.remaining), reset)
        if not allowed:
            body = json.dumps(
                {"detail": f"rate limit exceeded: {item.amount} per {item.get_expiry()} s"}
            ).encode()
            await _answer(send, 429, body, [*headers, (b"retry-after", str(reset).encode())])
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), *headers]}
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _storage_failed(
        self, exc: Exception, scope: Scope, receive: Receive, send: Send
    ) -> None:
        now = time.monotonic()
        if now - self._warned_at >= WARN_EVERY_S:
            self._warned_at = now
            logger.warning(
                "rate-limit storage unreachable (%s: %s); failing %s",
                type(exc).__name__,
                exc,
                self.config.rate_limit_fail_mode,
            )
        if self.config.rate_limit_fail_mode == "closed":
            body = b'{"detail": "rate limiting unavailable"}'
            await _answer(send, 503, body, [(b"retry-after", b"1")])
            return
        await self.app(scope, receive, send)


def _headers(
    name: str, item: RateLimitItemPerSecond, remaining: int, reset: int
) -> list[tuple[bytes, bytes]]:
    policy = "default" if name == "default" else "endpoint"
    return [
        (b"x-ratelimit-limit", str(item.amount).encode()),
        (b"x-ratelimit-remaining", str(remaining).encode()),
        (b"x-ratelimit-reset", str(reset).encode()),
        (b"ratelimit", f'"{policy}";r={remaining};t={reset}'.encode()),
        (b"ratelimit-policy", f'"{policy}";q={item.amount};w={item.get_expiry()}'.encode()),
    ]


async def _answer(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    start: dict[str, Any] = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            *headers,
        ],
    }
    await send(start)
    await send({"type": "http.response.body", "body": body})


def install(app: FastAPI, config: SecurityConfig) -> None:
    """Add this layer to ``app``."""
    app.add_middleware(RateLimitMiddleware, config=config)
