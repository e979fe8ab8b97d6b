"""The dashboard suite with a Grafana answering at grafana_url: a stand-in on loopback that
answers Grafana's API as Grafana does. It is asked for the dashboards' titles, its data
source's health test, admin/admin and its own health, besides the repository's files."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from reference_app.project_mutants import PROJECT
from reference_app.project_mutants_audit import write_production_env
from tests.conftest import SuiteRun, loopback_servers

TITLES = ["API Performance", "System Resources", "Database Metrics", "Error Tracking"]
SELECTED = (
    "MON-GRAFANA-ACCESS",
    "MON-GRAFANA-DASH-API",
    "MON-GRAFANA-DASH-USERS",
    "MON-GRAFANA-DATASOURCE",
    "MON-GRAFANA-DEFAULT-PASSWORD",
)


def _handler(admin_admin: bool) -> type[BaseHTTPRequestHandler]:
    class Grafana(BaseHTTPRequestHandler):
        def _json(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path == "/api/health":
                self._json(200, {"database": "ok", "version": "11.3.0"})
            elif self.path.startswith("/api/search"):
                self._json(200, [{"title": t, "type": "dash-db"} for t in TITLES])
            elif self.path == "/api/datasources/uid/prometheus/health":
                self._json(200, {"status": "OK", "message": "Successfully queried"})
            else:
                self._json(404, {"message": "Not found"})

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            default = body == {"user": "admin", "password": "admin"}
            self._json(200 if default and admin_admin else 401, {"message": "login"})

        def log_message(self, *_: object) -> None:
            pass

    return Grafana


@pytest.fixture
def grafana() -> Iterator[Callable[[bool], str]]:
    with loopback_servers() as serve:
        yield lambda admin_admin: serve(_handler(admin_admin))


def _run(run_suites: Callable[..., SuiteRun], url: str, env_file: Path) -> SuiteRun:
    return run_suites(
        f"--project-root={PROJECT}",
        f"--param=grafana_url={url}",
        f"--param=audit_env_file={env_file}",
        *(f"--requirement={rid}" for rid in SELECTED),
    )


def test_a_grafana_answering_is_asked_too(
    grafana: Callable[[bool], str], run_suites: Callable[..., SuiteRun], tmp_path: Path
) -> None:
    env_file = write_production_env(PROJECT, tmp_path / "production.env")
    run = _run(run_suites, grafana(False), env_file)
    verdicts = {rid: run.verdict(rid) for rid in SELECTED}
    # the stand-in lists no User Activity: the repository has it, Grafana does not show it
    assert verdicts == {
        "MON-GRAFANA-ACCESS": "passed",
        "MON-GRAFANA-DASH-API": "passed",
        "MON-GRAFANA-DASH-USERS": "failed",
        "MON-GRAFANA-DATASOURCE": "passed",  # the file check and Grafana's own health test
        "MON-GRAFANA-DEFAULT-PASSWORD": "passed",
    }, run.output
    failed = next(c for c in run.entry("MON-GRAFANA-DASH-USERS")["checks"] if c.get("message"))
    assert "has no dashboard titled 'User Activity'" in failed["message"]


def test_a_grafana_accepting_admin_admin_fails_the_production_check(
    grafana: Callable[[bool], str], run_suites: Callable[..., SuiteRun], tmp_path: Path
) -> None:
    env_file = write_production_env(PROJECT, tmp_path / "production.env")
    run = _run(run_suites, grafana(True), env_file)
    assert run.verdict("MON-GRAFANA-DEFAULT-PASSWORD") == "failed", run.output
    check = run.entry("MON-GRAFANA-DEFAULT-PASSWORD")["checks"][0]
    assert "accepts the login admin/admin" in check["message"]
