"""Settings: defaults, environment variables, and refusing weak production secrets."""

from __future__ import annotations

import pytest

from reference_app.core.config import (
    PROFILES,
    Settings,
    SettingsError,
    get_settings,
    weak_secret_reason,
)
from tests.reference_app.conftest import STRONG_SECRET


def test_defaults() -> None:
    settings = get_settings()

    assert settings.environment == "development"
    assert settings.database_url == "sqlite+aiosqlite:///./formulas.db"
    assert settings.redis_url is None
    assert settings.mlflow_tracking_uri is None
    assert settings.log_level == "INFO"
    assert settings.db_pool_size == 10
    assert settings.health_probe_timeout_s == 2.0
    assert settings.profile.min_password_length == 8


def test_reads_unprefixed_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "Test")
    monkeypatch.setenv("DATABASE_URL", "postgresql://app:pw@db:5432/formulas")
    monkeypatch.setenv("REDIS_URL", "redis://cache:6379/0")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    monkeypatch.setenv("DB_POOL_SIZE", "25")
    monkeypatch.setenv("HEALTH_PROBE_TIMEOUT_S", "0.5")

    settings = get_settings()

    assert settings.environment == "test"
    assert settings.database_url == "postgresql+asyncpg://app:pw@db:5432/formulas"
    assert settings.redis_url == "redis://cache:6379/0"
    assert settings.mlflow_tracking_uri is None
    assert settings.log_level == "DEBUG"
    assert settings.db_pool_size == 25
    assert settings.health_probe_timeout_s == 0.5


def test_development_generates_a_random_secret() -> None:
    first = Settings(environment="development").secret_key.get_secret_value()
    second = Settings(environment="test").secret_key.get_secret_value()

    assert len(first) >= 32
    assert first != second
    assert first not in repr(Settings())


def test_production_requires_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")

    with pytest.raises(SettingsError) as caught:
        get_settings()

    assert str(caught.value) == "SECRET_KEY must be set in production"


@pytest.mark.parametrize(
    "key",
    [
        "changeme",
        "secret",
        "x" * 31,
        "a" * 64,
        "changeme-changeme-changeme-changeme",
        "secretsecretsecretsecretsecretsecret",
        "your-secret-key-replace-me-in-production",
        "0123456789" * 4,
    ],
)
def test_production_refuses_weak_secrets(monkeypatch: pytest.MonkeyPatch, key: str) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("SECRET_KEY", key)

    with pytest.raises(SettingsError) as caught:
        get_settings()

    message = str(caught.value)
    assert "\n" not in message
    assert "SECRET_KEY" in message
    assert key not in message


def test_production_accepts_a_strong_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("SECRET_KEY", STRONG_SECRET)

    settings = get_settings()

    assert settings.secret_key.get_secret_value() == STRONG_SECRET
    assert settings.profile.min_password_length == 12


def test_weak_secrets_are_fine_outside_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_KEY", "changeme")

    assert get_settings().secret_key.get_secret_value() == "changeme"
    assert weak_secret_reason("changeme") is not None


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ENVIRONMENT", "staging"),
        ("DATABASE_URL", "mysql://db/formulas"),
        ("DATABASE_URL", "formulas.db"),
        ("DB_POOL_SIZE", "0"),
        ("HEALTH_PROBE_TIMEOUT_S", "-1"),
        ("LOG_LEVEL", "loud"),
    ],
)
def test_invalid_values_give_one_line(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)

    with pytest.raises(SettingsError) as caught:
        get_settings()

    assert str(caught.value).startswith(f"{name}: ")
    assert "\n" not in str(caught.value)


def test_production_is_stricter_than_development() -> None:
    production, development = PROFILES["production"], PROFILES["development"]

    assert production.min_password_length == 12
    assert development.min_password_length == PROFILES["test"].min_password_length == 8


def test_empty_secret_counts_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_KEY", "  ")

    assert len(get_settings().secret_key.get_secret_value()) >= 32
    monkeypatch.setenv("ENVIRONMENT", "production")
    with pytest.raises(SettingsError, match="SECRET_KEY must be set"):
        get_settings()


@pytest.mark.parametrize(
    ("variable", "value", "reason"),
    [
        ("SECURITY_CORS_ORIGINS", "https://app.example.com, *", "must not contain '*'"),
        ("DEBUG", "true", "DEBUG must be false in production"),
    ],
)
def test_production_refuses_wildcard_cors_and_debug(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, reason: str
) -> None:
    monkeypatch.setenv(variable, value)
    assert get_settings().environment == "development"  # allowed there
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("SECRET_KEY", STRONG_SECRET)

    with pytest.raises(SettingsError) as caught:
        get_settings()
    assert reason in str(caught.value)
    assert "\n" not in str(caught.value)


def test_identity_settings_override_the_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("SECRET_KEY", STRONG_SECRET)
    assert get_settings().profile == PROFILES["production"]
    monkeypatch.setenv("LOCKOUT_SECONDS", "5")
    monkeypatch.setenv("LOGIN_MAX_ATTEMPTS", "4")
    monkeypatch.setenv("ADMIN_2FA_REQUIRED", "false")

    profile = get_settings().profile
    assert (profile.lockout_seconds, profile.login_max_attempts) == (5, 4)
    assert profile.admin_2fa_required is False
    assert profile.min_password_length == 12
