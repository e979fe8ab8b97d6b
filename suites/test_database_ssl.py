"""Security Configuration > Production: "SSL/TLS for database" (CFG-DB-SSL).

Judged where it happens, in PostgreSQL: the backend's sessions in ``pg_stat_ssl``, the server's
``ssl`` setting, and a plain connection from the network that must be refused. A deployment
whose database is SQLite, a local file, has no database connection to encrypt: the checks end
``not_applicable`` there rather than skipped, so the gate is not left incomplete by them.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from harness.errors import UnexpectedAnswer
from harness.probes import database_ssl as dbs
from harness.report.evidence import Evidence
from harness.targets import Capability, Target
from harness.targets.base import ContainerAccess

requirement = pytest.mark.requirement
DATABASE, BACKEND = "database", "backend"  # the services of a containers target
SQLITE = "the deployment's database is SQLite, a local file: no network connection to encrypt"
# psql inside the database container, as the image's own user over its Unix socket: the
# credentials never leave the container
PSQL = 'psql -v ON_ERROR_STOP=1 -qAt -F "|" -U "$POSTGRES_USER" -d "$POSTGRES_DB" -c "$1"'
# psql over the container's own network address, in the SSL mode $1: a client on the network
NETWORK_PSQL = (
    'PGPASSWORD="$POSTGRES_PASSWORD" psql -qAt -c "SELECT 1" '
    '"host=$(hostname -i | cut -d" " -f1) user=$POSTGRES_USER dbname=$POSTGRES_DB sslmode=$1"'
)


@pytest.fixture
def database(target: Target, evidence: Evidence) -> ContainerAccess:
    """The deployment's containers, once it is known to run PostgreSQL."""
    if target.facts.get("database") == "sqlite":
        evidence.note("database", "sqlite")
        evidence.not_applicable(SQLITE)
    containers = target.require(Capability.CONTAINERS)
    dsn = _backend_dsn(containers)
    evidence.note("backend DATABASE_URL (without its password)", dsn.to_json())
    if dsn.is_sqlite:
        evidence.not_applicable(SQLITE)
    return containers


def _backend_dsn(containers: ContainerAccess) -> dbs.DatabaseDsn:
    env = containers.inspect_container(BACKEND).get("Config", {}).get("Env") or []
    url = dbs.env_value(env, "DATABASE_URL")
    if url is None:
        raise UnexpectedAnswer(f"the {BACKEND} container", "a DATABASE_URL", "none in its env")
    return dbs.parse_dsn(url)


def _sql(containers: ContainerAccess, statement: str) -> str:
    code, output = containers.exec(DATABASE, ["sh", "-c", PSQL, "psql", statement])
    if code != 0:
        raise UnexpectedAnswer(f"psql in {DATABASE}", "rows", f"exit {code}: {output[:200]}")
    return output


@requirement("CFG-DB-SSL")
def test_backend_sessions_are_encrypted(
    database: ContainerAccess, http: httpx.Client, evidence: Evidence, params: dict[str, Any]
) -> None:
    dsn = _backend_dsn(database)
    allowed = [str(mode) for mode in params["db_sslmode_allowed"]]
    assert dsn.ssl_mode in allowed, (
        f"the backend's DATABASE_URL asks for ssl mode {dsn.ssl_mode or '(none: prefer)'}, "
        f"not one of {', '.join(allowed)}: add ?ssl=require"
    )
    http.get("/health")  # the pool holds the connection the health probe used
    try:
        sessions = dbs.parse_sessions(_sql(database, dbs.SESSIONS_SQL))
    except dbs.UnreadableSessions as exc:
        raise UnexpectedAnswer("pg_stat_ssl", "session rows", str(exc)) from None
    evidence.note("network sessions (pg_stat_ssl)", [s.to_json() for s in sessions])
    ours = [s for s in sessions if dsn.user is None or s.user == dsn.user]
    if not ours:
        raise UnexpectedAnswer(
            "pg_stat_activity", f"a session of the backend's user {dsn.user}", "none open"
        )
    plain = dbs.unencrypted(ours)
    assert not plain, (
        f"{len(plain)} of the backend's {len(ours)} database sessions are unencrypted "
        f"(pg_stat_ssl.ssl = false), from {', '.join(sorted({s.client for s in plain}))}"
    )


@requirement("CFG-DB-SSL")
def test_database_refuses_unencrypted_network_clients(
    database: ContainerAccess, evidence: Evidence
) -> None:
    ssl = _sql(database, "SHOW ssl").strip()
    evidence.note("SHOW ssl", ssl)
    assert ssl == "on", f"PostgreSQL runs with ssl = {ssl}: it cannot encrypt a connection"
    code, output = database.exec(DATABASE, ["sh", "-c", NETWORK_PSQL, "psql", "require"])
    if code != 0:  # the control: without it a refusal could be a wrong password
        raise UnexpectedAnswer(
            "psql sslmode=require over the network", "a connection", output.strip()[:200]
        )
    code, output = database.exec(DATABASE, ["sh", "-c", NETWORK_PSQL, "psql", "disable"])
    evidence.note("psql sslmode=disable over the network", output.strip()[:300] or f"exit {code}")
    assert code != 0, (
        "PostgreSQL accepts an unencrypted connection from the network: pg_hba.conf admits it "
        "with a host line; use hostssl (and no host line) for network clients"
    )
    assert dbs.REFUSED_PLAIN in output, f"the plain connection failed otherwise: {output[:200]}"
