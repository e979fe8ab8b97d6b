"""``setup_security_middleware(app, config)``: the spec's security middleware, pure ASGI.

Order, outermost first: audit log (sees every final status), security headers (on every
response, errors included), trusted hosts, IP filter, rate limit, request validation (size limit and
injection detection), then the app. Each layer lives in ``reference_app.core.middleware``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields, replace
from typing import Any

from fastapi import FastAPI

from reference_app.core.config import get_settings
from reference_app.core.middleware import audit, headers, hosts, ipfilter, ratelimit, validation
from reference_app.core.security_config import SecurityConfig, security_config

# the spec's example passes these keys; anything else of SecurityConfig may be passed too
_SPEC_KEYS = {"ip_whitelist", "ip_blacklist", "allowed_hosts"}


def _merge(base: SecurityConfig, overrides: Mapping[str, Any]) -> SecurityConfig:
    known = {f.name for f in fields(SecurityConfig)}
    unknown = set(overrides) - known
    if unknown:
        raise ValueError(f"setup_security_middleware: unknown config keys {sorted(unknown)}")
    values: dict[str, Any] = {
        key: tuple(value) if key in _SPEC_KEYS else value
        for key, value in overrides.items()
        if value is not None
    }
    return replace(base, **values)


def setup_security_middleware(
    app: FastAPI, config: Mapping[str, Any] | SecurityConfig | None = None
) -> SecurityConfig:
    """Install every security layer on ``app``; returns the resolved configuration."""
    if not isinstance(config, SecurityConfig):
        # the reference app keeps its settings on app.state; a bare app (the spec's main.py
        # before anything else is set up) gets them from the environment
        settings = getattr(app.state, "settings", None) or get_settings()
        resolved = security_config(settings.environment, settings.redis_url)
        config = _merge(resolved, config or {})
    app.state.security = config
    # add_middleware wraps: the last added is the outermost
    validation.install(app, config)
    ratelimit.install(app, config)
    ipfilter.install(app, config)
    hosts.install(app, config)  # inside headers and audit: a refused Host is audited too
    headers.install(app, config)
    audit.install(app, config)
    return config
