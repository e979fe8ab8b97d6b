"""Mutants of the security headers and CORS layer: each breaks one SEC-HDR / CFG-CORS claim."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.types import Message, Receive, Scope, Send

from reference_app.core.config import Settings
from reference_app.core.middleware.headers import CSP, SECURITY_HEADERS, SecurityHeadersMiddleware
from reference_app.mutants import register, register_frontend, replace_middleware


def _headers_with(name: str, value: str | None) -> tuple[tuple[str, str], ...]:
    """The clean header set with ``name`` replaced by ``value`` (None: left out)."""
    out = tuple((n, v) for n, v in SECURITY_HEADERS if n != name)
    return out if value is None else (*out, (name, value))


def _swap_headers(name: str, value: str | None, extra: tuple[tuple[str, str], ...] = ()) -> Any:
    headers = (*_headers_with(name, value), *extra)

    class Defective(SecurityHeadersMiddleware):
        def security_headers(self) -> Iterable[tuple[str, str]]:
            return headers

    def apply(app: FastAPI, settings: Settings) -> None:
        replace_middleware(app, SecurityHeadersMiddleware, Defective)

    return apply


def _headers_mutant(
    name: str,
    breaks: str,
    description: str,
    header: str,
    value: str | None,
    *extra: tuple[str, str],
) -> None:
    register(name, breaks=(breaks,), description=description)(
        _swap_headers(header, value, tuple(extra))
    )


_headers_mutant(
    "headers-no-nosniff", "SEC-HDR-NOSNIFF", "X-Content-Type-Options is not sent",
    "x-content-type-options", None,
)  # fmt: skip
_headers_mutant(
    "headers-xfo-sameorigin", "SEC-HDR-XFO", "X-Frame-Options SAMEORIGIN instead of DENY",
    "x-frame-options", "SAMEORIGIN",
)  # fmt: skip
_headers_mutant(
    "headers-xxss-block", "SEC-HDR-XXSS", "X-XSS-Protection '1; mode=block' (the legacy filter on)",
    "x-xss-protection", "1; mode=block",
)  # fmt: skip
_headers_mutant(
    "headers-csp-twice", "SEC-HDR-CSP", "two Content-Security-Policy headers",
    "content-security-policy", CSP, ("content-security-policy", "default-src 'self'"),
)  # fmt: skip
_headers_mutant(
    "headers-csp-unsafe-inline", "SEC-HDR-CSP-SCRIPT",
    "CSP without script-src and default-src 'self' 'unsafe-inline' (the fallback trap)",
    "content-security-policy", CSP.replace("script-src 'self'; ", "").replace(
        "default-src 'self'", "default-src 'self' 'unsafe-inline'"
    ),
)  # fmt: skip
_headers_mutant(
    "headers-csp-script-https", "SEC-HDR-CSP-SCRIPT",
    "CSP script-src https: (any HTTPS host may serve scripts)",
    "content-security-policy", CSP.replace("script-src 'self'", "script-src https:"),
)  # fmt: skip
# two hashes glued without a space are one token matching no source grammar: browsers ignore
# it, so nothing switches 'unsafe-inline' off (the digests are of "console.log(1)" and "2")
GLUED_HASHES = (
    "'sha256-CihokcEcBW4atb/CW/XWsvWwbTjqwQlE9nj9ii5ww5M='"
    "'sha256-8q5r0Gb3oV+3DObfp/Z4GOXgHcQVy/ejxH8MgPcPxTI='"
)
_headers_mutant(
    "headers-csp-glued-hash", "SEC-HDR-CSP-SCRIPT",
    "CSP script-src 'unsafe-inline' with two hashes glued together (no valid hash)",
    "content-security-policy",
    CSP.replace("script-src 'self'", f"script-src 'self' 'unsafe-inline' {GLUED_HASHES}"),
)  # fmt: skip
_headers_mutant(
    "headers-csp-frame-ancestors-self", "SEC-HDR-CSP-FRAME-ANCESTORS",
    "CSP frame-ancestors 'self' instead of 'none'",
    "content-security-policy", CSP.replace("frame-ancestors 'none'", "frame-ancestors 'self'"),
)  # fmt: skip
_headers_mutant(
    "headers-csp-no-object-src", "SEC-HDR-CSP-OBJECT",
    "CSP without object-src (default-src 'self' lets plugins load)",
    "content-security-policy", CSP.replace("object-src 'none'; ", ""),
)  # fmt: skip
_headers_mutant(
    "headers-csp-no-base-uri", "SEC-HDR-CSP-BASE-URI", "CSP without base-uri",
    "content-security-policy", CSP.replace("base-uri 'self'; ", ""),
)  # fmt: skip
_headers_mutant(
    "headers-referrer-last-unsafe", "SEC-HDR-REFERRER",
    "Referrer-Policy 'no-referrer, unsafe-url': the last valid token wins",
    "referrer-policy", "no-referrer, unsafe-url",
)  # fmt: skip
_headers_mutant(
    "headers-powered-by", "SEC-HDR-NO-DISCLOSURE", "X-Powered-By and a versioned Server header",
    "x-powered-by", "FastAPI", ("server", "uvicorn/0.30.6"),
)  # fmt: skip


class _BareErrors(SecurityHeadersMiddleware):
    """The security headers on successful responses only (the classic error-page gap)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_maybe(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] < 400:
                message = {**message, "headers": self.rewrite(list(message["headers"]), False)}
            await send(message)

        await self.app(scope, receive, send_maybe)


