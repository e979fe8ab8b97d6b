"""Mutant of the trusted-host layer: it breaks CFG-ALLOWED-HOSTS."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.types import Scope

from reference_app.core.config import Settings
from reference_app.core.middleware.hosts import TrustedHostMiddleware
from reference_app.mutants import register, replace_middleware


class _AcceptsAnyHost(TrustedHostMiddleware):
    def accepts(self, scope: Scope) -> bool:
        return True


@register(
    "hosts-accepts-any-host",
    breaks=("CFG-ALLOWED-HOSTS",),
    description="allowed_hosts is ignored: a forged Host header is served as the real site",
)
def _accepts_any_host(app: FastAPI, settings: Settings) -> None:
    replace_middleware(app, TrustedHostMiddleware, _AcceptsAnyHost)
