"""`--stack containers` and `--image` as a user runs them: the gate passes on the reference
stack, one stack serves every xdist worker, and Ctrl-C leaves nothing behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from harness.stacks.docker_env import LABEL_RUN
from reference_app.project_mutants import PROJECT
from tests.conftest import LIGHT_LOAD, REPO, SUITES, interruptible
from tests.stacks.conftest import DRILL_ARGS
from tests.stacks.stack_helpers import (
    DRILL_IDS,
    LineReader,
    harness_cmd,
    health_components,
    killed_at_exit,
    matrix,
    require_stack_images,
    resources_of_run,
    run,
    runs_of_pid,
    stack_env,
)

JUDGED_ON_THE_STACK = ("SEC-RL-", "SEC-IP-", "SEC-VAL-", "LOAD-")


@pytest.fixture
def images(docker_client: Any) -> dict[str, str]:
    return require_stack_images(docker_client)


def test_gate_passes_on_the_reference_stack(
    images: dict[str, str], docker_client: Any, tmp_path: Path
) -> None:
    # INCOMPLETE is expected (uncovered requirements, quick load runs): nothing may fail
    # the stack and the repository it is built from: the load test files are judged too
    argv = harness_cmd(
        "gate", "--stack", "containers", "--allow-incomplete", *LIGHT_LOAD,
        f"--project-root={PROJECT}", *DRILL_ARGS[1:],
    )  # fmt: skip
    result = run([*argv, "--report-dir", str(tmp_path)], timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    data = matrix(tmp_path)
    [target] = data["targets"]
    assert target["kind"] == "containers"
    assert target["backend_image"] == images["backend"]
    entries = {entry["id"]: entry for entry in data["requirements"]}
    for rid in ("MON-HEALTH-001", "MON-HEALTH-002"):
        assert entries[rid]["verdict"] == "passed", entries[rid]
        components = health_components(entries[rid])
        assert components, f"no /health body in the evidence of {rid}"
        assert all(c["database"]["status"] == "up" for c in components), components
        assert all(c["redis"]["status"] == "up" for c in components), components
    for rid in ("MON-HEALTH-005", "MON-HEALTH-006", "MON-HEALTH-007"):
        assert entries[rid]["verdict"] == "passed", entries[rid]  # control, Redis, frontend
    assert "container stack" in result.stdout
    assert not resources_of_run(docker_client, target["run_id"])
    # the checks that need client addresses, variants or an exempt generator judge here too
    skipped = {
        rid: (entry["verdict"], entry.get("skip_reasons"))
        for rid, entry in entries.items()
        if rid.startswith(JUDGED_ON_THE_STACK)
        and entry["verdict"] not in {"passed", "scaled", "uncovered"}  # uncovered: no check
    }
    assert not skipped, skipped
    # the deploy drills ran on the reference repository's own deploy script, and every
    # deployment and backup requirement of the profile is proven on the stack and its repository
    drills = {rid: entries[rid]["verdict"] for rid in DRILL_IDS}
    assert set(drills.values()) == {"passed"}, drills
    unproven = {
        rid: (entry["verdict"], entry.get("skip_reasons"))
        for rid, entry in entries.items()
        if rid.startswith(("DEP-", "OPS-BACKUP-"))
        and entry["verdict"] not in {"passed", "not_applicable"}
    }
    assert not unproven, unproven


def test_one_stack_serves_every_xdist_worker(
    images: dict[str, str], docker_client: Any, tmp_path: Path
) -> None:
    argv = [
        sys.executable, "-m", "pytest", str(SUITES), "--stack", "containers", "-n", "2",
        "-p", "no:cacheprovider", "-q", f"--report-dir={tmp_path}",
        # the load checks judge on the stack in the serial gate above; two workers each running
        # a scenario of their own measure a shared 2-CPU machine more than the deployment
        "-k", "not test_performance",
    ]  # fmt: skip
    proc = subprocess.Popen(
        argv, cwd=REPO, env=stack_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    seen: set[str] = set()
    with killed_at_exit(proc):
        while proc.poll() is None:
            seen |= runs_of_pid(docker_client, proc.pid)
            time.sleep(0.2)
        output = proc.stdout.read() if proc.stdout else ""
    assert proc.returncode == 0, output
    assert len(seen) == 1, f"expected one stack, saw runs {seen}"
    targets = matrix(tmp_path)["targets"]
    assert {t["run_id"] for t in targets} == seen, targets
    workers = {t.get("run_id") for t in targets}
    assert len(workers) == 1
    assert not resources_of_run(docker_client, seen.pop())


SLOW_SUITE = """
import time
import pytest

