"""Alembic migrations: programmatic and CLI upgrades, and agreement with the models."""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

import reference_app
from reference_app.core.migrate import upgrade_to_head
from reference_app.models import Base

APP_DIR = Path(reference_app.__file__).resolve().parent


def _schema(path: Path) -> tuple[str | None, set[str], set[str]]:
    with sqlite3.connect(path) as connection:
        tables = {
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        indexes = {
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type='index'")
        }
        versions = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    connection.close()
    return (versions[0][0] if versions else None), tables, indexes


def test_upgrade_creates_schema_in_an_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.touch()

    upgrade_to_head(f"sqlite+aiosqlite:///{path}")

    revision, tables, indexes = _schema(path)
    assert revision == "0002"
    assert {"formulas", "users", "alembic_version"} <= tables
    assert "ix_formulas_name" in indexes


def test_upgrade_is_idempotent_and_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    url = f"sqlite:///{path}"
    upgrade_to_head(url)
    with sqlite3.connect(path) as connection:
        connection.execute("INSERT INTO formulas (name, expression) VALUES ('kept', 'x')")
    connection.close()

    upgrade_to_head(url)

    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT name FROM formulas").fetchall() == [("kept",)]
    connection.close()


def test_upgrade_uses_database_url_and_ignores_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'env.db'}")

    upgrade_to_head()

    assert _schema(tmp_path / "env.db")[0] == "0002"
    assert list(elsewhere.iterdir()) == []


def test_upgrade_leaves_logging_alone(tmp_path: Path) -> None:
    logger = logging.getLogger("reference_app.tests.migrations")
    root_handlers = list(logging.getLogger().handlers)

    upgrade_to_head(f"sqlite+aiosqlite:///{tmp_path / 'log.db'}")

    assert not logger.disabled
    assert logging.getLogger().handlers == root_handlers


@pytest.mark.anyio
async def test_upgrade_works_inside_a_running_event_loop(tmp_path: Path) -> None:
    upgrade_to_head(f"sqlite+aiosqlite:///{tmp_path / 'loop.db'}")

    assert _schema(tmp_path / "loop.db")[0] == "0002"


@pytest.mark.anyio
async def test_migrations_match_the_models(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'diff.db'}"
    upgrade_to_head(url)
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
            )
    finally:
        await engine.dispose()

    assert differences == []


def test_alembic_cli_from_the_package_directory(tmp_path: Path) -> None:
    path = tmp_path / "cli.db"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{path}"}
    alembic = [sys.executable, "-m", "alembic"]

    upgraded = subprocess.run(
        [*alembic, "upgrade", "head"],
        cwd=APP_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    current = subprocess.run(
        [*alembic, "current"], cwd=APP_DIR, env=env, capture_output=True, text=True, check=False
    )

    assert upgraded.returncode == 0, upgraded.stderr
    assert "0002 (head)" in current.stdout
    assert _schema(path)[0] == "0002"
