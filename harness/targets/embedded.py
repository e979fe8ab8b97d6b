"""The reference app as local child processes: uvicorn on a free loopback port, plus a real
redis-server and an nginx frontend when those are installed."""

from __future__ import annotations

import atexit
import os
import secrets
import shutil
import socket
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from harness.errors import HarnessError, TargetStartError
from harness.stacks.identity import identity_env, identity_facts
from harness.stacks.processes import ManagedProcess, free_port
from harness.stacks.ratelimit import rate_limit_env, rate_limit_facts
from harness.targets.base import Capability, Target
from harness.targets.deployment import (
    DEFAULT_SETTINGS,
    check_settings,
    create_admin,
    create_user,
    read_audit_log,
    settings_env,
)

HOST = "127.0.0.1"
START_TIMEOUT_S = 60.0
# as in production, several uvicorn workers: the load scenarios measure a deployment, not one
# process (one worker serves about 250 of the endurance scenario's 300 planned req/s on two
# cores), and the app's metrics must add up across processes
APP_WORKERS = 2


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


def _tls_material(prefix: Path) -> tuple[Path, Path]:
    from harness.stacks.services import tls_material

    return tls_material(prefix)


def _find_nginx() -> str | None:
    # Debian installs it in /usr/sbin, which is not on every user's PATH
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


