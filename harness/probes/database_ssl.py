"""Reading what CFG-DB-SSL judges: the SSL mode of a database URL (its password never leaves
this module) and PostgreSQL's view of its sessions (``pg_stat_ssl`` joined with
``pg_stat_activity``), as psql prints them unaligned."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

SEPARATOR = "|"
# the network sessions of client backends on this database: the app's, never psql's own
# (on the Unix socket, so without a client address)
SESSIONS_SQL = (
    "SELECT a.usename, coalesce(a.application_name, ''), host(a.client_addr), s.ssl, "
    "coalesce(s.version, ''), coalesce(s.cipher, '') "
    "FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) "
    "WHERE a.client_addr IS NOT NULL AND a.datname = current_database() "
    "AND a.backend_type = 'client backend' ORDER BY a.backend_start"
)
# PostgreSQL's refusal of a connection no hostssl/host line admits unencrypted
REFUSED_PLAIN = "no encryption"


@dataclass(frozen=True)
class DatabaseDsn:
    """What a database URL says about its connection, without its credentials' secret."""

    scheme: str
    user: str | None
    host: str | None
    ssl_mode: str | None  # asyncpg's `ssl` or libpq's `sslmode` query value

    @property
    def is_sqlite(self) -> bool:
        return self.scheme.startswith("sqlite")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def parse_dsn(url: str) -> DatabaseDsn:
    """``postgresql+asyncpg://user:secret@db:5432/app?ssl=require`` -> scheme, user, host and
    ssl mode; the password is dropped here."""
    parts = urlsplit(url.strip())
    query = parse_qs(parts.query)
    modes = query.get("ssl") or query.get("sslmode")
    return DatabaseDsn(
        scheme=parts.scheme.lower(),
        user=unquote(parts.username) if parts.username else None,
        host=parts.hostname,
        ssl_mode=modes[-1].lower() if modes else None,
    )


def env_value(env: Sequence[str], name: str) -> str | None:
    """``NAME``'s value in a container's ``Config.Env`` (``NAME=value`` strings)."""
    for item in env:
        key, sep, value = item.partition("=")
        if sep and key == name:
            return value
    return None


@dataclass(frozen=True)
class SslSession:
    """One network session as the server sees it."""

    user: str
    application: str
    client: str
    ssl: bool
    version: str
    cipher: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class UnreadableSessions(ValueError):
    """psql printed something that is not the rows of ``SESSIONS_SQL``."""


def parse_sessions(text: str) -> list[SslSession]:
    """The rows psql printed for ``SESSIONS_SQL`` with ``-qAt -F'|'``."""
    sessions = []
    for line in text.splitlines():
        if not line.strip():
            continue
        fields = line.split(SEPARATOR)
        if len(fields) != 6 or fields[3] not in ("t", "f"):
            raise UnreadableSessions(f"not a session row: {line[:120]!r}")
        user, application, client, ssl, version, cipher = fields
        sessions.append(SslSession(user, application, client, ssl == "t", version, cipher))
    return sessions


def unencrypted(sessions: Sequence[SslSession]) -> list[SslSession]:
    return [session for session in sessions if not session.ssl]
