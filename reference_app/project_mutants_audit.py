"""Mutants of the reference repository's deployment configuration, each breaking one item of
the Security Checklist as ``harness audit-config`` reads it (the CFG-CHECK-* requirements).

Those of the production env file first write ``.env.production`` as the repository does at
deploy time (``scripts/production-env.sh``: its settings and fresh random secrets), then plant
one value in it; the audit reads that file by default."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reference_app.project_mutants_ci import FileMutant, apply_edits

PRODUCTION_ENV = ".env.production"
GENERATOR = "scripts/production-env.sh"


@dataclass(frozen=True)
class AuditMutant:
    name: str
    breaks: tuple[str, ...]
    description: str
    apply: Callable[[Path], None]


def write_production_env(root: Path, destination: Path | None = None) -> Path:
    """The production env file of the repository at ``root``, written by its own script."""
    target = destination or root / PRODUCTION_ENV
    subprocess.run(
        ["bash", str(root / GENERATOR), str(target)], check=True, capture_output=True, timeout=30
    )
    return target


def plant(path: Path, variable: str, value: str) -> int:
    """Set ``variable`` to ``value`` in an env file (replacing its line, else appending one);
    returns the line it is on."""
    lines = path.read_text(encoding="utf-8").splitlines()
    pattern = re.compile(rf"^{re.escape(variable)}=")
    index = next((i for i, line in enumerate(lines) if pattern.match(line)), len(lines))
    lines[index : index + 1] = [f"{variable}={value}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return index + 1


def _env(
    name: str, breaks: tuple[str, ...], description: str, variable: str, value: str
) -> AuditMutant:
    def apply(root: Path) -> None:
        plant(write_production_env(root), variable, value)

    return AuditMutant(name, breaks, description, apply)


def _file(
    name: str, breaks: tuple[str, ...], description: str, path: str, *edits: str
) -> AuditMutant:
    pairs = tuple(zip(edits[::2], edits[1::2], strict=True))
    mutant = FileMutant(name, breaks, description, path, pairs)

    def apply(root: Path) -> None:
        write_production_env(root)  # a complete deployment: every check of it judges
        apply_edits(mutant, root)

    return AuditMutant(name, breaks, description, apply)


_MUTANTS = (
    _env(
        "env-secret-key-changeme",
        ("CFG-CHECK-SECRET-KEY", "CFG-CHECK-ENV-PLACEHOLDERS", "CFG-CHECK-DEFAULT-PASSWORDS"),
        "the production SECRET_KEY is changeme",
        "SECRET_KEY",
        "changeme",
    ),
    _env(
        "env-postgres-password-postgres",
        ("CFG-CHECK-DEFAULT-PASSWORDS",),
        "the production database password is postgres",
        "POSTGRES_PASSWORD",
        "postgres",
    ),
    _env(
        "env-grafana-password-from-example",
        ("CFG-CHECK-ENV-PLACEHOLDERS", "CFG-CHECK-DEFAULT-PASSWORDS"),
        "Grafana's production password is the example's change-me",
        "GRAFANA_ADMIN_PASSWORD",
        "change-me",
    ),
    _env(
        "env-cors-wildcard",
        ("CFG-CHECK-CORS",),
        "production allows every CORS origin",
        "CORS_ORIGINS",
        "*",
    ),
    _env(
        "env-rate-limit-zero",
        ("CFG-CHECK-RATE-LIMIT",),
        "production sets 0 requests per window",
        "RATE_LIMIT_CALLS",
        "0",
    ),
    _env(
        "env-admin-2fa-off",
        ("CFG-CHECK-ADMIN-2FA",),
        "production does not require admin 2FA",
        "ADMIN_2FA_REQUIRED",
        "false",
    ),
    _env(
        "env-debug-on", ("CFG-CHECK-NO-DEBUG",), "production runs with DEBUG=true", "DEBUG", "true"
    ),
    _env(
        "env-database-url-ssl-disabled",
        ("CFG-CHECK-DB-SSL",),
        "the backend's DATABASE_URL turns SSL off",
        "DATABASE_URL",
        "postgresql+asyncpg://reasoner@db:5432/formulas?sslmode=disable",
    ),
    _env(
        "env-ip-allowlist-everyone",
        ("CFG-CHECK-IP-ALLOWLIST",),
        "the IP allow-list admits every address",
        "SECURITY_IP_WHITELIST",
        "0.0.0.0/0",
    ),
    _file(
        "compose-grafana-admin-admin",
        ("CFG-CHECK-DEFAULT-PASSWORDS",),
        "Grafana gets no admin password and keeps admin/admin",
        "docker-compose.yml",
        "      GF_SECURITY_ADMIN_PASSWORD: ${GRAFANA_ADMIN_PASSWORD:?"
        "set GRAFANA_ADMIN_PASSWORD in .env}\n",
        "",
    ),
    _file(
        "ingress-without-tls",
        ("CFG-CHECK-HTTPS",),
        "the Ingress serves plain HTTP",
        "k8s/ingress.yaml",
        "  tls:\n    - hosts: [example.com]\n      secretName: frontend-tls\n",
        "",
    ),
    _file(
        "compose-redis-published",
        ("CFG-CHECK-FIREWALL",),
        "Redis is published on every interface",
        "docker-compose.yml",
        "    image: redis:7-alpine\n",
        '    image: redis:7-alpine\n    ports:\n      - "6379:6379"\n',
    ),
    _file(
        "backup-not-scheduled",
        ("CFG-CHECK-BACKUP", "OPS-BACKUP-DAILY"),
        "no cron job runs the backup",
        "ops/crontab",
        "0 2 * * * cd /srv/reasoner",
        "# 0 2 * * * cd /srv/reasoner",
    ),
    _file(
        "nginx-without-hsts",
        ("CFG-CHECK-HEADERS",),
        "the entry point sends no HSTS header",
        "frontend/nginx.conf",
        '    add_header Strict-Transport-Security "max-age=31536000; includeSubDomains" always;\n',
        "",
    ),
    _file(
        "nginx-location-drops-headers",
        ("CFG-CHECK-HEADERS",),
        "a location's own add_header drops the server's security headers",
        "frontend/nginx.conf",
        "        expires 1y;",
        '        expires 1y;\n        add_header Cache-Control "public";',
    ),
    _file(
        "prometheus-misses-the-backend",
        ("CFG-CHECK-LOGGING",),
        "Prometheus scrapes no backend",
        "monitoring/prometheus.yml",
        "  - job_name: backend\n",
        "  - job_name: api\n",
        'names: ["backend"]',
        'names: ["api"]',
    ),
    _file(
        "prometheus-without-rules",
        ("CFG-CHECK-ALERTS",),
        "Prometheus loads no rule file",
        "monitoring/prometheus.yml",
        "rule_files:\n  - alerts/*.yml\n",
        "",
    ),
    _file(
        "compose-alerts-not-mounted",
        ("CFG-CHECK-ALERTS",),
        "Compose mounts Prometheus' configuration without its rules",
        "docker-compose.yml",
        "      - ./monitoring/alerts:/etc/prometheus/alerts:ro\n",
        "",
    ),
    _file(
        "ci-python-audit-swallowed",
        ("CFG-CHECK-DEPENDENCIES", "DEP-CI-DEPENDENCY-SCAN"),
        "pip-audit's verdict is swallowed and Trivy scans configuration only",
        ".github/workflows/ci-cd.yml",
        "          scan-type: fs\n",
        "          scan-type: config\n",
        "        run: pip-audit -r backend/requirements.txt\n",
        "        run: pip-audit -r backend/requirements.txt || true\n",
    ),
)
AUDIT_MUTANTS = {mutant.name: mutant for mutant in _MUTANTS}
