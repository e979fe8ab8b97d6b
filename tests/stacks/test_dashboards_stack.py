"""The dashboards on the container stack with its Prometheus: after the check's known traffic
every panel query of the reference tree, expanded as Grafana sends it, returns data, and the
panel of the dashboard-missing-metric mutant returns none, named with its query."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.probes.dashboards import read_dashboard
from reference_app.project_mutants import PROJECT, write_project_mutant
from reference_app.project_mutants_dashboards import DASHBOARDS, MISSING_METRIC
from tests.stacks.conftest import require_image
from tests.stacks.stack_helpers import harness_cmd, matrix, require_stack_images, run

EVALUATED = "test_every_panel_returns_data_after_known_traffic"
HEALTH_TEST = "test_datasource_health_test_passes"


def _gate(backend_url: str, root: Path, reports: Path, env: dict[str, str]) -> dict[str, Any]:
    gate = run(
        harness_cmd(
            "gate", "--target-url", backend_url, f"--project-root={root}",
            "--requirement", "MON-GRAFANA-PANELS", "--requirement", "MON-GRAFANA-DATASOURCE",
            "--allow-incomplete", "--report-dir", str(reports), "-v",
        ),
        env=env,
        timeout=600,
    )  # fmt: skip
    assert gate.returncode in (0, 1), gate.stdout + gate.stderr
    return {e["id"]: e for e in matrix(reports)["requirements"]}


def _check(entry: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in entry["checks"] if c["nodeid"].endswith(name))


def _notes(entry: dict[str, Any], name: str) -> dict[str, Any]:
    """The notes one check of the requirement wrote into its evidence."""
    mine = [n for n in entry["evidence"] if str(n.get("check", "")).endswith(name)]
    return {note["label"]: note["value"] for note in mine if "label" in note}


def _reference_queries() -> int:
    boards = [read_dashboard(p, p.name) for p in sorted((PROJECT / DASHBOARDS).glob("*.json"))]
    return sum(len(panel.queries) for board in boards for panel in board.panels)


def test_every_panel_returns_data_and_a_missing_metric_does_not(
    docker_client: Any, tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    require_stack_images(docker_client)
    require_image(docker_client, "prometheus")
    env = {"XDG_STATE_HOME": str(tmp_path / "state")}
    state = tmp_path / "state" / "prodready-harness" / "stack.json"
    up = run(harness_cmd("stack", "up", "--with-prometheus"), env=env)
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        backend = json.loads(state.read_text())["backend_url"]

        clean = _gate(backend, PROJECT, tmp_path / "clean", env)
        panels = clean["MON-GRAFANA-PANELS"]
        assert panels["verdict"] == "passed", json.dumps(panels, indent=1)[:6000]
        notes = _notes(panels, EVALUATED)
        lines = notes["panel queries"]
        assert len(lines) == _reference_queries(), lines
        assert all(not line.endswith("-> 0 series") for line in lines), lines
        assert "bound" in notes["waited for scrapes"], notes
        # measured on each run, in the JUnit report: panels, queries and the wait for scrapes
        record_property("dashboards", f"{notes['evaluated']}, {notes['waited for scrapes']}")
        assert clean["MON-GRAFANA-DATASOURCE"]["verdict"] == "passed", clean
        assert _check(clean["MON-GRAFANA-DATASOURCE"], HEALTH_TEST)["outcome"] == "passed"

        write_project_mutant(MISSING_METRIC, tmp_path / "mutant")
        broken = _gate(backend, tmp_path / "mutant", tmp_path / "broken", env)
        evaluated = _check(broken["MON-GRAFANA-PANELS"], EVALUATED)
        assert evaluated["outcome"] == "failed", evaluated
        message = evaluated["message"]
        assert "System Resources / Backend resident memory (A) returned no data" in message
        assert "process_resident_memory_bytes{" in message
        assert "1 of " in message, message
    finally:
        down = run(harness_cmd("stack", "down"), env=env)
        assert down.returncode == 0, down.stdout + down.stderr