@register(
    "headers-missing-on-errors",
    breaks=("SEC-HDR-EVERY-RESPONSE",),
    description="security headers only on responses below 400",
)
def _bare_errors(app: FastAPI, settings: Settings) -> None:
    replace_middleware(app, SecurityHeadersMiddleware, _BareErrors)


class _HstsAlways(SecurityHeadersMiddleware):
    def sends_hsts(self, scope: Scope) -> bool:
        return True


@register(
    "headers-hsts-over-http",
    breaks=("SEC-HDR-HSTS-HTTPS-ONLY",),
    description="Strict-Transport-Security sent over plain HTTP too",
)
def _hsts_over_http(app: FastAPI, settings: Settings) -> None:
    replace_middleware(app, SecurityHeadersMiddleware, _HstsAlways)


def _cors_mutant(name: str, breaks: tuple[str, ...], description: str, **options: Any) -> None:
    class Defective(CORSMiddleware):
        def __init__(self, app: Any, **kwargs: Any) -> None:
            super().__init__(app, **{**kwargs, **options})

    def apply(app: FastAPI, settings: Settings) -> None:
        replace_middleware(app, CORSMiddleware, Defective)

    register(name, breaks=breaks, description=description)(apply)


_cors_mutant(
    "cors-reflects-any-origin",
    ("CFG-CORS-STRICT",),
    "every Origin echoed with credentials (allow_origin_regex='.*')",
    allow_origin_regex=".*",
)
_cors_mutant(
    "cors-wildcard-credentials",
    ("CFG-CORS-STRICT",),
    "Access-Control-Allow-Origin: * together with Allow-Credentials: true",
    allow_origins=["*"],
)
_cors_mutant(
    "cors-no-origins",
    ("CFG-CORS-ALLOWED", "CFG-CORS-PREFLIGHT", "CFG-CORS-RELAXED"),
    "no origin configured: the deployment's own frontend gets no grant",
    allow_origins=[],
)


def _frontend_mutant(name: str, breaks: str, description: str, old: str, new: str) -> None:
    def mutate(config: str) -> str:
        if old not in config:
            raise ValueError(f"the nginx template no longer contains {old!r}")
        return config.replace(old, new)

    register_frontend(name, breaks=(breaks,), description=description)(mutate)


_frontend_mutant(
    "frontend-hsts-one-day", "SEC-HDR-HSTS", "the frontend's HSTS max-age is one day",
    'on      "max-age=31536000; includeSubDomains";', 'on      "max-age=86400; includeSubDomains";',
)  # fmt: skip
_frontend_mutant(
    "frontend-redirect-302", "CFG-HTTPS-REDIRECT",
    "plain HTTP redirected with 302 (not permanent: no 301 or 308)",
    "return 301 https://", "return 302 https://",
)  # fmt: skip


@register_frontend(
    "frontend-tls-legacy",
    breaks=("CFG-HTTPS-TLS",),
    description="nginx also accepts TLS 1.0 and 1.1 (with their CBC ciphers)",
)
def _tls_legacy(config: str) -> str:
    config, protocols = re.subn(
        r"ssl_protocols [^;]*;", "ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;", config
    )
    config, ciphers = re.subn(r"ssl_ciphers [^;]*;", "ssl_ciphers DEFAULT:@SECLEVEL=0;", config)
    if not (protocols and ciphers):
        raise ValueError("the nginx template no longer sets ssl_protocols and ssl_ciphers")
    return config
