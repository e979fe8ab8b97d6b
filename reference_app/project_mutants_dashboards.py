"""Mutants of the reference repository's Grafana files: a dashboard gone, a panel querying a
metric nobody exports, the data source on the wrong port, an admin password that defaults to
admin or is planted as admin in the production env file. Each breaks one MON-GRAFANA-*
requirement."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from reference_app.project_mutants_audit import AuditMutant, plant, write_production_env
from reference_app.project_mutants_ci import FileMutant, apply_edits

DASHBOARDS = "monitoring/grafana/dashboards"
DATASOURCE = "monitoring/grafana/provisioning/datasources/prometheus.yml"
# requirement -> the file of the dashboard it asks for
DASHBOARD_FILES = {
    "MON-GRAFANA-DASH-API": "api-performance.json",
    "MON-GRAFANA-DASH-SYSTEM": "system-resources.json",
    "MON-GRAFANA-DASH-DATABASE": "database-metrics.json",
    "MON-GRAFANA-DASH-ERRORS": "error-tracking.json",
    "MON-GRAFANA-DASH-USERS": "user-activity.json",
}
# the backend exports its processes' memory as backend_process_resident_memory_bytes (all
# workers); process_resident_memory_bytes is the single-process collector's name, which a
# multiprocess backend never exports: a panel that is always empty
MISSING_METRIC = "dashboard-missing-metric"


# a copy of the tree with one change, as the audit's mutants are
DashboardMutant = AuditMutant


def _edits(mutant: FileMutant) -> DashboardMutant:
    return DashboardMutant(
        mutant.name, mutant.breaks, mutant.description, lambda root: apply_edits(mutant, root)
    )


def _without(filename: str) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        (root / DASHBOARDS / filename).unlink()

    return apply


def _admin_password_admin(root: Path) -> None:
    plant(write_production_env(root), "GRAFANA_ADMIN_PASSWORD", "admin")


_MUTANTS = (
    _edits(
        FileMutant(
            MISSING_METRIC,
            ("MON-GRAFANA-PANELS",),
            "the memory panel queries process_resident_memory_bytes, which nobody exports",
            f"{DASHBOARDS}/system-resources.json",
            (("(backend_process_resident_memory_bytes{", "(process_resident_memory_bytes{"),),
        )
    ),
    _edits(
        FileMutant(
            "grafana-datasource-wrong-port",
            ("MON-GRAFANA-DATASOURCE",),
            "the Prometheus data source points at port 9091, where nothing listens",
            DATASOURCE,
            (("url: http://prometheus:9090", "url: http://prometheus:9091"),),
        )
    ),
    _edits(
        FileMutant(
            "grafana-default-password",
            ("MON-GRAFANA-DEFAULT-PASSWORD",),
            "GF_SECURITY_ADMIN_PASSWORD defaults to admin: unset, Grafana keeps admin/admin",
            "docker-compose.yml",
            (
                (
                    "${GRAFANA_ADMIN_PASSWORD:?set GRAFANA_ADMIN_PASSWORD in .env}",
                    "${GRAFANA_ADMIN_PASSWORD:-admin}",
                ),
            ),
        )
    ),
    DashboardMutant(
        "grafana-admin-password-admin",
        ("MON-GRAFANA-DEFAULT-PASSWORD",),
        "the production env file sets GRAFANA_ADMIN_PASSWORD=admin",
        _admin_password_admin,
    ),
    *(
        DashboardMutant(
            f"dashboard-missing-{filename.removesuffix('.json')}",
            (rid,),
            f"{DASHBOARDS}/{filename} is gone",
            _without(filename),
        )
        for rid, filename in DASHBOARD_FILES.items()
    ),
)
DASHBOARD_MUTANTS = {mutant.name: mutant for mutant in _MUTANTS}
