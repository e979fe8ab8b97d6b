"""The rate-limit middleware in process: budgets, headers, exemptions and a storage outage."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from reference_app.core.middleware.ratelimit import RateLimitMiddleware, install
from reference_app.core.security_config import SecurityConfig, security_config


def _config(**overrides: Any) -> SecurityConfig:
    base = security_config("production", None)
    values: dict[str, Any] = {
        "rate_limit_calls": 3,
        "rate_limit_period": 60,
        "endpoint_limits": {"/login": (2, 60)},
        "rate_limit_storage": "memory://",
    }
    return dataclasses.replace(base, **{**values, **overrides})


def _app(config: SecurityConfig) -> FastAPI:
    app = FastAPI()

    @app.get("/{path:path}")
    def anything(path: str) -> dict[str, str]:
        return {"path": path}

    install(app, config)
    return app


def _statuses(app: FastAPI, path: str, count: int, ip: str = "10.0.0.1") -> list[httpx.Response]:
    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app, client=(ip, 1234))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return [await client.get(path) for _ in range(count)]

    return asyncio.run(run())


def test_exactly_the_limit_then_429_with_headers() -> None:
    responses = _statuses(_app(_config()), "/api", 4)
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert [r.headers["x-ratelimit-remaining"] for r in responses] == ["2", "1", "0", "0"]
    refused = responses[-1]
    assert 0 < int(refused.headers["retry-after"]) <= 60
    assert refused.headers["x-ratelimit-limit"] == "3"
    assert refused.headers["ratelimit-policy"] == '"default";q=3;w=60'
    assert refused.headers["ratelimit"].startswith('"default";r=0;t=')


def test_endpoint_limit_is_separate_and_applies_by_prefix() -> None:
    app = _app(_config())
    assert [r.status_code for r in _statuses(app, "/login/x", 3)] == [200, 200, 429]
    assert _statuses(app, "/api", 1)[0].status_code == 200


def test_clients_have_their_own_budgets_and_exempt_addresses_none() -> None:
    app = _app(_config(rate_limit_exempt=("10.9.0.0/16",)))
    assert _statuses(app, "/api", 4, ip="10.0.0.1")[-1].status_code == 429
    assert _statuses(app, "/api", 1, ip="10.0.0.2")[0].status_code == 200
    exempt = _statuses(app, "/api", 5, ip="10.9.1.1")
    assert {r.status_code for r in exempt} == {200}
    assert "x-ratelimit-limit" not in exempt[0].headers


def test_forwarded_for_only_from_trusted_proxies() -> None:
    app = _app(_config(trusted_proxies=("10.0.0.5",)))

    async def run(peer: str, xff: str) -> int:
        transport = httpx.ASGITransport(app=app, client=(peer, 1))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return (await client.get("/", headers={"X-Forwarded-For": xff})).status_code

    assert [asyncio.run(run("10.0.0.1", f"192.0.2.{i}")) for i in range(4)][-1] == 429
    assert [asyncio.run(run("10.0.0.5", "192.0.2.50")) for _ in range(3)] == [200] * 3


class _Broken(RateLimitMiddleware):
    async def _fail(self, *args: Any, **kwargs: Any) -> bool:
        raise ConnectionError("redis: connection refused")

    def __init__(self, app: Any, config: SecurityConfig) -> None:
        super().__init__(app, config)
        self.limiter.hit = self._fail  # type: ignore[method-assign]


def _broken_app(config: SecurityConfig) -> FastAPI:
    app = _app(config)
    # starlette's Middleware types its factory by ParamSpec, which a subclass cannot satisfy
    app.user_middleware[0] = app.user_middleware[0].__class__(_Broken, config=config)  # type: ignore[call-arg, arg-type]
    return app


def test_storage_down_fails_open_with_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="reference_app.ratelimit"):
        responses = _statuses(_broken_app(_config()), "/api", 5)
    assert {r.status_code for r in responses} == {200}
    warnings = [r for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(warnings) == 1
    assert "failing open" in warnings[0].getMessage()


def test_storage_down_fails_closed_when_configured() -> None:
    responses = _statuses(_broken_app(_config(rate_limit_fail_mode="closed")), "/api", 2)
    assert [r.status_code for r in responses] == [503, 503]
    assert responses[0].headers["retry-after"] == "1"


def test_redis_storage_uses_short_timeouts() -> None:
    from reference_app.core.middleware.ratelimit import make_storage

    storage = make_storage("redis://127.0.0.1:1/0")
    assert type(storage).__name__ == "RedisStorage"
