"""The spec's Compose commands run on a throwaway copy of the deployment's repository
(:mod:`harness.stacks.project_stack`): ``up -d --wait``, ``ps``, ``logs`` and ``alembic upgrade
head``. Each step returns what it saw; suites/test_compose_runtime.py judges it. The steps that
disturb the project are in :mod:`harness.stacks.compose_steps`, the backups in
:mod:`harness.stacks.compose_backups`."""

from __future__ import annotations

import functools
import re
import shlex
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from harness.stacks.project_stack import ThrowawayProject, free_port

UP_TIMEOUT_S = 300
PORTS_FILE = "harness-compose-ports.yml"
SCHEMA_SQL = (
    "SELECT table_name || '.' || column_name || ' ' || data_type FROM information_schema.columns"
    " WHERE table_schema = 'public' ORDER BY 1"
)
# "socket.gaierror: [Errno -2] Name ..." says "[Errno -2] Name ...": a check's message names
# the failed command and quotes its words, not Python's exception classes
EXCEPTION_PREFIX = re.compile(r"^(?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*(?:Error|Exception|error):\s*")


@dataclass(frozen=True)
class Command:
    """One command as the user would type it, and what it did."""

    shown: str
    code: int | None
    out: str
    err: str
    seconds: float

    @property
    def ok(self) -> bool:
        return self.code == 0

    def said(self) -> str:
        """Its last line of output (errors first), without a Python exception's name."""
        lines = [line.strip() for line in (self.err or self.out).splitlines() if line.strip()]
        return EXCEPTION_PREFIX.sub("", lines[-1]) if lines else "no output"

    def as_dict(self) -> dict[str, Any]:
        return {"command": self.shown, "exit": self.code, "seconds": round(self.seconds, 1),
                "said": self.said()}  # fmt: skip


@dataclass(frozen=True)
class RuntimeSettings:
    compose_file: str  # the repository's own file
    compose_files: str  # the project's files, ':'-separated (the file and its local stand-ins)
    roles: Mapping[str, str]  # db, redis, backend, frontend -> the service's name
    backup_script: str
    backup_dir: str
    frontend_port: int = 8080  # inside its container, where the Compose file publishes none


@dataclass
class Started:
    """``up -d --wait`` and the project it left."""

    up: Command
    states: dict[str, str]
    active: list[str]
    left_out: dict[str, list[str]] = field(default_factory=dict)  # service -> its profiles
    stand_ins: dict[str, str] = field(default_factory=dict)  # service -> what replaced it
    health_checked: list[str] = field(default_factory=list)
    frontend: str = ""  # what GET / through the published frontend answered

    def unwell(self, states: Mapping[str, str]) -> dict[str, str]:
        """Started services that do not run, or run without passing their health check."""
        out = {}
        for service in self.active:
            state = states.get(service, "not created")
            checked = service in self.health_checked or "(" in state
            if state != ("running (healthy)" if checked else "running"):
                out[service] = state
        return out


@dataclass(frozen=True)
class Migration:
    command: Command
    revision: str
    schema: list[str]


