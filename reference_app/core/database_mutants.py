"""A mutant of the database connection: PostgreSQL accepts unencrypted connections and the
backend opens its own in clear, so the sessions that carry the app's data are readable on the
network (CFG-DB-SSL). Only a container stack runs it: the embedded app is on SQLite."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.engine import make_url

from reference_app.core.config import Settings
from reference_app.core.database import Database, database_of
from reference_app.mutants import Mutant, register_mutant

# the image's entrypoint appends its own pg_hba.conf (`host all all all`, any encryption)
# after the stack's options; PostgreSQL keeps the last value of a repeated -c
_PLAIN_HBA_ENTRYPOINT = (
    'ENTRYPOINT ["sh", "-c", '
    '"exec docker-entrypoint.sh \\"$@\\" -c hba_file=$PGDATA/pg_hba.conf", "plain-hba"]'
)


def _plain_connections(app: FastAPI, settings: Settings) -> None:
    """Swap the engines for ones that open connections with ssl=disable; the configured URL
    still asks for SSL, so the start-up check of the settings passes."""
    url = make_url(settings.database_url)
    if url.get_backend_name() != "postgresql":
        return
    plain_url = url.difference_update_query(["ssl", "sslmode"]).update_query_dict(
        {"ssl": "disable"}
    )
    plain = Database(
        settings.model_copy(
            update={"database_url": plain_url.render_as_string(hide_password=False)}
        )
    )
    database = database_of(app)
    # nothing has connected yet: the replaced engines hold no connection to close
    database.engine, database.sessionmaker = plain.engine, plain.sessionmaker
    database.probe_engine, database.probe_sessionmaker = plain.engine, plain.sessionmaker


register_mutant(
    Mutant(
        name="database-without-tls",
        breaks=("CFG-DB-SSL",),
        description="PostgreSQL accepts unencrypted connections and the backend connects in clear",
        apply=_plain_connections,
        image={"database": _PLAIN_HBA_ENTRYPOINT},
    )
)
