"""Mutants of the reference repository's monitoring: Prometheus' configuration and alerting
rules (``monitoring/``). Each edits one file of a copy of ``reference_app/project``
(``reference_app.project_mutants_ci.apply_edits``) and breaks the requirements it names."""

from __future__ import annotations

from reference_app.project_mutants_ci import FileMutant

PROMETHEUS = "monitoring/prometheus.yml"
BACKEND_RULES = "monitoring/alerts/backend.yml"
_LATENCY = 'sum by (le) (rate(http_request_duration_seconds_bucket{job="backend"}'

_MUTANTS = (
    FileMutant(
        "prometheus-scrape-wrong-port",
        ("MON-PROM-CONFIG",),
        "the backend's scrape job asks port 8001; the backend listens on 8000",
        PROMETHEUS,
        (("        port: 8000\n", "        port: 8001\n"),),
    ),
    FileMutant(
        "prometheus-scrape-wrong-path",
        ("MON-PROM-CONFIG",),
        "the backend's scrape job asks /metric; the metrics are at /metrics",
        PROMETHEUS,
        (
            (
                "  - job_name: backend\n    metrics_path: /metrics\n",
                "  - job_name: backend\n    metrics_path: /metric\n",
            ),
        ),
    ),
    FileMutant(
        "prometheus-alert-rule-invalid",
        ("MON-PROM-CONFIG",),
        "an alerting rule's PromQL does not parse: promtool (and Prometheus) refuse the rules",
        BACKEND_RULES,
        # one closing parenthesis short
        ((f"{_LATENCY}[5m]))) > 0.5", f"{_LATENCY}[5m])) > 0.5"),),
    ),
)
MONITORING_MUTANTS = {mutant.name: mutant for mutant in _MUTANTS}
