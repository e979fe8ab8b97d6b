"""The async engine, the session factory and the request-scoped session dependency."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable

import aiosqlite
from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry, NullPool
from starlette.applications import Starlette
from starlette.requests import Request

from reference_app.core.config import Settings, database_ssl_mode

# How long SQLite waits on a lock held by another worker before giving up.
_SQLITE_BUSY_TIMEOUT_S = 5.0
# aiosqlite's default number of rows fetched per round trip to its thread.
_AIOSQLITE_CHUNK_SIZE = 64
# Extra connections PostgreSQL may open above the pool size during bursts.
_PG_MAX_OVERFLOW = 10
# asyncpg waits 60 s by default; a database on the deployment's network connects within
# milliseconds, and while it is down (a stopped container's address no longer answers) a
# request must fail well before a client or proxy gives up, commonly after 10 s.
_PG_CONNECT_TIMEOUT_S = 3.0


def _enable_sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    try:
        # SQLite ignores foreign keys unless asked per connection.
        cursor.execute("PRAGMA foreign_keys=ON")
        # WAL lets readers proceed while one worker writes.
        cursor.execute("PRAGMA journal_mode=WAL")
    finally:
        cursor.close()


def _sqlite_connector(url: URL) -> Callable[[], Awaitable[aiosqlite.Connection]]:
    # SQLAlchemy's own reading of the URL: absolute path, `?uri=true`, `?timeout=` ...
    (database, *_), kwargs = url.get_dialect()().create_connect_args(url)
    kwargs.setdefault("timeout", _SQLITE_BUSY_TIMEOUT_S)

    def open_file() -> sqlite3.Connection:
        return sqlite3.connect(database, **kwargs)

    async def connect() -> aiosqlite.Connection:
        # The file is opened in a thread this coroutine awaits. Left to aiosqlite, a failed
        # open (the outage the health probe must report) stops its worker thread without
        # waiting, and that thread later reports to an event loop that may have closed.
        raw = await asyncio.to_thread(open_file)
        connection = aiosqlite.Connection(lambda: raw, _AIOSQLITE_CHUNK_SIZE)
        # As SQLAlchemy does for the connections it opens itself: a connection abandoned by
        # a cancelled request must not keep the process alive at shutdown.
        connection._thread.daemon = True
        return await connection

    return connect


def create_engine(database_url: str, *, pool_size: int = 10) -> AsyncEngine:
    """An async engine for `database_url` with the pooling each backend needs."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        # Pooled: opening a file (a thread, the pragmas) costs more than most requests.
        engine = create_async_engine(
            url, pool_size=pool_size, max_overflow=0, async_creator=_sqlite_connector(url)
        )
        event.listen(engine.sync_engine, "connect", _enable_sqlite_pragmas)
        return engine
    connect_args: dict[str, object] = {"timeout": _PG_CONNECT_TIMEOUT_S}
    mode = database_ssl_mode(database_url)
    if mode is not None:
        # asyncpg takes libpq's `sslmode` values as `ssl`; SQLAlchemy would pass `sslmode`
        # through as an argument asyncpg does not know
        url = url.difference_update_query(["ssl", "sslmode"])
        connect_args["ssl"] = mode
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=_PG_MAX_OVERFLOW,
        pool_pre_ping=True,
        connect_args=connect_args,
    )


class Database:
    """One engine and its session factory, owned by one app instance."""

    def __init__(self, settings: Settings) -> None:
        self.engine = create_engine(settings.database_url, pool_size=settings.db_pool_size)
        self.sessionmaker: async_sessionmaker[AsyncSession] = async_sessionmaker(
            self.engine, expire_on_commit=False
        )
        # The health probe's engine: for SQLite a fresh connection per probe, as a pooled
        # one keeps the old file open and would hide an outage (the file moved away).
        self.probe_engine = self.engine
        url = make_url(settings.database_url)
        if url.get_backend_name() == "sqlite":
            self.probe_engine = create_async_engine(
                url, poolclass=NullPool, async_creator=_sqlite_connector(url)
            )
            event.listen(self.probe_engine.sync_engine, "connect", _enable_sqlite_pragmas)
        self.probe_sessionmaker: async_sessionmaker[AsyncSession] = async_sessionmaker(
            self.probe_engine, expire_on_commit=False
        )

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.probe_engine is not self.engine:
            await self.probe_engine.dispose()


def database_of(app: Starlette) -> Database:
    """The Database that create_app stored on `app.state`."""
    database = getattr(app.state, "database", None)
    if not isinstance(database, Database):
        raise RuntimeError("app.state.database is not set; build the app with create_app()")
    return database


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """FastAPI dependency: one session per request, closed when the response is sent."""
    async with database_of(request.app).sessionmaker() as session:
        yield session
