"""Mutants of the IP filter: each breaks one SEC-IP claim."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.types import ASGIApp, Scope

from reference_app.core.config import Settings
from reference_app.core.middleware.ipfilter import (
    IPFilterMiddleware,
    forwarded_for,
    parse_address,
)
from reference_app.core.security_config import SecurityConfig
from reference_app.mutants import register, replace_middleware


class _TrustsAnyForwardedFor(IPFilterMiddleware):
    def client_of(self, scope: Scope) -> str:
        entries = [parse_address(entry) for entry in forwarded_for(scope)]
        forwarded = [str(address) for address in entries if address is not None]
        return forwarded[-1] if forwarded else super().client_of(scope)


class _IgnoresForwardedFor(IPFilterMiddleware):
    def client_of(self, scope: Scope) -> str:
        client = scope.get("client")
        return str(client[0]) if client else ""


class _IgnoresDenyList(IPFilterMiddleware):
    def __init__(self, app: ASGIApp, config: SecurityConfig) -> None:
        super().__init__(app, config)
        self.deny = ()


class _IgnoresAllowList(IPFilterMiddleware):
    def __init__(self, app: ASGIApp, config: SecurityConfig) -> None:
        super().__init__(app, config)
        self.allow = ()


class _HardCodedLists(IPFilterMiddleware):
    """The lists the embedded target happens to use, written into the code."""

    def refuses(self, address: str) -> bool:
        return address == "127.0.0.253"


def _mutant(name: str, breaks: str, description: str, defective: type[IPFilterMiddleware]) -> None:
    def apply(app: FastAPI, settings: Settings) -> None:
        replace_middleware(app, IPFilterMiddleware, defective)

    register(name, breaks=(breaks,), description=description)(apply)


_mutant(
    "ipfilter-trusts-any-forwarded-for",
    "SEC-IP-XFF-UNTRUSTED",
    "X-Forwarded-For believed from any address, so a spoofed header bypasses the deny list",
    _TrustsAnyForwardedFor,
)
_mutant(
    "ipfilter-ignores-forwarded-for",
    "SEC-IP-XFF-TRUSTED",
    "X-Forwarded-For ignored even from the trusted proxy: behind nginx nobody is denied",
    _IgnoresForwardedFor,
)
_mutant(
    "ipfilter-ignores-denylist",
    "SEC-IP-DENYLIST",
    "the deny list is read but never applied",
    _IgnoresDenyList,
)
_mutant(
    "ipfilter-ignores-allowlist",
    "SEC-IP-ALLOWLIST",
    "the allow list is read but never applied",
    _IgnoresAllowList,
)
_mutant(
    "ipfilter-hardcoded-lists",
    "SEC-IP-PER-ENVIRONMENT",
    "the deny list is written into the code instead of read from the environment's settings",
    _HardCodedLists,
)
