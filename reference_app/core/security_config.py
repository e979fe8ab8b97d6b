"""Security settings per environment (spec: Security Hardening > Security Configuration).

Read from ``SECURITY_*`` environment variables; the defaults depend on ``ENVIRONMENT``:
production is strict (HTTPS, strict CORS, the spec's rate limit), development relaxed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

MIB = 1024 * 1024
CommaList = Annotated[list[str], NoDecode]

# what differs between environments when SECURITY_* does not say otherwise
_ENVIRONMENT_DEFAULTS: dict[str, dict[str, Any]] = {
    "production": {
        "https_required": True,
        # the spec's frontend address; a real deployment sets SECURITY_CORS_ORIGINS
        "cors_origins": ["http://localhost:8080"],
        "rate_limit_calls": 100,
        "endpoint_limits": ["/api/v1/auth/login=5/60"],  # login stricter than the default
    },
    "development": {
        "https_required": False,
        # relaxed: the production origin plus local dev servers
        "cors_origins": [
            "http://localhost:8080",
            "http://127.0.0.1:8080",
            "http://localhost:5173",
            "http://localhost:3000",
            "http://127.0.0.1:3000",
        ],
        "rate_limit_calls": 1000,
        "endpoint_limits": ["/api/v1/auth/login=50/60"],
    },
}


class SecuritySettings(BaseSettings):
    """The knobs of ``setup_security_middleware``; ``None`` means "the environment's default"."""

    model_config = SettingsConfigDict(env_prefix="SECURITY_", extra="ignore")

    https_required: bool | None = None
    # the names the reference deployment is reached by (loopback, its compose services and
    # the test client); a real deployment sets SECURITY_ALLOWED_HOSTS to its domain names
    allowed_hosts: CommaList = Field(
        default_factory=lambda: ["localhost", "backend", "frontend", "testserver"]
    )
    cors_origins: CommaList | None = None
    rate_limit_calls: int | None = None
    rate_limit_period: int = 60
    # path prefix -> "calls/period", e.g. /api/v1/auth/login=5/60
    endpoint_limits: CommaList | None = None
    rate_limit_storage: str | None = None  # limits storage URI; default: REDIS_URL or memory://
    rate_limit_exempt: CommaList = Field(default_factory=list)
    rate_limit_fail_mode: str = "open"
    max_body_bytes: int = 10 * MIB
    ip_whitelist: CommaList = Field(default_factory=list)
    ip_blacklist: CommaList = Field(default_factory=list)
    trusted_proxies: CommaList = Field(default_factory=list)
    audit_log_path: str | None = None  # None: the "reference_app.audit" logger on stderr
    sensitive_paths: CommaList = field(
        default_factory=lambda: ["/api/v1/auth", "/api/v1/admin", "/api/v1/users"]
    )
    # JSON fields of rich text (formulas' description, a user's bio): sanitised by the app
    # (input_validation.sanitize_html), so the XSS detector lets their markup through
    rich_text_fields: CommaList = Field(default_factory=lambda: ["description", "bio"])

    @field_validator(
        "allowed_hosts",
        "cors_origins",
        "endpoint_limits",
        "rate_limit_exempt",
        "ip_whitelist",
        "ip_blacklist",
        "trusted_proxies",
        "sensitive_paths",
        "rich_text_fields",
        mode="before",
    )
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value


@dataclass(frozen=True)
class SecurityConfig:
    """Resolved settings, as ``setup_security_middleware`` uses them."""

    environment: str
    https_required: bool
    allowed_hosts: tuple[str, ...]
    cors_origins: tuple[str, ...]
    rate_limit_calls: int
    rate_limit_period: int
    endpoint_limits: Mapping[str, tuple[int, int]]
    rate_limit_storage: str
    rate_limit_exempt: tuple[str, ...]
    rate_limit_fail_mode: str
    max_body_bytes: int
    ip_whitelist: tuple[str, ...]
    ip_blacklist: tuple[str, ...]
    trusted_proxies: tuple[str, ...]
    audit_log_path: str | None
    sensitive_paths: tuple[str, ...]
    rich_text_fields: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)


def _endpoint_limits(items: list[str]) -> dict[str, tuple[int, int]]:
    limits: dict[str, tuple[int, int]] = {}
    for item in items:
        path, _, rate = item.partition("=")
        calls, _, period = rate.partition("/")
        if not path or not calls.isdigit() or not period.isdigit():
            raise ValueError(
                f"SECURITY_ENDPOINT_LIMITS entry {item!r}: expected PATH=CALLS/SECONDS"
            )
        limits[path] = (int(calls), int(period))
    return limits


def security_config(
    environment: str, redis_url: str | None, settings: SecuritySettings | None = None
) -> SecurityConfig:
    """Resolve the settings for ``environment`` (``test`` is treated like development)."""
    settings = settings or SecuritySettings()
    defaults = _ENVIRONMENT_DEFAULTS["production" if environment == "production" else "development"]
    return SecurityConfig(
        environment=environment,
        https_required=defaults["https_required"]
        if settings.https_required is None
        else settings.https_required,
        allowed_hosts=tuple(settings.allowed_hosts),
        cors_origins=tuple(
            defaults["cors_origins"] if settings.cors_origins is None else settings.cors_origins
        ),
        rate_limit_calls=settings.rate_limit_calls or defaults["rate_limit_calls"],
        rate_limit_period=settings.rate_limit_period,
        endpoint_limits=_endpoint_limits(
            defaults["endpoint_limits"]
            if settings.endpoint_limits is None
            else settings.endpoint_limits
        ),
        rate_limit_storage=settings.rate_limit_storage or redis_url or "memory://",
        rate_limit_exempt=tuple(settings.rate_limit_exempt),
        rate_limit_fail_mode=settings.rate_limit_fail_mode,
        max_body_bytes=settings.max_body_bytes,
        ip_whitelist=tuple(settings.ip_whitelist),
        ip_blacklist=tuple(settings.ip_blacklist),
        trusted_proxies=tuple(settings.trusted_proxies),
        audit_log_path=settings.audit_log_path,
        sensitive_paths=tuple(settings.sensitive_paths),
        rich_text_fields=tuple(settings.rich_text_fields),
    )


def __getattr__(name: str) -> Any:
    # `from app.core.security_config import security_settings`, as the spec writes it: the
    # settings of the environment the process runs in (ENVIRONMENT, REDIS_URL, SECURITY_*),
    # read when asked for, so importing the module never fails
    if name == "security_settings":
        environment = os.environ.get("ENVIRONMENT", "development").strip().lower()
        return security_config(environment, os.environ.get("REDIS_URL", "").strip() or None)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
