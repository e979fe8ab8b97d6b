"""Fixtures for the reference app's tests: a migrated SQLite file per test, real local servers."""

from __future__ import annotations

import http.server
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from reference_app.app import create_app
from reference_app.core.config import Settings
from reference_app.core.migrate import upgrade_to_head
from tests.conftest import loopback_servers

# Variables the app reads; a developer's shell must not leak them into a test.
APP_ENV_VARS = (
    "ENVIRONMENT",
    "DATABASE_URL",
    "REDIS_URL",
    "MLFLOW_TRACKING_URI",
    "SECRET_KEY",
    "LOG_LEVEL",
    "DB_POOL_SIZE",
    "HEALTH_PROBE_TIMEOUT_S",
    "REFERENCE_APP_MUTANT",
    "ADMIN_PASSWORD",
    "LOGIN_MAX_ATTEMPTS",
    "LOCKOUT_SECONDS",
    "PASSWORD_MIN_LENGTH",
    "PASSWORD_MIN_CLASSES",
    "ADMIN_2FA_REQUIRED",
    "DEBUG",
    "UPLOAD_MAX_BYTES",
    "UPLOAD_DIR",
    "SECURITY_CORS_ORIGINS",
)
STRONG_SECRET = "kB3tq9Zr_hL2wYp0Vn8sE4dFgJ6mCx1A-u7Ti5Ro"


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in APP_ENV_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def free_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "formulas.db"


@pytest.fixture
def db_url(db_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{db_path}"
    upgrade_to_head(url)
    return url


@pytest.fixture
def make_settings(db_url: str) -> Callable[..., Settings]:
    """Settings for the migrated test database; keyword arguments override fields."""

    def make(**overrides: Any) -> Settings:
        fields: dict[str, Any] = {"environment": "test", "database_url": db_url}
        fields.update(overrides)
        return Settings(**fields)

    return make


Serve = Callable[[FastAPI], Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Open in-process clients on apps, running their lifespan; all closed after the test."""
    async with AsyncExitStack() as stack:

        async def open_client(app: FastAPI) -> httpx.AsyncClient:
            # The lifespan's exit disposes the engine, as uvicorn's shutdown would.
            await stack.enter_async_context(app.router.lifespan_context(app))
            # raise_app_exceptions=False: see the 500 a server would send, as a client does.
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
            return await stack.enter_async_context(client)

        yield open_client


@pytest.fixture
async def client(make_settings: Callable[..., Settings], serve: Serve) -> httpx.AsyncClient:
    return await serve(create_app(make_settings()))


class _HealthHandler(http.server.BaseHTTPRequestHandler):
    """Answers GET /health like MLflow's tracking server, after an optional delay."""

    delay_s = 0.0
    status = 200

    def do_GET(self) -> None:
        time.sleep(self.delay_s)
        body = b"OK" if self.path == "/health" else b"not found"
        self.send_response(self.status if self.path == "/health" else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def http_health_server() -> Iterator[Callable[..., str]]:
    """Start real HTTP servers with a /health endpoint; returns their base URLs."""
    with loopback_servers() as serve:

        def start(status: int = 200, delay_s: float = 0.0) -> str:
            attrs = {"status": status, "delay_s": delay_s}
            return serve(type("Handler", (_HealthHandler,), attrs))

        yield start


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A throwaway redis-server on a free loopback port; skipped where none is installed."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail("redis-server did not start")
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)
