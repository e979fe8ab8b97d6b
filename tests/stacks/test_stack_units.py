"""Run ids and the dead-run sweep, the readers-writer lock, config and CLI errors, the
containers target's JSON round trip: fast tests, most without Docker."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from harness.config import load_config
from harness.errors import ConfigError
from harness.stacks.docker_env import KIND_LOCAL_IMAGE, LABEL, LABEL_KIND, LABEL_RUN
from harness.stacks.info import StackInfo
from harness.stacks.lock import StackLock, lock_path
from harness.stacks.services import applied_testcontainers_env
from harness.stacks.sweep import (
    new_run_id,
    parse_run_id,
    run_is_dead,
    sweep_dead_runs,
    sweep_runs,
    sweep_temp_files,
)
from harness.targets import Capability
from harness.targets.containers import ContainersTarget
from tests.conftest import REPO, clean_env

NO_DOCKER = {"DOCKER_HOST": "unix:///nonexistent/docker.sock"}


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


# --- run ids ---------------------------------------------------------------------------------


def test_run_id_names_host_and_pid() -> None:
    run_id = new_run_id()
    host, pid = parse_run_id(run_id) or ("", 0)
    assert pid == os.getpid()
    assert host
    assert run_id.startswith(host + "-")
    assert new_run_id() != run_id
    assert new_run_id(manual=True).startswith("manual-")
    assert parse_run_id(new_run_id(manual=True)) is None


def test_host_names_with_dashes_parse() -> None:
    assert parse_run_id("ci-runner-7-1234-abcdef") == ("ci-runner-7", 1234)
    assert parse_run_id("garbage") is None
    assert parse_run_id("host-notapid-abcdef") is None


def test_only_dead_processes_of_this_host_are_dead_runs() -> None:
    host = "thishost"
    dead, alive = 4242, 4343

    def is_alive(pid: int) -> bool:
        return pid == alive

    assert run_is_dead(f"{host}-{dead}-aaaaaa", host=host, alive=is_alive)
    assert not run_is_dead(f"{host}-{alive}-aaaaaa", host=host, alive=is_alive)
    assert not run_is_dead(f"otherhost-{dead}-aaaaaa", host=host, alive=is_alive)
    assert not run_is_dead(f"manual-{host}-{dead}-aaaaaa", host=host, alive=is_alive)
    assert not run_is_dead("not a run id", host=host, alive=is_alive)
    assert not run_is_dead(f"{host}-{os.getpid()}-aaaaaa", host=host, alive=lambda _: False)


def test_real_pids() -> None:
    dead = _dead_pid()
    run = new_run_id()
    assert not run_is_dead(run)
    assert run_is_dead(run.replace(f"-{os.getpid()}-", f"-{dead}-"))
    assert not run_is_dead(run.replace(f"-{os.getpid()}-", "-1-"))  # init: alive


def test_sweep_removes_dead_runs_only(docker_client: Any) -> None:
    live = new_run_id()
    dead = live.replace(f"-{os.getpid()}-", f"-{_dead_pid()}-")
    manual = "manual-" + dead
    made: dict[str, list[Any]] = {}
    try:
        for run in (live, dead, manual):
            labels = {LABEL: "1", LABEL_RUN: run}
            made[run] = [
                docker_client.networks.create(f"harness-test-{run}", labels=labels),
                docker_client.volumes.create(f"harness-test-{run}", labels=labels),
            ]
        report = sweep_dead_runs(docker_client)
        removed = " ".join([*report.networks, *report.volumes])
        assert f"({dead})" in removed
        assert f"({live})" not in removed
        assert f"({manual})" not in removed
        networks = {n.name for n in docker_client.networks.list(filters={"label": LABEL})}
        assert f"harness-test-{dead}" not in networks
        assert {f"harness-test-{live}", f"harness-test-{manual}"} <= networks
    finally:
        sweep_runs(docker_client, [live, dead, manual])
    left = docker_client.volumes.list(filters={"label": f"{LABEL_RUN}={live}"})
    assert not left


def test_sweep_keeps_the_local_image_cache(docker_client: Any) -> None:
    from harness.stacks.images import image_exists, resolve_image

    base = resolve_image("base", client=docker_client)
    if not image_exists(docker_client, base):
        pytest.skip(f"no base image {base}: run make images")
    dead = new_run_id().replace(f"-{os.getpid()}-", f"-{_dead_pid()}-")
    tags = {
        "run": f"harness-test/run-image:{dead}",  # inherits kind=local-image from the base
        "cache": f"harness-test/cache-image:{dead}",
    }
    labels = {
        "run": {LABEL: "1", LABEL_RUN: dead},
        "cache": {LABEL: "1", LABEL_KIND: KIND_LOCAL_IMAGE},
    }
    try:
        for name, tag in tags.items():
            docker_client.images.build(
                fileobj=io.BytesIO(f"FROM {base}\n".encode()),
                tag=tag,
                labels=labels[name],
                rm=True,
                forcerm=True,
            )
        assert docker_client.images.get(tags["run"]).labels[LABEL_KIND] == KIND_LOCAL_IMAGE
        report = sweep_dead_runs(docker_client)
        assert any(tags["run"] in entry for entry in report.images), report
        assert not image_exists(docker_client, tags["run"])
        assert image_exists(docker_client, tags["cache"])
        assert image_exists(docker_client, base)
    finally:
        for tag in tags.values():
            if image_exists(docker_client, tag):
                docker_client.images.remove(tag, force=True)


def test_temp_files_of_dead_runs_are_swept(tmp_path: Path) -> None:
    live = new_run_id()
    dead = live.replace(f"-{os.getpid()}-", f"-{_dead_pid()}-")
    for run in (live, dead):
        lock_path(run, tmp_path).touch()
        (tmp_path / f"harness-stack-{run}-abc_123").mkdir()
    (tmp_path / "harness-stack-unrelated").mkdir()
    removed = sweep_temp_files(tmp_path)
    assert sorted(p.name for p in removed) == sorted(
        [lock_path(dead, tmp_path).name, f"harness-stack-{dead}-abc_123"]
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [lock_path(live, tmp_path).name, f"harness-stack-{live}-abc_123", "harness-stack-unrelated"]
    )


# --- the lock --------------------------------------------------------------------------------


def _hold(cm: Any, events: list[str], name: str, seconds: float) -> threading.Thread:
    def run() -> None:
        with cm:
            events.append(f"{name}+")
            time.sleep(seconds)
            events.append(f"{name}-")

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_shared_holders_overlap_and_exclusive_waits(tmp_path: Path) -> None:
    lock = StackLock(lock_path("unit-run", tmp_path))
    events: list[str] = []
    readers = [_hold(lock.shared(), events, f"r{i}", 0.4) for i in range(2)]
    time.sleep(0.1)
    writer = _hold(lock.exclusive(), events, "w", 0.1)
    for thread in [*readers, writer]:
        thread.join(5)
    assert events[:2] == ["r0+", "r1+"] or events[:2] == ["r1+", "r0+"]  # overlap
    assert events.index("w+") > max(events.index("r0-"), events.index("r1-"))
    lock.remove()
    assert not list(tmp_path.iterdir())


def test_a_waiting_writer_blocks_new_readers(tmp_path: Path) -> None:
    lock = StackLock(lock_path("unit-run", tmp_path))
    events: list[str] = []
    first = _hold(lock.shared(), events, "r1", 0.5)
    time.sleep(0.1)
    writer = _hold(lock.exclusive(), events, "w", 0.2)
    time.sleep(0.1)
    late = _hold(lock.shared(), events, "r2", 0.0)
    for thread in (first, writer, late):
        thread.join(5)
    assert events.index("w-") < events.index("r2+"), events


def test_lock_file_is_keyed_by_run(tmp_path: Path) -> None:
    assert lock_path("a/b c", tmp_path).parent == tmp_path
    assert lock_path("run-1", tmp_path) != lock_path("run-2", tmp_path)


# --- config, CLI and plugin errors -----------------------------------------------------------


def test_image_implies_the_containers_stack(tmp_path: Path) -> None:
    config = load_config(cli={"image": "my/backend:1.2"}, env={}, project_dir=tmp_path)
    assert (config.stack, config.image) == ("containers", "my/backend:1.2")
    config = load_config(env={"HARNESS_IMAGE": "my/backend:2"}, project_dir=tmp_path)
    assert (config.stack, config.image) == ("containers", "my/backend:2")
    assert load_config(cli={"stack": "containers"}, env={}, project_dir=tmp_path).image is None


@pytest.mark.parametrize(
    ("cli", "message"),
    [
        ({"image": "x:1", "stack": "embedded"}, "drop --stack embedded or the image"),
        ({"image": "x:1", "target_url": "http://127.0.0.1:9"}, "drop --target-url"),
        ({"stack": "containers", "target_url": "http://127.0.0.1:9"}, "drop --target-url"),
        ({"image": "x:1", "mutant": "x"}, "--mutant needs the embedded or containers stack"),
    ],
)
def test_containers_conflicts_are_one_line(
    tmp_path: Path, cli: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        load_config(cli=cli, env={}, project_dir=tmp_path)
    assert "\n" not in str(info.value)


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=REPO,
        env=clean_env() | env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    "args",
    [["gate", "--stack", "containers"], ["gate", "--image", "x:1"], ["stack", "up"]],
)
def test_cli_without_docker_is_a_one_line_usage_error(args: list[str]) -> None:
    result = _run("-m", "harness.cli", *args, env=NO_DOCKER)
    assert result.returncode == 2, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("harness: error")]
    assert errors == [
        "harness: error: Docker is not available (cannot connect to "
        "unix:///nonexistent/docker.sock); install docker.io and start dockerd --ip=127.0.0.1"
    ], result.stderr
    assert "Traceback" not in result.stderr


def test_pytest_without_docker_is_a_usage_error(tmp_path: Path) -> None:
    result = _run(
        "-m", "pytest", "suites", "--stack", "containers", "-p", "no:cacheprovider",
        f"--report-dir={tmp_path}", env=NO_DOCKER,
    )  # fmt: skip
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, result.stdout + result.stderr
    assert result.stderr.strip() == (
        "ERROR: Docker is not available (cannot connect to unix:///nonexistent/docker.sock); "
        "install docker.io and start dockerd --ip=127.0.0.1"
    )


# --- the target's description ----------------------------------------------------------------


def _info(**changes: Any) -> StackInfo:
    data: dict[str, Any] = {
        "run_id": "host-1-abcdef",
        "profile": "production",
        "backend_image": "prodready/reference-backend:1.0.0",
        "reference_backend": True,
        "backend_url": "http://127.0.0.1:1001",
        "frontend_url": "https://127.0.0.1:1002",
        "frontend_http_url": "http://127.0.0.1:1003",
        "ca_file": "/tmp/ca.pem",
        "containers": {"database": "d" * 64, "backend": "b" * 64},
        "network": "harness-host-1-abcdef",
        "workdir": "/tmp/w",
        "lock_file": "/tmp/l.lock",
    }
    data.update(changes)
    return StackInfo(**data)


def test_containers_target_json_round_trip() -> None:
    target = ContainersTarget(_info(), ("example.com",))
    copy = ContainersTarget.from_json(target.to_json())
    assert copy.to_json() == target.to_json()
    assert copy.info == target.info
    assert copy.allow_hosts == ("example.com",)
    assert copy.url == "http://127.0.0.1:1001"
    assert copy.service_url("frontend") == "https://127.0.0.1:1002"
    assert copy.service_url("frontend-http") == "http://127.0.0.1:1003"
    assert copy.ca_file == "/tmp/ca.pem"
    with pytest.raises(KeyError, match="no 'prometheus' service"):
        copy.service_url("prometheus")
    expected = {"http", "attack", "control", "redis", "frontend", "containers", "audit-log"}
    expected |= {"users"}  # the reference backend has reference_app.create_admin
    assert {str(cap) for cap in copy.capabilities} == expected
    assert copy.has(Capability.CONTAINERS)
    described = copy.describe()
    assert (described["kind"], described["run_id"]) == ("containers", "host-1-abcdef")
    prometheus = ContainersTarget(_info(prometheus_url="http://127.0.0.1:1004"))
    assert prometheus.service_url("prometheus") == "http://127.0.0.1:1004"


def test_applied_testcontainers_env_are_restored() -> None:
    from testcontainers.core.config import testcontainers_config as config

    before_env = dict(os.environ)
    before = (config.tc_host_override, config.connection_mode_override)
    with applied_testcontainers_env():
        assert os.environ["TESTCONTAINERS_RYUK_DISABLED"] == "true"
        assert config.tc_host_override == "127.0.0.1"
        assert config.ryuk_disabled
    assert dict(os.environ) == before_env
    assert (config.tc_host_override, config.connection_mode_override) == before
