"""`harness stack up|status|down`: a stack left running for manual use, found again by
`down` and by a gate pointed at its backend URL, never swept by test runs, one at a time."""

from __future__ import annotations

import json
import ssl
from pathlib import Path
from typing import Any

import httpx

from harness.stacks.sweep import sweep_dead_runs, sweep_runs
from tests.stacks.conftest import require_image
from tests.stacks.stack_helpers import (
    harness_cmd,
    matrix,
    require_stack_images,
    resources_of_run,
    run,
)


def test_stack_up_status_and_down(docker_client: Any, tmp_path: Path) -> None:
    require_stack_images(docker_client)
    require_image(docker_client, "prometheus")
    env = {"XDG_STATE_HOME": str(tmp_path)}
    state = tmp_path / "prodready-harness" / "stack.json"
    up = run(harness_cmd("stack", "up", "--with-prometheus"), env=env)
    run_id = json.loads(state.read_text())["run_id"] if state.is_file() else None
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        assert run_id is not None
        assert run_id.startswith("manual-")
        info = json.loads(state.read_text())
        urls = ("backend_url", "frontend_url", "frontend_http_url", "prometheus_url")
        for key in urls:
            assert info[key] in up.stdout, key
        ready = httpx.get(info["prometheus_url"] + "/-/ready", timeout=10)
        assert ready.status_code == 200
        assert info["ca_file"] in up.stdout
        health = httpx.get(info["backend_url"] + "/health", timeout=10)
        assert health.json()["components"]["database"]["status"] == "up"
        with httpx.Client(verify=ssl.create_default_context(cafile=info["ca_file"])) as client:
            assert client.get(info["frontend_url"] + "/health").status_code == 200

        # the gate pointed at its backend URL finds the stack, plays the hop it trusts
        reports = tmp_path / "gate"
        gate = run(harness_cmd(
            "gate", "--target-url", info["backend_url"], "--requirement", "SEC-RL-PER-IP",
            "--allow-incomplete", "--report-dir", str(reports),
        ), env=env)  # fmt: skip
        assert gate.returncode == 0, gate.stdout + gate.stderr
        gated = matrix(reports)
        assert [t["kind"] for t in gated["targets"]] == ["containers"]
        verdicts = {e["id"]: e["verdict"] for e in gated["requirements"]}
        assert verdicts["SEC-RL-PER-IP"] == "passed", gate.stdout

        # it outlives the process that started it, and no test run's sweep removes it
        sweep_dead_runs(docker_client)
        assert resources_of_run(docker_client, run_id)

        again = run(harness_cmd("stack", "up"), env=env)
        assert again.returncode == 2
        assert f"harness: error: a stack is already running (run {run_id}" in again.stderr

        status = run(harness_cmd("stack", "status"), env=env)
        assert status.returncode == 0, status.stderr
        assert run_id in status.stdout
        assert "database     running" in status.stdout
        assert "prometheus   running" in status.stdout

        down = run(harness_cmd("stack", "down"), env=env)
        assert down.returncode == 0, down.stdout + down.stderr
        assert f"stack {run_id} removed" in down.stdout
        assert not resources_of_run(docker_client, run_id)
        assert not state.exists()
        assert not Path(info["workdir"]).exists()
    finally:
        if run_id is not None:
            sweep_runs(docker_client, [run_id])

    again = run(harness_cmd("stack", "down"), env=env)
    assert again.returncode == 2
    assert "harness: error: no stack is running" in again.stderr
    status = run(harness_cmd("stack", "status"), env=env)
    assert "no stack is running" in status.stdout
