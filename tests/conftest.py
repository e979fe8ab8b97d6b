"""Shared fixtures of the harness's own tests."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.stacks.processes import free_port

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parent.parent
SUITES = REPO / "suites"
HARNESS = [sys.executable, "-m", "harness.cli"]
MATRIX_SCHEMA = REPO / "fixtures" / "schemas" / "matrix.schema.json"


@dataclass
class SuiteRun:
    """One run of the compliance suites in a child pytest, and the matrix it wrote."""

    returncode: int
    output: str
    matrix: dict[str, Any] | None

    def verdict(self, requirement_id: str) -> str:
        assert self.matrix is not None, f"no matrix was written:\n{self.output}"
        for entry in self.matrix["requirements"]:
            if entry["id"] == requirement_id:
                return str(entry["verdict"])
        raise KeyError(requirement_id)

    def entry(self, requirement_id: str) -> dict[str, Any]:
        assert self.matrix is not None, f"no matrix was written:\n{self.output}"
        return next(e for e in self.matrix["requirements"] if e["id"] == requirement_id)


# machine settings, not run settings: which images to use, whether Docker must be there
_KEPT = ("HARNESS_IMAGE_", "HARNESS_REQUIRE_DOCKER")


def interruptible() -> None:
    """preexec_fn for a child the test will Ctrl-C: a shell that starts jobs in the background
    (as CI runners may) leaves SIGINT ignored, and Python then never raises KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


# the load scenarios at a third of the spec's rate per user (and the throughput target scaled
# with it, so that it is still judged) wherever a test runs the whole gate beside other tests: a
# generator starved on a shared 2-CPU machine would fail the saturation rule for reasons of the
# machine, not of the app; the latency targets stay the spec's
LIGHT_LOAD = ("--param=load_user_rps=1", "--param=min_throughput_rps=40")


def clean_env() -> dict[str, str]:
    """The environment minus the HARNESS_* run settings a developer may have exported."""
    return {
        k: v for k, v in os.environ.items() if not k.startswith("HARNESS_") or k.startswith(_KEPT)
    }


def suite_runner(workdir: Path) -> Callable[..., SuiteRun]:
    """Run ``pytest suites ...`` in a subprocess with its reports under ``workdir``."""

    def run(*args: str, timeout: float = 300) -> SuiteRun:
        report_dir = workdir / "reports"
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                str(SUITES),
                "-p",
                "no:cacheprovider",
                f"--report-dir={report_dir}",
                "-q",
                *args,
            ],
            cwd=REPO,
            env=clean_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        matrix_path = report_dir / "matrix.json"
        matrix = json.loads(matrix_path.read_text()) if matrix_path.is_file() else None
        return SuiteRun(proc.returncode, proc.stdout + proc.stderr, matrix)

    return run


@pytest.fixture
def run_suites(tmp_path: Path) -> Callable[..., SuiteRun]:
    return suite_runner(tmp_path)


def harness(*args: str, cwd: Path, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """The ``harness`` command as a user runs it, in a clean environment. The timeout guards
    against a hang only: a whole gate takes ~4 min here, more beside other tests on 2 cores."""
    return subprocess.run(
        [*HARNESS, *args],
        cwd=cwd,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def production_env(workdir: Path, **extra: str) -> dict[str, str]:
    """The reference app's environment for production, its database a file in ``workdir``."""
    return clean_env() | {
        "DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'formulas.db'}",
        "ENVIRONMENT": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        **extra,
    }


@contextmanager
def loopback_servers() -> Iterator[Callable[[type[BaseHTTPRequestHandler]], str]]:
    """Start threaded HTTP servers of given handlers on free loopback ports (stand-ins of a
    peer the code under test talks to); each is shut down on exit. Yields ``start(handler)``,
    which returns the server's base URL."""
    servers: list[ThreadingHTTPServer] = []

    def start(handler: type[BaseHTTPRequestHandler]) -> str:
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    try:
        yield start
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


@contextmanager
def served_app(workdir: Path, env: Mapping[str, str]) -> Iterator[str]:
    """``python -m reference_app serve`` on a free loopback port, started separately as a
    user's deployment is; yields its URL once /health answers, and always stops it."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "reference_app", "serve", "--port", str(port)],
        cwd=workdir,
        env=dict(env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{url}/health", timeout=1)
                break
            except httpx.HTTPError:
                assert server.poll() is None, "the reference app exited at start"
                assert time.monotonic() < deadline, "the reference app did not answer in 60 s"
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)