class ComposeRuntime:
    """Steps on ``project``; shared ones (started, migrations) run once and are kept."""

    def __init__(self, project: ThrowawayProject, settings: RuntimeSettings) -> None:
        self.project = project
        self.settings = settings
        self.port = free_port()
        # the frontend published on a free loopback port: a request through it gives the
        # frontend's log its first line, as a user's browser would
        (project.root / PORTS_FILE).write_text(
            f"services:\n  {self.role('frontend')}:\n    ports:\n"
            f'      - "127.0.0.1:{self.port}:{self._frontend_port()}"\n'
        )
        project.env["COMPOSE_FILE"] = f"{settings.compose_files}:{PORTS_FILE}"
        # images tagged with a version of this project's own: a build here never overwrites a
        # tag the user has, nor one a project beside it builds at the same time
        project.env["VERSION"] = project.name

    def _frontend_port(self) -> int:
        """The container port the repository's own file publishes for the frontend."""
        own = self.project.config(COMPOSE_FILE=self.settings.compose_file)
        ports = own.get("services", {}).get(self.role("frontend"), {}).get("ports") or []
        targets = [int(port["target"]) for port in ports if str(port.get("target", "")).isdigit()]
        return targets[0] if targets else self.settings.frontend_port

    def role(self, name: str) -> str:
        return self.settings.roles[name]

    def run(
        self, *args: str, timeout: float = 300, extra_env: Mapping[str, str] | None = None
    ) -> Command:
        started = time.monotonic()
        done = self.project.compose_run(*args, timeout=timeout, extra_env=extra_env)
        seconds = time.monotonic() - started
        shown = f"docker compose {shlex.join(args)}"
        return Command(shown, done.returncode, done.stdout, done.stderr, seconds)

    # --- up, ps, logs ---------------------------------------------------------------------

    @functools.cached_property
    def started(self) -> Started:
        up = self.run("up", "-d", "--wait", timeout=UP_TIMEOUT_S)
        missing = None if up.ok else self.project.unavailable_reason()
        if missing:  # Docker's own words name a registry, not the image it looked for
            up = Command(up.shown, up.code, up.out, f"{up.err}\n{missing}", up.seconds)
        active = self.project.compose("config", "--services").split()
        every = self.project.config(COMPOSE_PROFILES="*", COMPOSE_FILE=self.settings.compose_files)
        everyone: dict[str, Any] = every.get("services", {})
        started = Started(up, self.project.states(), active)
        started.left_out = {
            name: list(service.get("profiles") or [])
            for name, service in everyone.items()
            if name not in active
        }
        started.health_checked = [name for name in active if _health_check(everyone.get(name))]
        started.stand_ins = self._stand_ins(everyone)
        if up.ok:
            try:
                answer = httpx.get(f"http://127.0.0.1:{self.port}/", timeout=10)
                started.frontend = f"HTTP {answer.status_code}"
            except httpx.HTTPError as exc:
                started.frontend = f"no answer: {exc}"
        return started

    def _stand_ins(self, local: Mapping[str, Any]) -> dict[str, str]:
        """What the files after the repository's own change in each service: its image and
        how it is built."""
        if self.settings.compose_files == self.settings.compose_file:
            return {}
        own = self.project.config(COMPOSE_PROFILES="*", COMPOSE_FILE=self.settings.compose_file)
        out: dict[str, str] = {}
        for name, service in own.get("services", {}).items():
            there = local.get(name, {})
            changes = []
            if service.get("image") != there.get("image"):
                changes.append(f"image {service.get('image')} -> {there.get('image')}")
            if service.get("build") != there.get("build"):
                changes.append("its own build")
            # a service the override replaces by something else altogether says so in a label
            labels = there.get("labels") or {}
            changes += [f"stand-in: {v}" for k, v in labels.items() if k.endswith("stand-in")]
            if changes:
                out[name] = ", ".join(changes)
        return out

    def ps(self) -> Command:
        return self.run("ps", "--all")

    def logs(self, service: str, extra_env: Mapping[str, str] | None = None) -> Command:
        return self.run("logs", "--no-color", "--no-log-prefix", service, extra_env=extra_env)

    def exec(self, service: str, *argv: str, timeout: float = 300) -> Command:
        return self.run("exec", "-T", service, *argv, timeout=timeout)

    # --- migrations -----------------------------------------------------------------------

    @functools.cached_property
    def migrations(self) -> list[Migration]:
        """``alembic upgrade head`` twice, the revision and the schema after each."""
        runs = []
        for _ in range(2):
            command = self.exec(self.role("backend"), "alembic", "upgrade", "head")
            schema = self.project.sql(SCHEMA_SQL).splitlines()
            runs.append(Migration(command, self.project.revision(), schema))
        return runs

    # --- what the project runs ------------------------------------------------------------

    def containers(self) -> list[str]:
        return docker_out("ps", "-a", "-q", "--filter", self.label()).split()

    def volumes(self) -> list[str]:
        return sorted(docker_out("volume", "ls", "-q", "--filter", self.label()).split())

    def label(self) -> str:
        return f"label=com.docker.compose.project={self.project.name}"

    def container(self, service: str) -> dict[str, str]:
        """The service's container: id, image id, state, exit code and restart count."""
        ids = self.project.compose("ps", "-a", "-q", service, check=False).split()
        if not ids:
            return {}
        fields = ("id", "image", "status", "exit", "restarts")
        line = docker_out("inspect", "--format", "{{.Id}} {{.Image}} {{.State.Status}} "
                       "{{.State.ExitCode}} {{.RestartCount}}", ids[0])  # fmt: skip
        return dict(zip(fields, line.split(), strict=False))


def _health_check(service: Mapping[str, Any] | None) -> bool:
    check = (service or {}).get("healthcheck") or {}
    return bool(check) and not check.get("disable")


def docker_out(*args: str) -> str:
    done = subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=60, check=False
    )
    return done.stdout
