"""Prometheus on the container stack: the gate's stack starts it with the reference
repository's configuration and rules, MON-PROM-ACCESS and MON-PROM-TARGETS pass there, and
a scrape target that goes down fails MON-PROM-TARGETS, named with its error."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.probes.prometheus import PrometheusApi, describe_target
from harness.stacks.containers import ContainerStack
from tests.stacks.stack_helpers import (
    harness_cmd,
    matrix,
    require_stack_images,
    resources_of_run,
    run,
)

PROM_IDS = ("MON-PROM-ACCESS", "MON-PROM-TARGETS")
DOWN_WITHIN_S = 60  # two scrape intervals of 15 s, and slack for a loaded machine


@pytest.fixture
def images(docker_client: Any) -> dict[str, str]:
    return {**require_stack_images(docker_client)}


def _notes(entry: dict[str, Any]) -> dict[str, Any]:
    return {item["label"]: item["value"] for item in entry["evidence"] if "label" in item}


def test_the_gates_stack_runs_prometheus_and_every_target_is_up(
    images: dict[str, str], docker_client: Any, tmp_path: Path
) -> None:
    argv = harness_cmd(
        "gate", "--stack", "containers", "--allow-incomplete", "--report-dir", str(tmp_path),
        *(f"--requirement={rid}" for rid in PROM_IDS),
    )  # fmt: skip
    result = run(argv, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    data = matrix(tmp_path)
    entries = {entry["id"]: entry for entry in data["requirements"]}
    for rid in PROM_IDS:
        assert entries[rid]["verdict"] == "passed", entries[rid]
    notes = _notes(entries["MON-PROM-TARGETS"])
    assert "s of at most 60 s" in notes["waited for scrapes"], notes
    jobs = notes["targets per job"]
    assert jobs == {"backend": 1, "frontend": 1, "prometheus": 1}, notes  # the replica: no alias
    assert all(line.endswith(": up") for line in notes["targets"]), notes
    assert not resources_of_run(docker_client, data["targets"][0]["run_id"])


def _wait_down(api: PrometheusApi, job: str) -> dict[str, Any]:
    deadline = time.monotonic() + DOWN_WITHIN_S
    while True:
        mine = [t for t in api.targets() if (t.get("labels") or {}).get("job") == job]
        if mine and mine[0].get("health") == "down":
            return mine[0]
        assert time.monotonic() < deadline, [describe_target(t) for t in mine]
        time.sleep(1)


def test_a_target_that_goes_down_fails_mon_prom_targets(
    images: dict[str, str], docker_client: Any, tmp_path: Path
) -> None:
    with ContainerStack(profile="production", with_prometheus=True) as stack:
        url = stack.info.prometheus_url
        assert url is not None
        rules = httpx.get(url + "/api/v1/rules", timeout=10).json()["data"]["groups"]
        alerts = {rule["name"] for group in rules for rule in group["rules"]}
        # the repository's rules, mounted beside its configuration
        assert {"InstanceDown", "BackendHighErrorRate", "BackendHighLatency"} <= alerts
        stack.control.stop("frontend")
        down = _wait_down(PrometheusApi(url), "frontend")
        argv = harness_cmd(
            "gate", "--requirement=MON-PROM-TARGETS", f"--param=prometheus_url={url}",
            "--report-dir", str(tmp_path),
        )  # fmt: skip
        result = run(argv, timeout=300)
        # and a Prometheus that no longer answers fails MON-PROM-ACCESS
        stack.control.stop("prometheus")
        gone = tmp_path / "gone"
        access = run(
            harness_cmd(
                "gate", "--requirement=MON-PROM-ACCESS", f"--param=prometheus_url={url}",
                "--report-dir", str(gone),
            ),
            timeout=300,
        )  # fmt: skip
    assert access.returncode == 1, access.stdout + access.stderr
    verdicts = {e["id"]: e["verdict"] for e in matrix(gone)["requirements"]}
    assert verdicts["MON-PROM-ACCESS"] == "failed", access.stdout
    assert result.returncode == 1, result.stdout + result.stderr
    entry = next(e for e in matrix(tmp_path)["requirements"] if e["id"] == "MON-PROM-TARGETS")
    assert entry["verdict"] == "failed", entry
    assert entry["applied"]["prometheus_url"] == url
    message = " ".join(str(check.get("message", "")) for check in entry["checks"])
    assert "not up: frontend frontend:8080: down" in message, entry
    assert describe_target(down) in _notes(entry)["targets"]
    assert not resources_of_run(docker_client, stack.run_id)
