"""The reference app as local child processes: uvicorn on a free loopback port (+ Redis)."""

from __future__ import annotations

import atexit
import os
import secrets
import shutil
import socket
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx

from harness.errors import TargetStartError
from harness.targets.base import Capability, Target
from harness.targets.processes import ManagedProcess, free_port

HOST = "127.0.0.1"
START_TIMEOUT_S = 60.0


def _http_answers(url: str) -> bool:
    try:
        httpx.get(url, timeout=1.0)
    except httpx.HTTPError:
        return False
    return True


def _redis_pings(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class EmbeddedTarget(Target):
    """Starts the reference app (and a real redis-server when installed); offers control."""

    kind = "embedded"

    def __init__(
        self,
        profile: str = "production",
        mutant: str | None = None,
        allow_hosts: tuple[str, ...] = (),
        use_redis: bool | None = None,
    ) -> None:
        self.profile = profile
        self.mutant = mutant
        self.workdir = Path(tempfile.mkdtemp(prefix="harness-embedded-"))
        self.db_path = self.workdir / "formulas.db"
        self.redis_binary = shutil.which("redis-server") if use_redis is not False else None
        if use_redis and not self.redis_binary:
            raise TargetStartError("redis-server is not installed; apt-get install redis-server")
        self.app_port = free_port()
        self.redis_port = free_port() if self.redis_binary else None
        super().__init__(f"http://{HOST}:{self.app_port}", allow_hosts)
        self._redis: ManagedProcess | None = None
        self._app: ManagedProcess | None = None
        self._stopped: set[str] = set()
        atexit.register(self.close)

    # --- life cycle ---
    def start_all(self) -> EmbeddedTarget:
        try:
            if self.redis_binary:
                self._start_redis()
            self._start_app()
        except BaseException:
            self.close()
            raise
        return self

    def _start_redis(self) -> None:
        assert self.redis_binary is not None and self.redis_port is not None
        self._redis = ManagedProcess(
            "redis-server",
            [self.redis_binary, "--port", str(self.redis_port), "--bind", HOST,
             "--save", "", "--appendonly", "no", "--dir", str(self.workdir)],
            os.environ,
            self.workdir / "redis.log",
            self.workdir,
        )
        self._redis.start()
        port = self.redis_port
        self._redis.wait_ready(lambda: _redis_pings(port), START_TIMEOUT_S)

    def app_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HARNESS_")}
        env.update(
            ENVIRONMENT=self.profile,
            DATABASE_URL=f"sqlite+aiosqlite:///{self.db_path}",
            SECRET_KEY=secrets.token_urlsafe(48),
            REFERENCE_APP_MUTANT=self.mutant or "",
            PYTHONUNBUFFERED="1",
        )
        env.pop("REDIS_URL", None)
        env.pop("MLFLOW_TRACKING_URI", None)
        if self.redis_port is not None:
            env["REDIS_URL"] = f"redis://{HOST}:{self.redis_port}/0"
        return env

    def _start_app(self) -> None:
        self._app = ManagedProcess(
            "embedded reference app",
            [sys.executable, "-m", "reference_app", "serve", "--host", HOST,
             "--port", str(self.app_port), "--log-level", "warning"],
            self.app_env(),
            self.workdir / "app.log",
            self.workdir,
        )
        self._app.start()
        health = self.url + "/health"
        self._app.wait_ready(lambda: _http_answers(health), START_TIMEOUT_S)

    def close(self) -> None:
        for proc in (self._app, self._redis):
            if proc is not None:
                proc.stop()
        self._app = self._redis = None
        shutil.rmtree(self.workdir, ignore_errors=True)
        atexit.unregister(self.close)

    # --- capabilities and control ---
    @property
    def capabilities(self) -> frozenset[Capability]:
        caps = set(super().capabilities) | {Capability.CONTROL}
        if self.redis_port is not None:
            caps.add(Capability.REDIS)
        return frozenset(caps)

    def stop(self, service: str) -> None:
        if service == "database":
            # an unreadable database file: new connections fail as on a real outage
            self.db_path.rename(self.db_path.with_suffix(".db.stopped"))
            self.db_path.mkdir()
        elif service == "redis" and self._redis is not None:
            self._redis.stop()
        else:
            raise KeyError(f"the embedded target cannot stop {service!r}")
        self._stopped.add(service)

    def start(self, service: str) -> None:
        if service not in self._stopped:
            return
        if service == "database":
            self.db_path.rmdir()
            self.db_path.with_suffix(".db.stopped").rename(self.db_path)
        elif service == "redis":
            self._start_redis()
        self._stopped.discard(service)

    def describe(self) -> dict[str, Any]:
        info = super().describe()
        info.update(profile=self.profile, mutant=self.mutant, redis=self.redis_port is not None)
        return info
