"""Mutants of the rate limiter: each breaks one SEC-RL-* claim."""

from __future__ import annotations

from fastapi import FastAPI
from limits import RateLimitItemPerSecond
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reference_app.core.config import Settings
from reference_app.core.middleware.ratelimit import (
    RateLimitMiddleware,
    _in,
    make_storage,
)
from reference_app.core.security_config import SecurityConfig
from reference_app.mutants import ApplyMutant, register, replace_middleware


class _OffByOne(RateLimitMiddleware):
    def __init__(self, app: ASGIApp, config: SecurityConfig) -> None:
        super().__init__(app, config)
        self.default = RateLimitItemPerSecond(config.rate_limit_calls + 1, config.rate_limit_period)


class _PerReplica(RateLimitMiddleware):
    def __init__(self, app: ASGIApp, config: SecurityConfig) -> None:
        super().__init__(app, config)
        self.limiter = self.strategy(make_storage("memory://"))


class _NeverResets(RateLimitMiddleware):
    def budget(self, path: str) -> tuple[str, RateLimitItemPerSecond]:
        name, item = super().budget(path)
        return name, RateLimitItemPerSecond(item.amount, item.get_expiry() * 1000)


class _PerRoute(RateLimitMiddleware):
    """One default budget per path, as route-decorator limiters keep them."""

    def budget(self, path: str) -> tuple[str, RateLimitItemPerSecond]:
        name, item = super().budget(path)
        return (path if name == "default" else name), item


class _GlobalBudget(RateLimitMiddleware):
    def client_key(self, scope: Scope) -> str:
        return "everyone"


class _NoLoginLimit(RateLimitMiddleware):
    def __init__(self, app: ASGIApp, config: SecurityConfig) -> None:
        super().__init__(app, config)
        self.endpoints = []


class _TrustsAnyForwardedFor(RateLimitMiddleware):
    def client_key(self, scope: Scope) -> str:
        for name, value in scope.get("headers", ()):
            if name == b"x-forwarded-for":
                return str(value.decode("latin-1")).split(",")[0].strip()
        return super().client_key(scope)


class _NoRetryAfter(RateLimitMiddleware):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def strip(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", ()) if k != b"retry-after"]
                message = {**message, "headers": headers}
            await send(message)

        await super().__call__(scope, receive, strip)


class _CrashesWithoutRedis(RateLimitMiddleware):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not _in(self.client_key(scope), self.exempt):
            name, item = self.budget(scope.get("path", "/"))
            await self.limiter.hit(item, name, self.client_key(scope))  # raises while down
        await super().__call__(scope, receive, send)


def _swap(defective: type[RateLimitMiddleware]) -> ApplyMutant:
    def apply(app: FastAPI, settings: Settings) -> None:
        replace_middleware(app, RateLimitMiddleware, defective)

    return apply


_MUTANTS: list[tuple[str, tuple[str, ...], str, type[RateLimitMiddleware]]] = [
    ("ratelimit-off-by-one", ("SEC-RL-DEFAULT-LIMIT",), "serves limit + 1 requests", _OffByOne),
    (
        "ratelimit-per-replica",
        ("SEC-RL-REDIS-SHARED",),
        "counts in process memory even when Redis is configured",
        _PerReplica,
    ),
    (
        "ratelimit-never-resets",
        ("SEC-RL-WINDOW-RESET",),
        "the window lasts 1000 times the period",
        _NeverResets,
    ),
    (
        "ratelimit-per-route",
        ("SEC-RL-DEFAULT-LIMIT",),
        "counts the default budget per route, not per client",
        _PerRoute,
    ),
    ("ratelimit-global-budget", ("SEC-RL-PER-IP",), "one budget for all clients", _GlobalBudget),
    (
        "ratelimit-no-login-limit",
        ("SEC-RL-LOGIN", "SEC-RL-PER-ENDPOINT"),
        "the login endpoint counts against the default budget only",
        _NoLoginLimit,
    ),
    (
        "ratelimit-trusts-forwarded-for",
        ("SEC-RL-XFF",),
        "believes X-Forwarded-For from any client",
        _TrustsAnyForwardedFor,
    ),
    ("ratelimit-no-retry-after", ("SEC-RL-429",), "429 without Retry-After", _NoRetryAfter),
    (
        "ratelimit-crashes-without-redis",
        ("SEC-RL-REDIS-DOWN",),
        "storage errors are not handled (500 while Redis is down)",
        _CrashesWithoutRedis,
    ),
]

for _name, _rid, _description, _cls in _MUTANTS:
    register(_name, breaks=_rid, description=f"rate limiter {_description}")(_swap(_cls))
