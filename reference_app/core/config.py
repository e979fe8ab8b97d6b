"""Settings read from the environment, and the values that depend on the deployment profile."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Literal
from urllib.parse import parse_qs, urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["production", "development", "test"]
LogLevel = Literal["CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"]

MIN_SECRET_KEY_LENGTH = 32

# Fragments that show a key was copied from an example file rather than generated.
_PLACEHOLDER_MARKERS = (
    "changeme",
    "changethis",
    "replaceme",
    "yoursecret",
    "secretkey",
    "insecure",
    "password",
    "default",
    "example",
)
# Even 32 random hex digits (16 possible) almost surely show more distinct characters.
_MIN_DISTINCT_SECRET_CHARS = 8

_DRIVER_ALIASES = {
    "sqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
}
_SUPPORTED_DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")
# asyncpg's `ssl` and libpq's `sslmode` values that encrypt the connection
ENCRYPTED_SSL_MODES = ("require", "verify-ca", "verify-full")


@dataclass(frozen=True)
class Profile:
    """Values that differ between production and development/test deployments.

    Later hardening work adds its profile-dependent knobs here, so one table shows how
    production is stricter than development.
    """

    name: Environment
    min_password_length: int
    password_min_classes: int  # of lower case, upper case, digit, other
    login_max_attempts: int
    lockout_seconds: int
    admin_2fa_required: bool


_DEVELOPMENT = Profile(
    name="development",
    min_password_length=8,
    password_min_classes=1,
    login_max_attempts=10,
    lockout_seconds=300,
    admin_2fa_required=False,
)
PROFILES: Mapping[Environment, Profile] = {
    "production": Profile(
        name="production",
        min_password_length=12,
        password_min_classes=3,
        login_max_attempts=3,
        lockout_seconds=3600,
        admin_2fa_required=True,
    ),
    "development": _DEVELOPMENT,
    "test": replace(_DEVELOPMENT, name="test"),
}
# Settings fields that override the profile's value when set (PASSWORD_MIN_LENGTH, ...)
_PROFILE_OVERRIDES = {
    "password_min_length": "min_password_length",
    "password_min_classes": "password_min_classes",
    "login_max_attempts": "login_max_attempts",
    "lockout_seconds": "lockout_seconds",
    "admin_2fa_required": "admin_2fa_required",
}
UPLOAD_MAX_BYTES = 5 * 1024 * 1024


class SettingsError(ValueError):
    """The environment does not describe a deployment the app can start with."""


def _is_repetition(key: str) -> bool:
    """True for keys like "0123456789" * 4: a short unit repeated at least three times."""
    return any(
        key == (key[:period] * (len(key) // period + 1))[: len(key)]
        for period in range(1, len(key) // 3 + 1)
    )


def weak_secret_reason(key: str) -> str | None:
    """Why `key` is unfit as a production SECRET_KEY, or None when it is acceptable."""
    if len(key) < MIN_SECRET_KEY_LENGTH:
        return f"SECRET_KEY must be at least {MIN_SECRET_KEY_LENGTH} characters in production"
    letters = re.sub(r"[^a-z0-9]", "", key.lower())
    if any(marker in letters for marker in _PLACEHOLDER_MARKERS):
        return "SECRET_KEY looks like a placeholder; generate a random one"
    # "secretsecretsecret..." or "0123456789" * 4 are long enough but not random.
    if len(set(key)) < _MIN_DISTINCT_SECRET_CHARS or _is_repetition(letters):
        return "SECRET_KEY is too regular to be random; generate a random one"
    return None


def async_database_url(url: str) -> str:
    """`url` with the async driver the app uses; ValueError for unsupported databases."""
    scheme, sep, rest = url.strip().partition("://")
    if not sep:
        raise ValueError("must look like sqlite+aiosqlite:///path or postgresql+asyncpg://...")
    scheme = _DRIVER_ALIASES.get(scheme, scheme)
    if scheme not in _SUPPORTED_DRIVERS:
        raise ValueError(f"driver must be one of {', '.join(_SUPPORTED_DRIVERS)}")
    return f"{scheme}://{rest}"


def database_ssl_mode(url: str) -> str | None:
    """The `ssl` (asyncpg) or `sslmode` (libpq) query value of a database URL, if any."""
    query = parse_qs(urlsplit(url).query)
    values = query.get("ssl") or query.get("sslmode")
    return values[-1] if values else None


def _generated_secret() -> SecretStr:
    return SecretStr(secrets.token_urlsafe(48))


class Settings(BaseSettings):
    """Runtime configuration, from unprefixed environment variables (ENVIRONMENT, ...)."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore")

    environment: Environment = "development"
    database_url: str = "sqlite+aiosqlite:///./formulas.db"
    redis_url: str | None = None
    mlflow_tracking_uri: str | None = None
    # Development and test get a fresh random key; production must bring its own.
    secret_key: SecretStr = Field(default_factory=_generated_secret)
    log_level: LogLevel = "INFO"
    db_pool_size: int = Field(default=10, ge=1, le=1000)
    health_probe_timeout_s: float = Field(default=2.0, gt=0, le=60)
    # identity: unset means the profile's value (PROFILES)
    password_min_length: int | None = Field(default=None, ge=1, le=1024)
    password_min_classes: int | None = Field(default=None, ge=1, le=4)
    login_max_attempts: int | None = Field(default=None, ge=1)
    lockout_seconds: int | None = Field(default=None, ge=1)
    admin_2fa_required: bool | None = None
    debug: bool = False
    upload_max_bytes: int = Field(default=UPLOAD_MAX_BYTES, ge=1)
    upload_dir: str = "uploads"  # relative to the working directory
    # read here only to refuse a wildcard in production; security_config.py applies it
    security_cors_origins: str | None = None

    @field_validator("environment", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("redis_url", "mlflow_tracking_uri", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # Compose files often pass `REDIS_URL=` to mean "not configured".
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        return async_database_url(value)

    @model_validator(mode="before")
    @classmethod
    def _empty_secret_is_unset(cls, data: object) -> object:
        # `SECRET_KEY=` must not become an empty key in development, nor count as "set"
        # in production.
        if isinstance(data, dict):
            value = data.get("secret_key")
            if isinstance(value, str) and not value.strip():
                return {key: item for key, item in data.items() if key != "secret_key"}
        return data

    @model_validator(mode="after")
    def _production_secret(self) -> Settings:
        if self.environment != "production":
            return self
        if "secret_key" not in self.model_fields_set:
            raise ValueError("SECRET_KEY must be set in production")
        reason = weak_secret_reason(self.secret_key.get_secret_value())
        if reason is not None:
            raise ValueError(reason)
        # SQLite is a local file: only a network database connection needs encrypting
        if self.database_url.startswith("postgresql") and (
            database_ssl_mode(self.database_url) not in ENCRYPTED_SSL_MODES
        ):
            raise ValueError(
                "DATABASE_URL must use SSL in production: add ?ssl=require "
                "(or sslmode=require|verify-ca|verify-full)"
            )
        return self

    @property
    def profile(self) -> Profile:
        """The environment's values with the ones set in the environment (PASSWORD_MIN_LENGTH,
        LOGIN_MAX_ATTEMPTS, ...) in their place."""
        overrides = {
            name: getattr(self, field)
            for field, name in _PROFILE_OVERRIDES.items()
            if getattr(self, field) is not None
        }
        return replace(PROFILES[self.environment], **overrides)

    @model_validator(mode="after")
    def _production_switches(self) -> Settings:
        if self.environment != "production":
            return self
        origins = (self.security_cors_origins or "").split(",")
        if any(origin.strip() == "*" for origin in origins):
            raise ValueError("SECURITY_CORS_ORIGINS must not contain '*' in production")
        if self.debug:
            raise ValueError("DEBUG must be false in production")
        return self


def _one_line(error: ValidationError) -> str:
    parts = []
    for detail in error.errors():
        message = str(detail["msg"]).removeprefix("Value error, ")
        field = ".".join(str(part) for part in detail["loc"]).upper()
        parts.append(f"{field}: {message}" if field else message)
    return "; ".join(parts)


def get_settings() -> Settings:
    """Read the settings from the environment now; raises SettingsError with a one-line reason."""
    try:
        return Settings()
    except ValidationError as exc:
        raise SettingsError(_one_line(exc)) from None
