"""The readers behind CFG-DB-SSL: a database URL's SSL mode (its password dropped) and the
sessions psql prints from pg_stat_ssl."""

from __future__ import annotations

import pytest

from harness.probes.database_ssl import (
    UnreadableSessions,
    env_value,
    parse_dsn,
    parse_sessions,
    unencrypted,
)


@pytest.mark.parametrize(
    ("url", "user", "mode", "sqlite"),
    [
        ("postgresql+asyncpg://app:s3cret@db:5432/formulas?ssl=require", "app", "require", False),
        ("postgresql://app:s3cret@db/formulas?sslmode=Verify-Full", "app", "verify-full", False),
        ("postgres://a%40b:pw@db/x?application_name=api", "a@b", None, False),
        ("sqlite+aiosqlite:///./formulas.db", None, None, True),
    ],
)
def test_parse_dsn(url: str, user: str | None, mode: str | None, sqlite: bool) -> None:
    dsn = parse_dsn(url)
    assert (dsn.user, dsn.ssl_mode, dsn.is_sqlite) == (user, mode, sqlite)
    assert "s3cret" not in str(dsn.to_json())
    assert "pw" not in str(dsn.to_json())


def test_env_value_reads_a_container_environment() -> None:
    env = ["PATH=/usr/bin", "DATABASE_URL=postgresql://a:b@db/x?ssl=require", "EMPTY="]
    assert env_value(env, "DATABASE_URL") == "postgresql://a:b@db/x?ssl=require"
    assert env_value(env, "EMPTY") == ""
    assert env_value(env, "MISSING") is None


def test_parse_sessions_and_the_unencrypted_ones() -> None:
    text = "app||172.18.0.5|t|TLSv1.3|TLS_AES_256_GCM_SHA384\n\napp|psql|172.18.0.6|f||\n"
    sessions = parse_sessions(text)
    assert [(s.client, s.ssl, s.version) for s in sessions] == [
        ("172.18.0.5", True, "TLSv1.3"),
        ("172.18.0.6", False, ""),
    ]
    assert [s.application for s in unencrypted(sessions)] == ["psql"]
    assert parse_sessions("") == []


@pytest.mark.parametrize("text", ["ERROR: relation does not exist", "a|b|c|yes|d|e"])
def test_parse_sessions_refuses_other_output(text: str) -> None:
    with pytest.raises(UnreadableSessions):
        parse_sessions(text)
