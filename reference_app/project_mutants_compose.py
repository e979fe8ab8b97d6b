"""Mutants of the reference repository's Compose files, backup script and backend package:
each breaks what the Compose runtime checks (suites/test_compose_runtime.py) run, so the checks
of the requirements it names must fail. Judged on Docker by tests/stacks/test_compose_runtime.py,
not with the file mutants. Where the local stand-ins (docker-compose.local.yml) replace a
service's command or build, the mutant edits the stand-in: that is what runs here."""

from __future__ import annotations

from reference_app.project_mutants_ci import FileMutant

COMPOSE = "docker-compose.yml"
LOCAL = "docker-compose.local.yml"
BACKUP = "scripts/backup.sh"


def _mutant(
    name: str, breaks: tuple[str, ...], description: str, path: str, *edits: str
) -> FileMutant:
    pairs = tuple(zip(edits[::2], edits[1::2], strict=True))
    return FileMutant(name, breaks, description, path, pairs)


_MUTANTS = (
    _mutant(
        "compose-mlflow-deaf",
        ("DEP-COMPOSE-MLFLOW",),
        "the MLflow service listens on another port than the one it publishes",
        LOCAL,
        'STANDIN_PORT: "5000"',
        'STANDIN_PORT: "5001"',
    ),
    _mutant(
        "compose-grafana-no-health",
        ("DEP-COMPOSE-GRAFANA",),
        "the Grafana service has no /api/health",
        LOCAL,
        "STANDIN_PATH: /api/health",
        "STANDIN_PATH: /healthz",
    ),
    _mutant(
        "compose-db-health-never-passes",
        ("DEP-COMPOSE-UP", "DEP-COMPOSE-POSTGRES", "OPS-MAINT-HEALTH"),
        "the db health check asks a port PostgreSQL does not listen on: it never turns healthy",
        COMPOSE,
        '-d ${POSTGRES_DB:-formulas}"]',
        '-d ${POSTGRES_DB:-formulas} -p 5433"]',
    ),
    _mutant(
        "compose-redis-without-persistence",
        ("DEP-COMPOSE-REDIS",),
        "Redis runs without its append-only file and without snapshots",
        LOCAL,
        '"--appendonly", "yes", "--appendfsync", "everysec",\n',
        '"--appendonly", "no", "--save", "",\n',
    ),
    _mutant(
        "compose-backend-logs-discarded",
        ("DEP-COMPOSE-LOGS", "OPS-TS-START-ERRORS"),
        "the backend's logging driver is none: docker compose logs shows none of its lines",
        COMPOSE,
        "    build: ./backend\n",
        "    build: ./backend\n    logging:\n      driver: none\n",
    ),
    _mutant(
        "compose-db-data-anonymous",
        ("DEP-COMPOSE-DOWN",),
        "the database keeps its files on an anonymous volume, which the next up does not reuse",
        COMPOSE,
        "      - db-data:/var/lib/postgresql/data\n",
        "      - /var/lib/postgresql/data\n",
    ),
    _mutant(
        "compose-frontend-prebuilt",
        ("DEP-COMPOSE-REBUILD",),
        "the frontend runs a stock nginx image: up -d --build builds nothing from frontend/",
        LOCAL,
        "    image: ${FRONTEND_IMAGE:-reasoner/frontend}:${VERSION:-latest}\n    build:\n",
        "    image: prodready-local/nginx:1.22\n    build: !reset null\n    x-unused-build:\n",
    ),
    _mutant(
        "compose-backend-without-alembic-config",
        ("DEP-MIGRATE",),
        "the backend image does not say where alembic.ini is: alembic upgrade head finds none",
        LOCAL,
        "        ENV ALEMBIC_CONFIG=/opt/venv/lib/python3.11/"
        "site-packages/reference_app/alembic.ini\n",
        "",
    ),
    _mutant(
        "env-example-other-database",
        ("OPS-PG-DUMP",),
        "the database is called reasoner: the spec's pg_dump of formulas finds no such database",
        ".env.example",
        "POSTGRES_DB=formulas\n",
        "POSTGRES_DB=reasoner\n",
    ),
    _mutant(
        "backup-schema-only",
        ("OPS-BACKUP-SCRIPT", "OPS-MAINT-BACKUP-VERIFY"),
        "the backup script dumps the schema without the rows",
        BACKUP,
        'dump_database "$SET/database.dump"\n',
        'db_run \'pg_dump -U "$POSTGRES_USER" -Fc --schema-only "$POSTGRES_DB"\' '
        '>"$SET/database.dump"\n',
    ),
    _mutant(
        "backup-without-volumes",
        ("OPS-BACKUP-SCRIPT",),
        "the backup script looks for the volumes under a name Compose does not give them",
        BACKUP,
        '--filter "label=com.docker.compose.project=$project")',
        '--filter "name=^$project-")',
    ),
    _mutant(
        "db-connect-unawaited",
        ("OPS-TS-DB-CONNECT",),
        "app.core.database exports the async engine: engine.connect() connects nothing",
        "backend/app/core/database.py",
        "engine = BlockingEngine(create_engine(get_settings().database_url, pool_size=1))",
        "engine = create_engine(get_settings().database_url, pool_size=1)",
    ),
)

COMPOSE_MUTANTS = {mutant.name: mutant for mutant in _MUTANTS}
