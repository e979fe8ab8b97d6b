"""Mutants of what differs between profiles and of the upload limit: development served like
production (a redirect to HTTPS, production's rate limit), uploads without their size limit."""

from __future__ import annotations

import dataclasses

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from reference_app.core.config import Settings
from reference_app.core.middleware.ratelimit import RateLimitMiddleware
from reference_app.core.security_config import SecurityConfig
from reference_app.mutants import register, replace_middleware

PRODUCTION_RATE_LIMIT_CALLS = 100


class _RedirectToHttps:
    """Every plain-HTTP request but the health probe answered with 301 to https://."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("scheme") != "http" or scope["path"] == "/health":
            await self.app(scope, receive, send)
            return
        host = dict(scope["headers"]).get(b"host", b"localhost").decode("latin-1")
        query = scope.get("query_string", b"").decode("latin-1")
        location = f"https://{host}{scope['path']}" + (f"?{query}" if query else "")
        await send({"type": "http.response.start", "status": 301,
                    "headers": [(b"location", location.encode("latin-1")),
                                (b"content-length", b"0")]})  # fmt: skip
        await send({"type": "http.response.body", "body": b""})


@register(
    "dev-https-redirect",
    breaks=("CFG-HTTP-DEV",),
    description="development redirects plain HTTP to HTTPS as production does",
)
def _dev_https_redirect(app: FastAPI, settings: Settings) -> None:
    app.add_middleware(_RedirectToHttps)


class _ProductionLimit(RateLimitMiddleware):
    def __init__(self, app: ASGIApp, config: SecurityConfig) -> None:
        calls = min(config.rate_limit_calls, PRODUCTION_RATE_LIMIT_CALLS)
        super().__init__(app, dataclasses.replace(config, rate_limit_calls=calls))


@register(
    "dev-rate-limit-as-production",
    breaks=("CFG-DEV-RATE-LIMIT",),
    description="development allows one client no more requests than production's 100",
)
def _dev_rate_limit_as_production(app: FastAPI, settings: Settings) -> None:
    replace_middleware(app, RateLimitMiddleware, _ProductionLimit)


@register(
    "upload-size-unchecked",
    breaks=("INP-UPLOAD-SIZE",),
    description="uploads take any size the request body limit lets through",
)
def _upload_size_unchecked(app: FastAPI, settings: Settings) -> None:
    # the endpoint reads its limit from the settings when a request comes
    app.state.settings = settings.model_copy(update={"upload_max_bytes": 1 << 40})
