"""Mutants of the reference repository's operations settings: the weekly load test of the
workflow, Prometheus' retention, nginx's access log, PostgreSQL's slow-query log and the
backend's worker count. Each edits one file of a copy of ``reference_app/project``
(``reference_app.project_mutants_ci.apply_edits``) and breaks the requirements it names.
"""

from __future__ import annotations

from reference_app.project_mutants_ci import WORKFLOW, FileMutant

COMPOSE = "docker-compose.yml"
NGINX = "frontend/nginx.conf"
_BACKEND_COMMAND = (
    '    command: ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000", '
    '"--workers", "4"]\n'
)


def _mutant(
    name: str, breaks: tuple[str, ...], description: str, path: str, *edits: str
) -> FileMutant:
    return FileMutant(
        name, breaks, description, path, tuple(zip(edits[::2], edits[1::2], strict=True))
    )


_MUTANTS = (
    _mutant(
        "ops-load-tests-monthly",
        ("OPS-MAINT-LOAD-TESTS",),
        "the load tests are scheduled once a month",
        WORKFLOW,
        '- cron: "0 3 * * 1"',
        '- cron: "0 3 1 * *"',
    ),
    _mutant(
        "ops-load-tests-web-ui",
        ("OPS-MAINT-LOAD-TESTS",),
        "the scheduled locust run waits for its web UI (no --headless) and never finishes",
        WORKFLOW,
        "locust -f backend/tests/load/locustfile.py --headless\n",
        "locust -f backend/tests/load/locustfile.py\n",
    ),
    _mutant(
        "ops-prometheus-two-days",
        ("OPS-MAINT-PERF-REVIEW",),
        "Prometheus keeps two days of metrics",
        COMPOSE,
        '"--storage.tsdb.retention.time=30d"',
        '"--storage.tsdb.retention.time=2d"',
    ),
    _mutant(
        "ops-prometheus-size-only",
        ("OPS-MAINT-PERF-REVIEW",),
        "Prometheus keeps what fits in 512 MB, however few days that is",
        COMPOSE,
        '"--storage.tsdb.retention.time=30d"',
        '"--storage.tsdb.retention.size=512MB"',
    ),
    _mutant(
        "ops-access-log-off",
        ("OPS-MAINT-ACCESS-LOGS",),
        "the frontend's nginx writes no access log",
        NGINX,
        "    access_log /var/log/nginx/access.log access;\n",
        "    access_log off;\n",
    ),
    _mutant(
        "ops-access-log-no-status",
        ("OPS-MAINT-ACCESS-LOGS",),
        "the access log format leaves out the status",
        NGINX,
        '"$request" $status ',
        '"$request" ',
    ),
    _mutant(
        "ops-postgres-logs-every-statement",
        ("OPS-SLOW-QUERY-LOG",),
        "log_min_duration_statement=0 logs every statement, not the slow ones",
        COMPOSE,
        '"log_min_duration_statement=250ms"',
        '"log_min_duration_statement=0"',
    ),
    _mutant(
        "ops-postgres-no-slow-log",
        ("OPS-SLOW-QUERY-LOG",),
        "the database's command sets no slow-query logging",
        COMPOSE,
        '["postgres", "-c", "log_min_duration_statement=250ms",',
        '["postgres",',
    ),
    # the spec's own "Reduce: --workers 2" in production: below 4 both for the count and for
    # the Compose setting (OPS-TS-WORKERS asks for --workers of at least min_workers)
    _mutant(
        "ops-backend-two-workers",
        ("OPS-WORKERS", "OPS-TS-WORKERS"),
        "the backend runs --workers 2 in production",
        COMPOSE,
        '"--workers", "4"]',
        '"--workers", "2"]',
    ),
    _mutant(
        "ops-workers-only-in-dockerfile",
        ("OPS-TS-WORKERS",),
        "the worker count is not in the Compose file (only the Dockerfile's CMD sets it)",
        COMPOSE,
        _BACKEND_COMMAND,
        "",
    ),
)
OPS_FILE_MUTANTS = {mutant.name: mutant for mutant in _MUTANTS}
