"""Production refuses a PostgreSQL DATABASE_URL without SSL, and the engine really asks
asyncpg for TLS whichever spelling (`ssl=`, libpq's `sslmode=`) the URL uses."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from reference_app.core.config import SettingsError, database_ssl_mode, get_settings
from reference_app.core.database import create_engine
from tests.reference_app.conftest import STRONG_SECRET

PLAIN = "postgresql://app:pw@db:5432/formulas"
REFUSAL = (
    "DATABASE_URL must use SSL in production: add ?ssl=require "
    "(or sslmode=require|verify-ca|verify-full)"
)


def _production(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("SECRET_KEY", STRONG_SECRET)
    monkeypatch.setenv("DATABASE_URL", url)


@pytest.mark.parametrize(
    "url", [PLAIN, f"{PLAIN}?ssl=disable", f"{PLAIN}?sslmode=prefer", f"{PLAIN}?sslmode=allow"]
)
def test_production_refuses_a_database_without_ssl(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    _production(monkeypatch, url)

    with pytest.raises(SettingsError) as caught:
        get_settings()

    assert str(caught.value) == REFUSAL
    assert "pw" not in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        f"{PLAIN}?ssl=require",
        f"{PLAIN}?sslmode=require",
        f"{PLAIN}?sslmode=verify-ca",
        "postgres://app:pw@db/formulas?application_name=api&sslmode=verify-full",
        "sqlite+aiosqlite:///./formulas.db",
    ],
)
def test_production_accepts_ssl_and_sqlite(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    _production(monkeypatch, url)

    assert get_settings().environment == "production"


def test_development_accepts_a_plain_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", PLAIN)

    assert database_ssl_mode(get_settings().database_url) is None


def test_serve_refuses_with_one_line_and_exit_2(tmp_path: Path) -> None:
    env = {**os.environ, "ENVIRONMENT": "production", "SECRET_KEY": STRONG_SECRET}
    env["DATABASE_URL"] = PLAIN
    result = subprocess.run(
        [sys.executable, "-m", "reference_app", "serve"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    assert result.returncode == 2
    assert result.stderr == f"reference_app: error: {REFUSAL}\n"


@pytest.mark.parametrize(
    ("query", "expected"),
    [("?ssl=require", "require"), ("?sslmode=verify-full", "verify-full"), ("", None)],
)
def test_engine_hands_the_mode_to_asyncpg(
    monkeypatch: pytest.MonkeyPatch, query: str, expected: str | None
) -> None:
    seen: dict[str, Any] = {}

    async def connect(*args: Any, **kwargs: Any) -> None:
        seen.update(kwargs)
        raise OSError("no server in this test")

    monkeypatch.setattr(asyncpg, "connect", connect)
    engine = create_engine(f"postgresql+asyncpg://app:pw@127.0.0.1:1/formulas{query}")

    async def open_one() -> None:
        try:
            async with engine.connect():
                pass
        finally:
            await engine.dispose()

    with pytest.raises(OSError, match="no server"):
        asyncio.run(open_one())
    assert seen.get("ssl") == expected
    assert "sslmode" not in seen
