"""Mutants of the reference repository's Dockerfiles, nginx configuration, Compose services,
deploy script, backup schedule and log rotation: one edit each (``project_mutants_ci``'s
:class:`FileMutant`), breaking one requirement each."""

from __future__ import annotations

from reference_app.project_mutants_ci import FileMutant


def _mutant(name: str, rid: str, description: str, path: str, *edits: str) -> FileMutant:
    pairs = tuple(zip(edits[::2], edits[1::2], strict=True))
    return FileMutant(name, (rid,), description, path, pairs)


_VENV = (
    "RUN python -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir -r requirements.txt\n"
)
_BUILDER = (
    f"FROM ${{PYTHON_IMAGE}} AS builder\nWORKDIR /build\nCOPY requirements.txt .\n{_VENV}"
    "\nFROM ${PYTHON_IMAGE}\n"
)
_COMPOSE = "docker-compose.yml"
_MUTANTS = (
    _mutant(
        "backend-single-stage", "DEP-BACKEND-MULTISTAGE",
        "the backend image is one stage that builds and runs",
        "backend/Dockerfile",
        _BUILDER,
        f"FROM ${{PYTHON_IMAGE}}\nCOPY requirements.txt .\n{_VENV}",
        "COPY --from=builder /opt/venv /opt/venv\n", "",
    ),
    _mutant(
        "backend-compiler-in-final", "DEP-BACKEND-MULTISTAGE",
        "the backend's final stage installs gcc and libpq-dev",
        "backend/Dockerfile",
        "RUN useradd",
        "RUN apt-get update && apt-get install -y --no-install-recommends gcc libpq-dev\n"
        "RUN useradd",
    ),
    _mutant(
        "backend-reload", "DEP-BACKEND-PRODUCTION",
        "the backend runs uvicorn with --reload",
        "backend/Dockerfile",
        '"--workers", "4"]', '"--reload"]',
    ),
    _mutant(
        "frontend-node-final", "DEP-FRONTEND-MULTISTAGE",
        "the frontend's final stage stands on node, not nginx",
        "frontend/Dockerfile",
        "FROM nginxinc/nginx-unprivileged:1.27-alpine", "FROM node:20-alpine",
    ),
    _mutant(
        "nginx-no-proxy", "DEP-FRONTEND-PROXY",
        "nginx has no API location: /api/ falls to the app's files",
        "frontend/nginx.conf",
        "    location /api/ {\n        proxy_pass http://backend:8000;\n    }\n", "",
    ),
    _mutant(
        "nginx-proxy-elsewhere", "DEP-FRONTEND-PROXY",
        "nginx proxies the API to a host that is not the backend service",
        "frontend/nginx.conf",
        "proxy_pass http://backend:8000;", "proxy_pass http://api.example.com;",
    ),
    _mutant(
        "postgres-no-healthcheck", "DEP-COMPOSE-POSTGRES",
        "the db service's health check is disabled",
        _COMPOSE,
        '    healthcheck:\n      test: ["CMD-SHELL", "pg_isready',
        '    healthcheck:\n      disable: true\n      test: ["CMD-SHELL", "pg_isready',
    ),
    _mutant(
        "redis-no-volume", "DEP-COMPOSE-REDIS",
        "Redis keeps /data in the container",
        _COMPOSE,
        "    volumes:\n      - redis-data:/data\n", "",
    ),
    _mutant(
        "redis-no-persistence", "DEP-COMPOSE-REDIS",
        "Redis runs with AOF and RDB snapshots off",
        _COMPOSE,
        '["redis-server", "--appendonly", "yes", "--appendfsync", "everysec"]',
        '["redis-server", "--appendonly", "no", "--save", ""]',
    ),
    _mutant(
        "backend-no-db-wait", "DEP-COMPOSE-BACKEND",
        "the backend starts before the database is healthy",
        _COMPOSE,
        "      db:\n        condition: service_healthy\n",
        "      db:\n        condition: service_started\n",
    ),
    _mutant(
        "frontend-port-80", "DEP-COMPOSE-FRONTEND",
        "the frontend is published on port 80, not 8080",
        _COMPOSE,
        '"127.0.0.1:8080:8080"', '"127.0.0.1:80:8080"',
    ),
    _mutant(
        "prometheus-image-config", "DEP-COMPOSE-PROMETHEUS",
        "Prometheus loads its image's own configuration",
        _COMPOSE,
        "      - ./monitoring/prometheus.yml:/etc/prometheus/prometheus.yml:ro\n", "",
    ),
    _mutant(
        "grafana-no-dashboards", "DEP-COMPOSE-GRAFANA",
        "the dashboards folder the provider reads is not mounted",
        _COMPOSE,
        "      - ./monitoring/grafana/dashboards:/var/lib/grafana/dashboards:ro\n", "",
    ),
    _mutant(
        "mlflow-ui", "DEP-COMPOSE-MLFLOW",
        "the MLflow service runs `mlflow ui`, not a tracking server",
        _COMPOSE,
        '["mlflow", "server",', '["mlflow", "ui",',
    ),
    _mutant(
        "deploy-script-syntax-error", "DEP-DEPLOY-SCRIPT",
        "the deploy script has an if that never closes",
        "scripts/deploy.sh",
        "#!/usr/bin/env bash\n", "#!/usr/bin/env bash\nif [[ -n ${CI:-} ]]; then\n",
    ),
    _mutant(
        "deploy-script-no-shebang", "DEP-DEPLOY-SCRIPT",
        "the deploy script has no shebang",
        "scripts/deploy.sh",
        "#!/usr/bin/env bash\n", "",
    ),
    _mutant(
        "backup-at-3am", "OPS-BACKUP-DAILY",
        "the backup runs at 03:00",
        "ops/crontab",
        "0 2 * * * cd /srv/reasoner", "0 3 * * * cd /srv/reasoner",
    ),
    _mutant(
        "backup-weekly", "OPS-BACKUP-DAILY",
        "the backup runs on Sundays only",
        "ops/crontab",
        "0 2 * * * cd /srv/reasoner", "0 2 * * 0 cd /srv/reasoner",
    ),
    _mutant(
        "logs-kept-30-days", "OPS-LOG-RETENTION",
        "logrotate keeps 30 days of logs",
        "ops/logrotate.conf",
        "    rotate 90\n    maxage 90\n", "    rotate 30\n    maxage 30\n",
    ),
    _mutant(
        "logs-never-removed", "OPS-LOG-RETENTION",
        "logrotate keeps every rotated log forever",
        "ops/logrotate.conf",
        "    rotate 90\n    maxage 90\n", "    rotate -1\n",
    ),
)  # fmt: skip
OPS_MUTANTS = {mutant.name: mutant for mutant in _MUTANTS}
