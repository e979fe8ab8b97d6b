"""Throughput of the reference app with and without its security middleware, side by side.

Two uvicorn processes serve the same app on loopback, one with every security layer and one
with none; a load generator alternates short rounds between them (so both see the same
machine noise) and prints requests/s for each and the ratio.

    .venv/bin/python benchmarks/security_middleware.py [--seconds 5] [--rounds 4] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from fastapi import FastAPI

REPO = Path(__file__).resolve().parents[1]
PATHS = ("/api/v1/formulas?size=10", "/api/v1/formulas?q=law&page=1&size=5", "/health")


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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(factory: str, workdir: Path, name: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    db = workdir / f"{name}.db"
    env = {
        **os.environ,
        "ENVIRONMENT": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": f"sqlite+aiosqlite:///{db}",
        # a limit the benchmark never reaches: the limiter still counts every request
        "SECURITY_RATE_LIMIT_CALLS": str(10**9),
        "PYTHONPATH": str(REPO),
    }
    subprocess.run(
        [sys.executable, "-m", "reference_app", "migrate"],
        env=env,
        check=True,
        cwd=workdir,
        capture_output=True,
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            factory,
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(url + "/health", timeout=1)
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"{name} server did not start")


async def _round(url: str, seconds: float, concurrency: int) -> tuple[int, int]:
    done = errors = 0
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=10) as client:

        async def worker(offset: int) -> None:
            nonlocal done, errors
            index = offset
            while time.monotonic() < deadline:
                response = await client.get(PATHS[index % len(PATHS)])
                index += 1
                done += 1
                errors += response.status_code >= 400

        await asyncio.gather(*(worker(i) for i in range(concurrency)))
    return done, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="length of one round")
    parser.add_argument("--rounds", type=int, default=4, help="rounds per server")
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-security-") as tmp:
        workdir = Path(tmp)
        servers = {
            "with security": _serve("reference_app.app:create_app", workdir, "with"),
            "without security": _serve(
                "benchmarks.security_middleware:app_without_security", workdir, "without"
            ),
        }
        try:
            totals: dict[str, list[float]] = {name: [0, 0, 0.0] for name in servers}
            for _ in range(args.rounds):
                for name, (_, url) in servers.items():
                    began = time.monotonic()
                    done, errors = asyncio.run(_round(url, args.seconds, args.concurrency))
                    totals[name][0] += done
                    totals[name][1] += errors
                    totals[name][2] += time.monotonic() - began
        finally:
            for proc, _ in servers.values():
                proc.terminate()
                proc.wait(timeout=10)
    rates = {name: count / elapsed for name, (count, _, elapsed) in totals.items()}
    for name, (count, failed, elapsed) in totals.items():
        print(
            f"{name:<17} {rates[name]:8.1f} req/s  ({count:.0f} requests, {failed:.0f} errors, "
            f"{elapsed:.1f} s)"
        )
    ratio = rates["with security"] / rates["without security"]
    print(f"ratio with/without security middleware: {ratio:.3f}")


if __name__ == "__main__":
    main()
