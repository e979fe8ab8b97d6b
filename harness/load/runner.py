"""Runs a scenario with locust in child processes (gevent never enters the caller) and reads
its results from files: locust's HTML report and the recorder's exact statistics."""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from harness.errors import LoadRunError
from harness.load.scenarios import Scenario
from harness.stacks.processes import ManagedProcess, free_port, tail

HERE = Path(__file__).resolve().parent
LOCUSTFILE = HERE / "locustfile.py"
RECORDING = HERE / "recording.py"
SHAPES = HERE / "shapes.py"
WORKERS_WAIT_S = 60
MAX_WINDOWS = 300  # the timeline has at most this many windows, whatever the duration
# after the shape ends: users stop, workers report, the recorder writes its file
GRACE_S = 60.0
LOCUST_MASTER_PORT = 5557

Progress = Callable[[str], None]


@dataclass(frozen=True)
class LoadRun:
    """Files of a finished run."""

    scenario: Scenario
    result_path: Path
    html_path: Path
    log_path: Path
    workers: int
    returncode: int

    def result(self) -> dict[str, object]:
        data: dict[str, object] = json.loads(self.result_path.read_text(encoding="utf-8"))
        return data


def window_s(scenario: Scenario) -> float:
    """Timeline windows: one second, or longer so a long run keeps at most MAX_WINDOWS."""
    return float(max(1, math.ceil(scenario.duration_s / MAX_WINDOWS)))


def locust_env(
    scenario: Scenario, credentials: tuple[str, str] | None, base: Mapping[str, str]
) -> dict[str, str]:
    env = {k: v for k, v in base.items() if not k.startswith("HARNESS_")}
    env["HARNESS_LOAD_SCENARIO"] = scenario.to_json()
    env["PYTHONUNBUFFERED"] = "1"
    if credentials is not None:
        env["HARNESS_LOAD_USERNAME"], env["HARNESS_LOAD_PASSWORD"] = credentials
    return env


def master_argv(
    scenario: Scenario,
    url: str,
    out_dir: Path,
    workers: int,
    master_port: int,
    *,
    bind_host: str = "127.0.0.1",
    locustfile: Path = LOCUSTFILE,
) -> list[str]:
    """The master (or, without workers, the only) locust process; ``workers`` counts every
    worker it waits for, local and remote."""
    argv = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        f"{locustfile},{RECORDING},{SHAPES}",
        "--headless",
        "--host",
        url,
        "--only-summary",
        "--exit-code-on-error",
        "0",
        "--stop-timeout",
        "2",
        "--html",
        str(out_dir / f"load_{scenario.name}.html"),
        "--harness-result",
        str(out_dir / f"load_{scenario.name}.hdr.json"),
        "--harness-user-rps",
        str(scenario.user_rps),
        "--harness-window-s",
        str(window_s(scenario)),
    ]
    if workers > 0:
        argv += [
            "--master",
            "--master-bind-host",
            bind_host,
            "--master-bind-port",
            str(master_port),
            "--expect-workers",
            str(workers),
            "--expect-workers-max-wait",
            str(WORKERS_WAIT_S),
        ]
    return argv


def worker_argv(master_host: str, master_port: int, locustfile: Path = LOCUSTFILE) -> list[str]:
    """A worker process: the same locustfile and the recorder, connected to the master. On
    another host: ``locust -f harness/load/locustfile.py,harness/load/recording.py --worker
    --master-host MASTER``."""
    return [
        sys.executable,
        "-m",
        "locust",
        "-f",
        f"{locustfile},{RECORDING}",
        "--worker",
        "--master-host",
        master_host,
        "--master-port",
        str(master_port),
    ]


def run_scenario(
    scenario: Scenario,
    url: str,
    out_dir: Path,
    *,
    workers: int = 0,
    credentials: tuple[str, str] | None = None,
    progress: Progress | None = None,
    remote_workers: int = 0,
    bind_host: str = "127.0.0.1",
    locustfile: Path = LOCUSTFILE,
) -> LoadRun:
    """Run ``scenario`` against ``url`` with ``workers`` local worker processes (and
    ``remote_workers`` started elsewhere, connecting to ``bind_host``); locust's processes
    are always stopped on return."""
    out_dir.mkdir(parents=True, exist_ok=True)
    result_path = out_dir / f"load_{scenario.name}.hdr.json"
    result_path.unlink(missing_ok=True)
    log_path = out_dir / f"load_{scenario.name}.log"
    log_path.unlink(missing_ok=True)
    env = locust_env(scenario, credentials, os.environ)
    expected = workers + remote_workers
    # remote workers find the master on locust's default port; local ones on any free port
    port = LOCUST_MASTER_PORT if remote_workers else free_port() if expected else 0
    argv = master_argv(
        scenario, url, out_dir, expected, port, bind_host=bind_host, locustfile=locustfile
    )
    master = ManagedProcess("locust", argv, env, log_path, out_dir)
    helpers = [
        ManagedProcess(f"locust worker {n}", worker_argv("127.0.0.1", port), env, log_path, out_dir)
        for n in range(1, workers + 1)
    ]
    say = progress or (lambda _line: None)
    started = time.monotonic()
    deadline = started + scenario.duration_s + GRACE_S + (WORKERS_WAIT_S if expected else 0)
    try:
        master.start()
        for helper in helpers:
            helper.start()
        say(
            f"load: {scenario.name} ({scenario.profile}): {scenario.users} users, "
            f"{scenario.duration_s:g} s, planned {scenario.planned_rps:g} req/s"
            + (f", {workers} workers" if workers else "")
            + (
                f", waiting for {remote_workers} remote workers on {bind_host}:{port}"
                if remote_workers
                else ""
            )
        )
        next_note = started + 10
        while master.poll() is None:
            now = time.monotonic()
            if now > deadline:
                raise LoadRunError(
                    f"locust did not finish {scenario.name} within {deadline - started:.0f} s; "
                    f"its log ({log_path}):\n{tail(log_path)}"
                )
            if now >= next_note:
                say(f"load: {scenario.name}: {now - started:.0f}/{scenario.duration_s:g} s")
                next_note = now + 10
            time.sleep(0.2)
        code = master.poll() or 0
    finally:
        master.stop()
        for helper in helpers:
            helper.stop()
    if not result_path.is_file():
        raise LoadRunError(
            f"locust ended (exit code {code}) without results for {scenario.name}; "
            f"its log ({log_path}):\n{tail(log_path)}"
        )
    return LoadRun(
        scenario=scenario,
        result_path=result_path,
        html_path=out_dir / f"load_{scenario.name}.html",
        log_path=log_path,
        workers=workers,
        returncode=code,
    )
