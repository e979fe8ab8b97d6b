"""Closed-loop HTTP load generators for the benchmarks: wrk, or locust in several processes.

wrk (C, event loop) drives a single-process Python server far past what the server can
answer, so the server is the bottleneck being measured. When wrk is missing, locust's
FastHttpUser in ``--processes`` workers is the fallback: slower per request than wrk, so
it needs more CPU to saturate the server, but several processes keep it from being the
bottleneck the way a single Python client is.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

WRK_MISSING = (
    "wrk not found: install it with `apt-get install wrk` (Debian/Ubuntu) or `brew install wrk`"
    ", or pass --generator locust"
)
GENERATORS = ("auto", "wrk", "locust")

LOCUSTFILE = """\
import os

from locust import FastHttpUser, constant, task

PATH = os.environ["BENCH_PATH"]


class Client(FastHttpUser):
    wait_time = constant(0)

    @task
    def get(self):
        self.client.get(PATH, name="bench")
"""


class LoadError(Exception):
    """The generator could not run or its output could not be read; the message says why."""


@dataclass(frozen=True)
class Run:
    """One measurement: requests answered per second and how many were not 2xx/3xx."""

    rate: float
    requests: int
    errors: int


@dataclass(frozen=True)
class Generator:
    """Which tool drives the load and how hard (connections = concurrent clients)."""

    name: str
    connections: int
    threads: int = 1
    processes: int = 2


def choose(requested: str, connections: int, threads: int, processes: int) -> tuple[Generator, str]:
    """The generator to use and a one-line note about the choice ("" when nothing to say)."""
    if requested not in GENERATORS:
        raise LoadError(f"unknown generator {requested!r}: choose one of {', '.join(GENERATORS)}")
    has_wrk = shutil.which("wrk") is not None
    if requested == "wrk" and not has_wrk:
        raise LoadError(WRK_MISSING)
    if requested == "locust" or not has_wrk:
        note = "" if requested == "locust" else f"{WRK_MISSING}; using locust meanwhile"
        return Generator("locust", connections, threads, processes), note
    return Generator("wrk", connections, threads, processes), ""


def parse_wrk(output: str) -> Run:
    """Requests/s, total requests and non-2xx/3xx answers plus socket errors from wrk's summary."""
    rate = re.search(r"^Requests/sec:\s+([0-9.]+)", output, re.MULTILINE)
    total = re.search(r"^\s*(\d+) requests in ", output, re.MULTILINE)
    if rate is None or total is None:
        raise LoadError("wrk printed no summary: " + " | ".join(output.strip().splitlines()[-3:]))
    errors = 0
    status = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    if status is not None:
        errors += int(status.group(1))
    sockets = re.search(r"Socket errors: (.*)", output)
    if sockets is not None:
        # connect/read/write/timeout counts; a read error is a closed keep-alive, not a failure
        counts = dict(re.findall(r"(\w+) (\d+)", sockets.group(1)))
        errors += sum(int(counts.get(kind, 0)) for kind in ("connect", "write", "timeout"))
    return Run(float(rate.group(1)), int(total.group(1)), errors)


def _wrk(generator: Generator, url: str, seconds: int) -> Run:
    argv = ["wrk", "-t", str(generator.threads), "-c", str(generator.connections)]
    argv += ["-d", f"{seconds}s", "--timeout", "10s", url]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=False)
    if done.returncode != 0:
        raise LoadError(f"wrk exited {done.returncode}: {done.stderr.strip() or done.stdout}")
    return parse_wrk(done.stdout)


def _last_document(output: str) -> object:
    # with --processes every worker prints its own (empty) list before the master's
    decoder = json.JSONDecoder()
    text, index, document = output.strip(), 0, None
    while index < len(text):
        document, index = decoder.raw_decode(text, index)
        while index < len(text) and text[index].isspace():
            index += 1
    return document


def parse_locust(output: str) -> Run:
    """The rate over the time from the first to the last request of locust's ``--json``."""
    try:
        entries: Any = _last_document(output)
        if not entries:
            raise LoadError("locust sent no requests")
        requests = sum(int(entry["num_requests"]) for entry in entries)
        failures = sum(int(entry["num_failures"]) for entry in entries)
        start = min(float(entry["start_time"]) for entry in entries)
        last = max(float(entry["last_request_timestamp"]) for entry in entries)
    except (ValueError, KeyError, TypeError) as exc:
        raise LoadError(f"unreadable locust --json output ({exc})") from None
    if requests == 0 or last <= start:
        raise LoadError("locust sent no requests")
    return Run(requests / (last - start), requests, failures)


def _locust(generator: Generator, url: str, seconds: int) -> Run:
    base, _, path = url.partition("://")
    host, slash, rest = path.partition("/")
    with tempfile.TemporaryDirectory(prefix="bench-locust-") as tmp:
        locustfile = Path(tmp) / "locustfile.py"
        locustfile.write_text(LOCUSTFILE)
        argv = [sys.executable, "-m", "locust", "-f", str(locustfile), "--headless"]
        argv += ["--host", f"{base}://{host}", "--processes", str(generator.processes)]
        argv += ["--users", str(generator.connections), "--spawn-rate", "10000"]
        argv += ["--run-time", f"{seconds}s", "--stop-timeout", "2"]
        argv += ["--only-summary", "--json", "--skip-log", "--exit-code-on-error", "0"]
        env = {**os.environ, "BENCH_PATH": slash + rest}
        done = subprocess.run(
            argv,
            cwd=tmp,
            env=env,
            capture_output=True,
            text=True,
            timeout=seconds + 90,
            check=False,
        )
    if done.returncode != 0:
        raise LoadError(f"locust exited {done.returncode}: {done.stderr.strip()[-300:]}")
    return parse_locust(done.stdout)


def measure(generator: Generator, url: str, seconds: int) -> Run:
    """Drive ``url`` (one GET, repeated) for ``seconds`` with every connection busy."""
    if generator.name == "wrk":
        return _wrk(generator, url, seconds)
    return _locust(generator, url, seconds)
