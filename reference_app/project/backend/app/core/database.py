"""The backend's database engine under the name the spec's troubleshooting step imports:

    docker-compose exec backend python -c "from app.core.database import engine; engine.connect()"

The app's engine is asynchronous, and an async engine's ``connect()`` only builds an awaitable:
called like this it would touch no database and succeed with PostgreSQL down. ``engine`` here
is the app's own engine behind a blocking ``connect()`` that opens a connection and asks the
server for its version, so the one-liner exits non-zero when the database cannot be reached.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from reference_app.core.config import get_settings
from reference_app.core.database import create_engine


class BlockingEngine:
    """The app's async engine with the blocking ``connect()`` a shell one-liner calls."""

    def __init__(self, async_engine: AsyncEngine) -> None:
        self.async_engine = async_engine

    def connect(self) -> str:
        """Connect and run a query; the server's version, or the connection's own error."""
        return asyncio.run(self._server_version())

    async def _server_version(self) -> str:
        try:
            async with self.async_engine.connect() as connection:
                version = await connection.scalar(text("SELECT version()"))
        finally:
            await self.async_engine.dispose()
        return str(version)


engine = BlockingEngine(create_engine(get_settings().database_url, pool_size=1))