@pytest.mark.requirement("MON-HEALTH-001")
def test_slow(target):
    print(flush=True)  # the RUN line stands alone, after pytest's node id
    print("RUN", target.run_id, flush=True)
    time.sleep(120)
"""


@pytest.mark.parametrize(
    ("signum", "moment"),
    [
        (signal.SIGINT, "during a check"),
        (signal.SIGINT, "during start-up"),
        (signal.SIGTERM, "during checks on xdist workers"),
    ],
    ids=["sigint-check", "sigint-start-up", "sigterm-xdist"],
)
def test_interrupt_removes_the_whole_stack(
    images: dict[str, str], docker_client: Any, tmp_path: Path, signum: int, moment: str
) -> None:
    suites = tmp_path / "suites"
    suites.mkdir()
    (suites / "test_slow.py").write_text(SLOW_SUITE)
    workers = ["-n", "2"] if "xdist" in moment else []
    argv = harness_cmd(
        "gate",
        "--stack",
        "containers",
        "--suites",
        str(suites),
        "--report-dir",
        str(tmp_path / "r"),
        "-v",
        *workers,
        "--",
        "-s",
    )  # fmt: skip  (-v: pytest's own output, the check's RUN line among it, on the console)
    proc = subprocess.Popen(
        argv,
        cwd=tmp_path,
        env=stack_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=interruptible,  # noqa: PLW1509 - single-threaded test process
    )
    with killed_at_exit(proc):
        runs: set[str] = set()
        reader = LineReader(proc.stdout)
        if moment == "during a check":
            line = reader.wait_for("RUN ", timeout=90)
            assert line, "the slow check did not start:\n" + reader.rest()
            runs = {line.split()[1]}
            assert resources_of_run(docker_client, line.split()[1])
        else:
            # the first container of the run (start-up), or the last one plus a moment
            wanted = "database" if moment == "during start-up" else "frontend"
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline and not any(
                name.endswith(wanted) for name in _container_names(docker_client, proc.pid)
            ):
                time.sleep(0.05)
            runs = runs_of_pid(docker_client, proc.pid)
            assert runs, "no container of the run appeared"
            if wanted == "frontend":
                time.sleep(3)  # let the workers begin their checks
        os.kill(proc.pid, signum)
        proc.wait(timeout=60)
        stderr = proc.stderr.read() if proc.stderr else ""
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr
    for run_id in runs:
        assert not resources_of_run(docker_client, run_id), run_id
    assert not runs_of_pid(docker_client, proc.pid), "something of the run is left"


def _container_names(client: Any, pid: int) -> list[str]:
    runs = runs_of_pid(client, pid, containers_only=True)
    return [
        container.name
        for run_id in runs
        for container in client.containers.list(
            all=True, filters={"label": [f"{LABEL_RUN}={run_id}"]}, ignore_removed=True
        )
    ]


def test_users_image_runs_with_throwaway_database_and_redis(
    images: dict[str, str], docker_client: Any, tmp_path: Path
) -> None:
    # the reference image under --image: the harness treats it as the user's own (no
    # migrations of ours), so only the health checks, which need no tables, are run
    result = run(
        harness_cmd(
            "gate", "--image", images["backend"], "--suites", str(SUITES / "test_health.py"),
            "--report-dir", str(tmp_path), "--allow-incomplete",
        )
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"image {images['backend']} in containers" in result.stderr
    [target] = matrix(tmp_path)["targets"]
    assert (target["kind"], target["backend_image"]) == ("containers", images["backend"])
    assert target["reference_backend"] is False
    assert not resources_of_run(docker_client, target["run_id"])
