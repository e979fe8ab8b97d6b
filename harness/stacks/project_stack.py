"""A copy of the deployment's repository run as a throwaway Compose project: the deploy and
backup drills run the user's own scripts and Compose file against it, on the local engine,
without touching the deployment the repository describes (its own project name, no port of
the real stack, its volumes and images removed at the end)."""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import secrets
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.stacks.compose import compose_command

# values in .env.example that stand for a secret to fill in; the drill writes a random one
PLACEHOLDER_WORDS = ("change-me", "changeme", "change_me", "replace-me", "your-", "example")
# what a copy of the repository leaves out: state of earlier runs, not sources
IGNORED = shutil.ignore_patterns(".git", "backups", "logs", "node_modules", "__pycache__", ".env")
LABEL = "org.prodready.harness.drill"


class DrillError(HarnessError):
    """The throwaway project could not be set up or asked; one line for the matrix."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def env_pairs(text: str) -> dict[str, str]:
    """``KEY=VALUE,KEY=VALUE`` (a parameter's form) as a mapping."""
    pairs = (item.partition("=") for item in text.split(",") if item.strip())
    return {key.strip(): value.strip() for key, _, value in pairs}


def drill_env_file(example: str, overrides: Mapping[str, str]) -> str:
    """``.env.example`` with every placeholder secret replaced by a random value and
    ``overrides`` written over it: a development start as the Quick Start makes it."""
    lines: list[str] = []
    seen: set[str] = set()
    for line in example.splitlines():
        name, sep, value = line.partition("=")
        key = name.strip()
        if not sep or key.startswith("#") or not key:
            lines.append(line)
            continue
        seen.add(key)
        if key in overrides:
            value = overrides[key]
        elif any(word in value.strip().strip("'\"").lower() for word in PLACEHOLDER_WORDS):
            value = f"drill-{secrets.token_hex(16)}"
        lines.append(f"{key}={value}")
    lines += [f"{key}={value}" for key, value in overrides.items() if key not in seen]
    return "\n".join(lines) + "\n"


@dataclass
class ThrowawayProject:
    """The copy at ``root``, run as Compose project ``name`` with ``compose_files``."""

    root: Path
    name: str
    compose_files: str
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    @contextlib.contextmanager
    def create(
        cls, source: Path, workdir: Path, compose_files: str, env_file: str
    ) -> Iterator[ThrowawayProject]:
        """Copy ``source`` under ``workdir``, write its ``.env``; ``down -v`` and remove the
        project's images on the way out, whatever happened inside."""
        name = f"drill{uuid.uuid4().hex[:10]}"
        root = workdir / name
        # links become the files they point at: the copy stands alone, as a clone would
        try:
            shutil.copytree(source, root, ignore=IGNORED)
        except (shutil.Error, OSError) as exc:
            shutil.rmtree(root, ignore_errors=True)
            first = exc.args[0][0] if isinstance(exc, shutil.Error) and exc.args[0] else exc
            raise DrillError(f"the repository cannot be copied for the drill: {first}") from None
        (root / ".env").write_text(env_file)
        env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}
        env.update(
            COMPOSE=" ".join(compose_command()),
            COMPOSE_PROJECT_NAME=name,
            COMPOSE_FILE=compose_files,
            # images tagged with a version of the drill's own never replace a tag of yours
            VERSION=f"{name}-local",
        )
        project = cls(root, name, compose_files, env)
        try:
            yield project
        finally:
            project.remove()

    def compose(self, *args: str, timeout: float = 300, check: bool = True) -> str:
        done = self.compose_run(*args, timeout=timeout)
        if check and done.returncode != 0:
            tail = " / ".join(done.stderr.strip().splitlines()[-3:])
            raise DrillError(f"compose {' '.join(args)} exited {done.returncode}: {tail}")
        return done.stdout

    def compose_run(
        self,
        *args: str,
        timeout: float = 300,
        extra_env: Mapping[str, str] | None = None,
        stdin: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """``compose args`` whatever its exit code, ``extra_env`` over the project's (another
        COMPOSE_FILE, say) for this call only, ``stdin`` as its input."""
        argv = [*self.env["COMPOSE"].split(), *args]
        try:
            return subprocess.run(
                argv, cwd=self.root, env={**self.env, **(extra_env or {})}, input=stdin,
                capture_output=True, text=True, timeout=timeout, check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            raise DrillError(
                f"compose {' '.join(args)} did not end within {timeout:.0f}s"
            ) from None

    def run(self, *args: str, timeout: float = 300, stdin: str | None = None) -> tuple[int, str]:
        """``compose ARGS`` whatever its outcome: the exit code and what it printed."""
        try:
            done = self.compose_run(*args, timeout=timeout, stdin=stdin)
        except DrillError as exc:
            return 124, str(exc)
        return done.returncode, done.stdout + done.stderr

    def config(self, **extra_env: str) -> dict[str, Any]:
        done = self.compose_run("config", "--format", "json", extra_env=extra_env)
        if done.returncode != 0:
            tail = " / ".join(done.stderr.strip().splitlines()[-3:])
            raise DrillError(f"compose config exited {done.returncode}: {tail}")
        loaded = json.loads(done.stdout)
        return loaded if isinstance(loaded, dict) else {}

    def unavailable_images(self, **extra_env: str) -> list[str]:
        """``image (service)`` for each image the Compose files name but neither build nor
        find on this engine: ``up`` would have to pull it from its registry."""
        try:
            services = self.config(**extra_env).get("services", {})
        except DrillError:  # a file Compose cannot read: its own error says more than this
            return []
        wanted = {
            str(service["image"]): name
            for name, service in sorted(services.items())
            if service.get("image") and not service.get("build")
        }
        return [
            f"{image} ({service})" for image, service in wanted.items() if not _local_image(image)
        ]

    def unavailable_reason(self, **extra_env: str) -> str | None:
        """One line naming the images ``up`` would pull, or None when every image is here."""
        missing = self.unavailable_images(**extra_env)
        if not missing:
            return None
        return (
            f"images not on this machine and not built by the Compose files: {', '.join(missing)}; "
            "load them into the engine, or name Compose files with local stand-ins: "
            "--param drill_compose_files=docker-compose.yml:YOUR-OVERRIDE.yml"
        )

    def service_image(self, service: str) -> str | None:
        """The image the running container of ``service`` was started from, if any."""
        ids = self.compose("ps", "-q", service, check=False).split()
        if not ids:
            return None
        done = subprocess.run(
            ["docker", "inspect", "--format", "{{.Config.Image}}", ids[0]],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        return done.stdout.strip() or None

    def states(self) -> dict[str, str]:
        """service -> "running", "running (healthy)", "exited (1)" ..., from ``compose ps``."""
        out: dict[str, str] = {}
        for line in self.compose("ps", "-a", "--format", "json").splitlines():
            if not line.strip():
                continue
            rows = json.loads(line)
            for row in rows if isinstance(rows, list) else [rows]:
                health = f" ({row['Health']})" if row.get("Health") else ""
                out[str(row.get("Service"))] = f"{row.get('State')}{health}"
        return out

    def sql(self, statement: str, database: str | None = None) -> str:
        """``statement`` by psql in the db container, as its POSTGRES_USER, on its
        POSTGRES_DB (or ``database``): the credentials stay inside the container."""
        script = 'psql -v ON_ERROR_STOP=1 -qAt -U "$POSTGRES_USER" -d "${1:-$POSTGRES_DB}"'
        done = self.compose_run(
            "exec", "-T", "db", "sh", "-c", script, "sh", database or "",
            timeout=120, stdin=statement,
        )  # fmt: skip
        if done.returncode != 0:
            raise DrillError(f"psql: {done.stderr.strip().splitlines()[-1:] or done.returncode}")
        return done.stdout.strip()

    def revision(self, database: str | None = None) -> str:
        """Alembic's ``version_num``; "" where no migration ever ran."""
        present = self.sql("SELECT to_regclass('public.alembic_version') IS NOT NULL", database)
        if present != "t":
            return ""
        return self.sql("SELECT string_agg(version_num, ',') FROM alembic_version", database)

    def table_counts(self, database: str | None = None) -> dict[str, int]:
        tables = self.sql(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1", database
        ).split()
        # names read from pg_tables, quoted: not input from outside the database
        return {t: int(self.sql(f'SELECT count(*) FROM "{t}"', database)) for t in tables}  # noqa: S608

    def restore_into(self, dump: Path, database: str) -> None:
        """A fresh ``database`` in the db container, filled from ``dump``: pg_restore for
        the custom format, psql for plain SQL (gzip undone first)."""
        data = dump.read_bytes()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        load = (
            'pg_restore -U "$POSTGRES_USER" -d "$1" --no-owner --exit-on-error'
            if data[:5] == b"PGDMP"
            else 'psql -v ON_ERROR_STOP=1 -q -U "$POSTGRES_USER" -d "$1" >/dev/null'
        )
        script = f'createdb -U "$POSTGRES_USER" "$1" && {load}'
        argv = [
            *self.env["COMPOSE"].split(),
            "exec",
            "-T",
            "db",
            "sh",
            "-c",
            script,
            "sh",
            database,
        ]
        done = subprocess.run(
            argv, cwd=self.root, env=self.env, input=data, capture_output=True, timeout=300,
            check=False,
        )  # fmt: skip
        if done.returncode != 0:
            last = done.stderr.decode(errors="replace").strip().splitlines()[-1:]
            raise DrillError(f"{dump.name} does not restore: {' '.join(last) or done.returncode}")

    def remove(self) -> None:
        subprocess.run(
            [*self.env["COMPOSE"].split(), "down", "-v", "--remove-orphans", "--timeout", "5"],
            cwd=self.root, env=self.env, capture_output=True, timeout=180, check=False,
        )  # fmt: skip
        listed = subprocess.run(
            ["docker", "image", "ls", "-q", "--filter",
             f"label=com.docker.compose.project={self.name}"],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        for image in dict.fromkeys(listed.stdout.split()):
            subprocess.run(
                ["docker", "image", "rm", "-f", image], capture_output=True, timeout=60, check=False
            )
        shutil.rmtree(self.root, ignore_errors=True)


def _local_image(image: str) -> bool:
    done = subprocess.run(
        ["docker", "image", "inspect", "--format", "{{.Id}}", image],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    return done.returncode == 0
