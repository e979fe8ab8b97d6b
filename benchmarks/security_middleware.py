"""Throughput of the reference app with and without its security middleware, side by side.

Two uvicorn processes serve the same app on loopback, one with every security layer and one
with none, each with the same seeded formulas. For every endpoint (``/health``, a list page,
a search) wrk drives one server then the other, in alternating order round by round (A/B,
B/A, ...) so both see the same machine noise; the line per endpoint gives the median req/s
of each, the median of the per-round ratios and their spread (lowest-highest), and the
servers' CPU microseconds per request (threads included), whose ratio other load on a shared
machine moves much less than it moves req/s. The load generator's address is exempt from
the rate limit (``SECURITY_RATE_LIMIT_EXEMPT``), as a deployment exempts its own
monitoring; ``--limiter count`` counts it against a budget it never exhausts instead.
Which layer costs what: ``benchmarks/security_layers.py``.

    .venv/bin/python benchmarks/security_middleware.py [--seconds 5] [--rounds 4]
        [--connections 32] [--generator auto|wrk|locust] [--limiter exempt|count]

wrk comes from the Debian package ``wrk``; without it the benchmark says how to install it
and falls back to locust (``FastHttpUser`` in ``--processes`` processes).
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
from fastapi import FastAPI

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script, benchmarks/ is on the path but not the repo
    sys.path.insert(0, str(REPO))

from benchmarks.http_load import (  # noqa: E402
    GENERATORS,
    Generator,
    LoadError,
    Run,
    choose,
    measure,
)

ENDPOINTS = (
    ("health", "/health"),
    ("list", "/api/v1/formulas?page=2&size=20"),
    ("search", "/api/v1/formulas?q=law&page=1&size=10"),
)
FACTORIES = {
    "with": "reference_app.app:create_app",
    "without": "benchmarks.security_middleware:app_without_security",
}
SEED_FORMULAS = 60
GENERATOR_ADDRESS = "127.0.0.1/32"


def app_without_security() -> FastAPI:
    """The reference app with the security layers taken out again (uvicorn factory)."""
    from reference_app.app import create_app

    app = create_app()
    app.user_middleware = [
        entry
        for entry in app.user_middleware
        if not getattr(entry.cls, "__module__", "").startswith("reference_app.core.middleware")
        and "CORSMiddleware" not in getattr(entry.cls, "__name__", "")
    ]
    return app


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="length of one run")
    parser.add_argument("--rounds", type=int, default=4, help="runs per server and endpoint")
    parser.add_argument("--connections", type=int, default=32, help="concurrent connections")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--processes", type=int, default=2, help="locust processes")
    parser.add_argument("--generator", choices=GENERATORS, default="auto")
    parser.add_argument(
        "--limiter",
        choices=("exempt", "count"),
        default="exempt",
        help="exempt the generator from the rate limit, or count it against a huge budget",
    )
    parser.add_argument(
        "--together",
        action="store_true",
        help="drive both servers at the same time instead of one after the other",
    )
    args = parser.parse_args(argv)
    for name in ("seconds", "rounds", "connections", "threads", "processes"):
        if getattr(args, name) <= 0:
            parser.error(f"--{name} must be positive")
    return args


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(workdir: Path, name: str, limiter: str) -> dict[str, str]:
    env = {
        **os.environ,
        "ENVIRONMENT": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": f"sqlite+aiosqlite:///{workdir / name}.db",
        "PYTHONPATH": str(REPO),
    }
    if limiter == "exempt":
        env["SECURITY_RATE_LIMIT_EXEMPT"] = GENERATOR_ADDRESS
    else:  # every request is counted, against a budget the benchmark never reaches
        env["SECURITY_RATE_LIMIT_CALLS"] = str(10**9)
    return env


def _last_line(log: Path) -> str:
    lines = log.read_text(errors="replace").strip().splitlines()
    return lines[-1] if lines else "no output"


def _serve(
    factory: str, workdir: Path, name: str, limiter: str
) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = server_env(workdir, name, limiter)
    migrate = [sys.executable, "-m", "reference_app", "migrate"]
    done = subprocess.run(
        migrate, env=env, cwd=workdir, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"migrating the {name} database failed: {done.stderr.strip()[-300:]}")
    argv = [sys.executable, "-m", "uvicorn", "--factory", factory, "--port", str(port)]
    argv += ["--log-level", "warning", "--no-access-log"]
    log = workdir / f"{name}.log"  # the audit log's lines too: written, as in production
    with log.open("wb") as stderr:
        proc = subprocess.Popen(argv, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=stderr)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            httpx.get(url + "/health", timeout=1)
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    proc.wait()
    raise SystemExit(f"the {name} server did not start: {_last_line(log)}")


def seed(url: str) -> None:
    """The same formulas on both servers, a third of them found by the search."""
    with httpx.Client(base_url=url, timeout=10) as client:
        for n in range(SEED_FORMULAS):
            described = "Ohm's law of resistance" if n % 3 == 0 else "a plain product"
            body = {"name": f"formula {n}", "expression": f"a * b + {n}", "description": described}
            response = client.post("/api/v1/formulas", json=body)
            if response.status_code != 201:
                raise SystemExit(f"seeding {url} failed: {response.status_code} {response.text}")


@dataclass(frozen=True)
class Server:
    """A running server: its address and its process, whose CPU time each run reads."""

    url: str
    process: psutil.Process

    def cpu_s(self) -> float:
        times = self.process.cpu_times()
        return float(times.user + times.system)


# one run: the generator's view and the server's CPU microseconds per request
Measured = tuple[Run, float]


def measured(generator: Generator, server: Server, path: str, seconds: int) -> Measured:
    before = server.cpu_s()
    run = measure(generator, server.url + path, seconds)
    return run, (server.cpu_s() - before) / max(1, run.requests) * 1e6


def run_rounds(
    generator: Generator, servers: dict[str, Server], args: argparse.Namespace
) -> dict[str, dict[str, list[Measured]]]:
    """Per endpoint and server, one run per round: the order of the servers alternates, or
    with ``--together`` both are driven at once (the kernel interleaves them finely)."""
    runs: dict[str, dict[str, list[Measured]]] = {e: {s: [] for s in servers} for e, _ in ENDPOINTS}
    names = list(servers)
    for _, path in ENDPOINTS:  # warm-up: imports, caches, the database's pages
        for server in servers.values():
            measure(generator, server.url + path, 1)
    for n in range(args.rounds):
        for endpoint, path in ENDPOINTS:
            if args.together:
                with ThreadPoolExecutor(len(names)) as pool:
                    started = {
                        name: pool.submit(measured, generator, servers[name], path, args.seconds)
                        for name in names
                    }
                    for name, future in started.items():
                        runs[endpoint][name].append(future.result())
                continue
            for name in names if n % 2 == 0 else reversed(names):
                runs[endpoint][name].append(measured(generator, servers[name], path, args.seconds))
    return runs


def report(runs: dict[str, dict[str, list[Measured]]]) -> list[str]:
    """One line per endpoint: median req/s of each server, the ratio, its spread, CPU cost."""
    lines = [
        f"{'endpoint':<8} {'with req/s':>11} {'without req/s':>14} {'ratio':>6}  "
        f"{'spread':<11}  {'CPU us/request with/without':<27}"
    ]
    for endpoint, path in ENDPOINTS:
        with_runs, without_runs = runs[endpoint]["with"], runs[endpoint]["without"]
        ratios = [a.rate / b.rate for (a, _), (b, _) in zip(with_runs, without_runs, strict=True)]
        errors = sum(run.errors for run, _ in [*with_runs, *without_runs])
        cpu_with = statistics.median(cpu for _, cpu in with_runs)
        cpu_without = statistics.median(cpu for _, cpu in without_runs)
        line = (
            f"{endpoint:<8} {statistics.median(run.rate for run, _ in with_runs):11.1f} "
            f"{statistics.median(run.rate for run, _ in without_runs):14.1f} "
            f"{statistics.median(ratios):6.3f}  {min(ratios):.3f}-{max(ratios):.3f}  "
            f"{cpu_with:7.0f} / {cpu_without:<7.0f} = {cpu_without / cpu_with:.3f}  {path}"
        )
        if errors:
            line += f"  !! {errors} failed requests: the ratio is not valid"
        lines.append(line)
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        generator, note = choose(args.generator, args.connections, args.threads, args.processes)
    except LoadError as exc:
        print(exc, file=sys.stderr)
        return 2
    if note:
        print(note, file=sys.stderr)
    print(
        f"generator {generator.name}, {args.connections} connections, {args.rounds} rounds of "
        f"{args.seconds} s per server and endpoint, rate limit: generator {args.limiter}"
    )
    with tempfile.TemporaryDirectory(prefix="bench-security-") as tmp:
        workdir = Path(tmp)
        servers: dict[str, tuple[subprocess.Popen[bytes], str]] = {}
        try:
            for name, factory in FACTORIES.items():
                servers[name] = _serve(factory, workdir, name, args.limiter)
            running = {
                name: Server(url, psutil.Process(proc.pid)) for name, (proc, url) in servers.items()
            }
            for server in running.values():
                seed(server.url)
            runs = run_rounds(generator, running, args)
        except LoadError as exc:
            print(f"load generator failed: {exc}", file=sys.stderr)
            return 1
        finally:
            for proc, _ in servers.values():
                proc.terminate()
                proc.wait(timeout=10)
    for line in report(runs):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
