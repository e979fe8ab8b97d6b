"""Run the Alembic migrations from code, independent of the working directory."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from alembic import command
from alembic.config import Config

from reference_app.core.config import async_database_url

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(database_url: str | None = None) -> Config:
    """An Alembic config for the packaged migrations; DATABASE_URL is used when no URL is given."""
    # No ini file: Alembic then leaves the caller's logging configuration alone.
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["configure_logger"] = False
    if database_url is not None:
        # The config is a ConfigParser: a literal % (percent-encoded passwords) must be doubled.
        config.set_main_option(
            "sqlalchemy.url", async_database_url(database_url).replace("%", "%%")
        )
    return config


def _in_running_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def upgrade_to_head(database_url: str | None = None) -> None:
    """Bring the database at `database_url` (default: DATABASE_URL) to the latest revision."""
    config = alembic_config(database_url)
    if not _in_running_loop():
        command.upgrade(config, "head")
        return
    # env.py drives its own event loop with asyncio.run, which cannot nest in a running
    # loop; a worker thread has none. This blocks the caller's loop, as a migration should.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="migrate") as pool:
        pool.submit(command.upgrade, config, "head").result()
