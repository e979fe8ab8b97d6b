"""The security-headers layer: HSTS only over HTTPS in production, cookies, disclosure, CORS."""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from reference_app.core.middleware import headers
from reference_app.core.security_config import SecurityConfig, security_config

pytestmark = pytest.mark.anyio
PROXY = "10.1.2.3"


def _app(config: SecurityConfig) -> Starlette:
    async def page(request: Request) -> PlainTextResponse:
        response = PlainTextResponse("ok", headers={"Server": "uvicorn/0.30", "X-Powered-By": "x"})
        response.set_cookie("sid", "1")
        return response

    app = Starlette(routes=[Route("/", page)])
    headers.install(app, config)  # type: ignore[arg-type]
    return app


async def _get(
    config: SecurityConfig, *, base: str = "http://t", client: str = "127.0.0.1", **kw: str
) -> httpx.Response:
    transport = httpx.ASGITransport(app=_app(config), client=(client, 1234))
    async with httpx.AsyncClient(transport=transport, base_url=base) as http:
        return await http.get("/", headers=kw)


def _config(environment: str = "production", proxies: tuple[str, ...] = ()) -> SecurityConfig:
    return replace(security_config(environment, None), trusted_proxies=proxies)


@pytest.mark.parametrize(
    ("environment", "base", "client", "proto", "proxies", "hsts"),
    [
        ("production", "https://t", "127.0.0.1", "", (), True),
        ("production", "http://t", "127.0.0.1", "", (), False),
        ("development", "https://t", "127.0.0.1", "", (), False),
        ("production", "http://t", PROXY, "https", ("10.0.0.0/8",), True),
        ("production", "http://t", PROXY, "http, https", ("10.0.0.0/8",), True),
        ("production", "http://t", PROXY, "https", (), False),  # proxy not trusted
        ("production", "http://t", "127.0.0.1", "https", ("10.0.0.0/8",), False),
        ("production", "http://t", PROXY, "http", ("10.0.0.0/8",), False),
    ],
)
async def test_hsts_only_over_https_in_production(
    environment: str, base: str, client: str, proto: str, proxies: tuple[str, ...], hsts: bool
) -> None:
    extra = {"x-forwarded-proto": proto} if proto else {}
    response = await _get(_config(environment, proxies), base=base, client=client, **extra)
    assert ("strict-transport-security" in response.headers) is hsts


async def test_headers_cookies_and_disclosure() -> None:
    response = await _get(_config())
    for name, value in headers.SECURITY_HEADERS:
        assert response.headers.get_list(name) == [value]
    assert "server" not in response.headers
    assert "x-powered-by" not in response.headers
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "secure" in cookie


async def test_cors_grants_only_configured_origins() -> None:
    allowed = await _get(_config(), origin="http://localhost:8080")
    assert allowed.headers["access-control-allow-origin"] == "http://localhost:8080"
    foreign = await _get(_config(), origin="https://evil.example")
    assert "access-control-allow-origin" not in foreign.headers
    assert "access-control-allow-credentials" not in foreign.headers
