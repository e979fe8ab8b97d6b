"""Helpers of the container-stack tests: image checks, run-label bookkeeping, subprocesses."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from harness.stacks.docker_env import LABEL, LABEL_RUN
from harness.stacks.sweep import parse_run_id
from tests.conftest import REPO, clean_env
from tests.stacks.conftest import require_image

STACK_ROLES = ("postgres", "redis", "backend", "frontend")


# the deploy drills' requirements (suites/test_deploy.py)
DRILL_IDS = (
    "DEP-DEPLOY-RUN",
    "DEP-DEPLOY-BACKUP",
    "DEP-DEPLOY-HEALTH",
    "DEP-DEPLOY-ROLLBACK",
    "DEP-DEPLOY-MIGRATIONS",
    "DEP-DEPLOY-CLEANUP",
    "OPS-BACKUP-CONFIG",
    "DEP-DEPLOY-ENVIRONMENT",
    "DEP-CREATE-ADMIN",  # the Quick Start's, suites/test_quickstart.py
)


def require_stack_images(client: Any) -> dict[str, str]:
    """The images the stack would use; skip (fail under HARNESS_REQUIRE_DOCKER) if missing."""
    return {role: require_image(client, role) for role in STACK_ROLES}


def resources_of_run(client: Any, run_id: str) -> list[str]:
    """Every container, network and volume carrying the run's label."""
    selector = {"label": [f"{LABEL_RUN}={run_id}"]}
    found = [f"container {c.name}" for c in client.containers.list(all=True, filters=selector)]
    found += [f"network {n.name}" for n in client.networks.list(filters=selector)]
    found += [f"volume {v.name}" for v in client.volumes.list(filters=selector)]
    return found


def runs_of_pid(client: Any, pid: int, *, containers_only: bool = False) -> set[str]:
    """Run ids (of any labelled container, network or volume) made by process ``pid``."""
    selector = {"label": [LABEL]}
    objects: list[Any] = list(
        client.containers.list(all=True, filters=selector, ignore_removed=True)
    )
    if not containers_only:
        objects += [*client.networks.list(filters=selector), *client.volumes.list(filters=selector)]
    runs = set()
    for obj in objects:
        attrs = obj.attrs
        labels = attrs.get("Labels") or attrs.get("Config", {}).get("Labels") or {}
        run = labels.get(LABEL_RUN)
        parsed = parse_run_id(run) if run else None
        if run and parsed is not None and parsed[1] == pid:
            runs.add(run)
    return runs


def stack_env() -> dict[str, str]:
    """`clean_env()` but with the image choices (HARNESS_IMAGE_<ROLE>) the checks above saw."""
    images = {k: v for k, v in os.environ.items() if k.startswith("HARNESS_IMAGE_")}
    return clean_env() | images


def harness_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "harness.cli", *args]


def run(
    argv: list[str], *, env: dict[str, str] | None = None, cwd: Path = REPO, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        cwd=cwd,
        env=stack_env() | (env or {}),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def matrix(report_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((report_dir / "matrix.json").read_text())
    return data


def health_components(entry: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``components`` of every /health body in a requirement's evidence."""
    found = []
    for item in entry["evidence"]:
        if item.get("kind") == "http" and item["request"].endswith("/health"):
            try:
                body = json.loads(item["body"])
            except ValueError:
                continue
            if isinstance(body, dict) and isinstance(body.get("components"), dict):
                found.append(body["components"])
    return found


class LineReader:
    """Reads a child's stdout in a thread, so a test can wait for one line."""

    def __init__(self, stream: Any) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self._thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self._thread.start()

    def _pump(self, stream: Any) -> None:
        for line in stream:
            self.lines.put(line)

    def wait_for(self, prefix: str, timeout: float) -> str | None:
        try:
            while True:
                line = self.lines.get(timeout=timeout)
                self.seen.append(line)
                if line.startswith(prefix):
                    return line
        except queue.Empty:
            return None

    def rest(self) -> str:
        self._thread.join(10)
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return "".join(self.seen)


@contextmanager
def killed_at_exit(proc: subprocess.Popen[str]) -> Iterator[subprocess.Popen[str]]:
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