class EmbeddedTarget(Target):
    """Starts the reference app (and a real redis-server when installed); offers control."""

    kind = "embedded"
    sees_client_address = True

    def __init__(
        self,
        profile: str = "production",
        mutant: str | None = None,
        allow_hosts: tuple[str, ...] = (),
        use_redis: bool | None = None,
        use_frontend: bool | None = None,
        *,
        settings: Mapping[str, Any] | None = None,
    ) -> None:
        self.profile = profile
        check_settings(settings or {})  # deny/allow lists, trusted proxies (deployment.py)
        self.settings = {**DEFAULT_SETTINGS, **(settings or {})}
        self.mutant = mutant
        self.workdir = Path(tempfile.mkdtemp(prefix="harness-embedded-"))
        self.db_path = self.workdir / "formulas.db"
        self.redis_binary = shutil.which("redis-server") if use_redis is not False else None
        if use_redis and not self.redis_binary:
            raise TargetStartError("redis-server is not installed; apt-get install redis-server")
        self.nginx_binary = _find_nginx() if use_frontend is not False else None
        if use_frontend and not self.nginx_binary:
            raise TargetStartError("nginx is not installed; apt-get install nginx")
        self.app_port = free_port()
        self.redis_port = free_port() if self.redis_binary else None
        self.frontend_port = free_port() if self.nginx_binary else None
        # nginx also terminates TLS (a throwaway trustme CA), as the frontend image does
        self.frontend_tls_port = free_port() if self.nginx_binary else None
        self.ca_file: str | None = None
        super().__init__(f"http://{HOST}:{self.app_port}", allow_hosts)
        self._redis: ManagedProcess | None = None
        self._app: ManagedProcess | None = None
        self._replica: ManagedProcess | None = None  # a second app on the same Redis
        self._replica_url = ""
        self._frontend: ManagedProcess | None = None
        self._stopped: set[str] = set()
        atexit.register(self.close)

    # --- life cycle ---
    def start_all(self) -> EmbeddedTarget:
        try:
            if self.redis_binary:
                self._start_redis()
            self._start_app()
            if self.nginx_binary:
                self._start_frontend()
        except BaseException:
            self.close()
            raise
        return self

    def _start_redis(self) -> None:
        assert self.redis_binary is not None
        assert self.redis_port is not None
        self._redis = ManagedProcess(
            "redis-server",
            [
                self.redis_binary,
                "--port",
                str(self.redis_port),
                "--bind",
                HOST,
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            os.environ,
            self.workdir / "redis.log",
            self.workdir,
        )
        self._redis.start()
        port = self.redis_port
        self._redis.wait_ready(lambda: _redis_pings(port), START_TIMEOUT_S)

    def app_env(self) -> dict[str, str]:
        # a metrics directory exported by the user would be shared by the app and its replica:
        # each process makes its own (the app's `serve` command does)
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("HARNESS_") and k != "PROMETHEUS_MULTIPROC_DIR"
        }
        env.update(
            ENVIRONMENT=self.profile,
            DATABASE_URL=f"sqlite+aiosqlite:///{self.db_path}",
            SECRET_KEY=secrets.token_urlsafe(48),
            REFERENCE_APP_MUTANT=self.mutant or "",
            PYTHONUNBUFFERED="1",
        )
        env.update(rate_limit_env(self.profile))
        env.update(identity_env(), UPLOAD_DIR=str(self.workdir / "uploads"))
        env.update(settings_env(self.settings, self.audit_log))
        env.pop("REDIS_URL", None)
        env.pop("MLFLOW_TRACKING_URI", None)
        if self.redis_port is not None:
            env["REDIS_URL"] = f"redis://{HOST}:{self.redis_port}/0"
        return env

    @property
    def facts(self) -> dict[str, Any]:
        return {
            **rate_limit_facts(self.profile),
            **identity_facts(self.profile, self.app_env()),
            **{name: value for name, value in self.settings.items() if name != "profile"},
            "database": "sqlite",  # a local file: no database connection to encrypt
        }

    def _start_app(self) -> None:
        self._app = ManagedProcess(
            "embedded reference app",
            [
                sys.executable,
                "-m",
                "reference_app",
                "serve",
                "--host",
                HOST,
                "--port",
                str(self.app_port),
                "--log-level",
                "warning",
                "--workers",
                str(APP_WORKERS),
            ],
            self.app_env(),
            self.workdir / "app.log",
            self.workdir,
        )
        self._app.start()
        health = self.url + "/health"
        self._app.wait_ready(lambda: _http_answers(health), START_TIMEOUT_S)

    def replica_urls(self) -> tuple[str, ...]:
        """This app and a second replica on the same Redis (started on first use)."""
        if self.redis_port is None:
            return super().replica_urls()
        if self._replica is None:
            port = free_port()
            command = [sys.executable, "-m", "reference_app", "serve", "--host", HOST]
            self._replica = ManagedProcess(
                "embedded reference app replica",
                [*command, "--port", str(port), "--log-level", "warning"],
                self.app_env(),
                self.workdir / "app-replica.log",
                self.workdir,
            )
            self._replica.start()
            self._replica_url = f"http://{HOST}:{port}"
            health = self._replica_url + "/health"
            self._replica.wait_ready(lambda: _http_answers(health), START_TIMEOUT_S)
        return (self.url, self._replica_url)

    def _start_frontend(self) -> None:
        from harness.stacks.reference import write_local_nginx_conf

        assert self.nginx_binary is not None
        assert self.frontend_port is not None
        # nginx workers drop root privileges: their prefix must be readable by them
        prefix = self.workdir / "frontend"
        prefix.mkdir(mode=0o755, exist_ok=True)
        self.workdir.chmod(0o711)
        conf = prefix / "nginx.conf"
        tls_dir, ca_file = _tls_material(prefix)
        self.ca_file = str(ca_file)
        try:
            write_local_nginx_conf(
                conf,
                listen_port=self.frontend_port,
                backend_url=self.url,
                prefix=prefix,
                mutant=self.mutant,
                tls_port=self.frontend_tls_port,
                tls_dir=tls_dir,
            )
        except HarnessError as exc:
            raise TargetStartError(f"nginx frontend: {exc}") from None
        self._frontend = ManagedProcess(
            "nginx frontend",
            [
                self.nginx_binary,
                "-p",
                str(prefix),
                "-c",
                str(conf),
                "-e",
                str(prefix / "error.log"),
            ],
            os.environ,
            prefix / "nginx.log",
            prefix,
        )
        self._frontend.start()
        health = self.service_url("frontend-http") + "/health"
        self._frontend.wait_ready(lambda: _http_answers(health), START_TIMEOUT_S)

    def service_url(self, service: str) -> str:
        if service == "frontend" and self.frontend_tls_port is not None:
            return f"https://{HOST}:{self.frontend_tls_port}"
        if service == "frontend-http" and self.frontend_port is not None:
            return f"http://{HOST}:{self.frontend_port}"
        return super().service_url(service)

    def close(self) -> None:
        for proc in (self._frontend, self._replica, self._app, self._redis):
            if proc is not None:
                proc.stop()
        self._app = self._redis = self._frontend = self._replica = None
        shutil.rmtree(self.workdir, ignore_errors=True)
        atexit.unregister(self.close)

    # --- capabilities and control ---
    @property
    def capabilities(self) -> frozenset[Capability]:
        caps = set(super().capabilities) | {Capability.CONTROL, Capability.AUDIT_LOG}
        caps |= {Capability.VARIANTS, Capability.USERS}
        if self.redis_port is not None:
            caps |= {Capability.REDIS, Capability.REPLICAS}
        if self.frontend_port is not None:
            caps.add(Capability.FRONTEND)
        return frozenset(caps)

    @property
    def audit_log(self) -> Path:
        return self.workdir / "audit.log"

    def audit_records(self) -> list[dict[str, Any]]:
        return read_audit_log(self.audit_log)

    def create_user(self, username: str, password: str) -> None:
        create_user(self.app_env(), username, password, self.workdir)

    def create_admin(self, username: str, password: str) -> str:
        return create_admin(self.app_env(), username, password, self.workdir)

    @contextmanager
    def variant(self, **settings: Any) -> Iterator[EmbeddedTarget]:
        """The app once more, on its own port and database, without redis and nginx."""
        profile = settings.pop("profile", self.profile)
        extra = EmbeddedTarget(
            profile,
            self.mutant,
            self.allow_hosts,
            use_redis=False,
            use_frontend=False,
            settings={**self.settings, **settings},
        )
        try:
            yield extra.start_all()
        finally:
            extra.close()

    def stop(self, service: str) -> None:
        if service == "database":
            # an unreadable database file: new connections fail as on a real outage
            self.db_path.rename(self.db_path.with_suffix(".db.stopped"))
            self.db_path.mkdir()
        elif service == "redis" and self._redis is not None:
            self._redis.stop()
        elif service == "backend" and self._app is not None:
            self._app.stop()
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
        elif service == "backend":
            self._start_app()
        self._stopped.discard(service)

    def incarnation(self, service: str) -> dict[str, Any]:
        processes = {"backend": self._app, "redis": self._redis, "frontend": self._frontend}
        if service not in processes:
            raise KeyError(f"the embedded target cannot tell restarts of {service!r}")
        process = processes[service]
        # uvicorn's supervisor: its workers may come and go, the app restarts only with it
        return {"pid": process.pid if process is not None else None}

    def describe(self) -> dict[str, Any]:
        info = super().describe()
        info.update(profile=self.profile, mutant=self.mutant, redis=self.redis_port is not None)
        if self.frontend_port is not None:
            info["frontend_url"] = self.service_url("frontend")
            info["frontend_http_url"] = self.service_url("frontend-http")
        return info
