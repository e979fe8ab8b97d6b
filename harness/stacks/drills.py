"""The deploy drills: the deployment's own deploy script, run on a throwaway copy of its
repository (:mod:`harness.stacks.project_stack`), through a chain of versions while a writer
posts through the frontend. Versions after the first are small overlays of the first image the
script built: an Alembic revision of the drill's own (a table, so the rollback has a schema to
undo), and for the faults a migration that fails half-way or a command that never serves.

    v1  the repository as it is          -> deployed
    v2  v1 + revision A                  -> deployed (backup, migration, cleanup judged)
    v3  v2 + revision B, never serves    -> rolled back to v2 (schema back at A)
    v4  v2 + revision C failing half-way -> rolled back to v2
    v5  v2 + revision D, never serves    -> SIGTERM once its container runs; v2 serves
    v6  v2 + revision E                  -> deployed (the deploy after an interrupted one)
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from harness.probes.writer import DrillLookupError, Writer, WriteReport, lost_writes
from harness.stacks.project_stack import DrillError, ThrowawayProject, free_port

RUN_TIMEOUT_S = 600
DRILL_TABLE = "harness_drill_{rev}"
VERSIONS_SCRIPT = """
import hashlib
import json
import os
from alembic.config import Config
from alembic.script import ScriptDirectory
print(ScriptDirectory.from_config(Config(os.environ.get("ALEMBIC_CONFIG", "alembic.ini"))).versions)
"""
MIGRATION = '''"""Drill revision {rev}: a table of the deploy drill's own."""
import sqlalchemy as sa
from alembic import op

revision = "{rev}"
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("{table}", sa.Column("id", sa.Integer, primary_key=True))
    {fail}


def downgrade() -> None:
    op.drop_table("{table}")
'''
FAIL_HALF_WAY = 'raise RuntimeError("deploy drill: this migration fails half-way")'


@dataclass(frozen=True)
class DrillSettings:
    script: str
    compose_files: str
    env_file: str
    deploy_env: dict[str, str]
    write_path: str
    write_body: str
    health_path: str
    backup_dir: str
    production_env_file: str = ""
    frontend_port: int = 8080


@dataclass
class DeployRun:
    """One run of the deploy script and what the drill saw around it."""

    label: str
    version: str
    code: int | None
    output: str
    seconds: float
    started: float  # wall clock, for file and container times
    writes: WriteReport | None = None
    backend_image: str | None = None
    revision: str = ""
    tables: list[str] = field(default_factory=list)
    serving: str = ""  # "" when the frontend and a read through it answered, else why not
    new_files: list[str] = field(default_factory=list)
    backend_created: float | None = None
    backup: dict[str, Any] = field(default_factory=dict)  # the restore of its database backup
    backend_env: dict[str, str] = field(default_factory=dict)  # the running backend's

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "exit": self.code,
            "seconds": round(self.seconds, 1),
            "writes": self.writes.as_dict() if self.writes else None,
            "backend_image": self.backend_image,
            "revision": self.revision,
            "serving": self.serving or "yes",
            "log_tail": self.output.strip().splitlines()[-6:],
        }


@dataclass
class DrillRecord:
    runs: dict[str, DeployRun] = field(default_factory=dict)
    revisions: dict[str, str] = field(default_factory=dict)  # label -> its drill revision
    base_revision: str = ""
    image_repository: str = ""
    images_left: list[str] = field(default_factory=list)
    seeded: WriteReport | None = None
    lost_at_end: list[str] = field(default_factory=list)
    env_files: dict[str, str] = field(default_factory=dict)  # name -> the text the drill wrote
    broken: str = ""  # the chain stopped here: later runs are missing


class DeployDrills:
    """Runs the chain on ``project``; ``progress`` gets a line per run."""

    def __init__(
        self, project: ThrowawayProject, settings: DrillSettings, progress: Callable[[str], None]
    ) -> None:
        self.project = project
        self.settings = settings
        self.progress = progress
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.record = DrillRecord(
            env_files={".env": settings.env_file, ".env.production": settings.production_env_file}
        )
        self._versions_dir = ""
        self._base_image = ""
        self._migrations: list[tuple[str, str]] = []  # (revision, file text) of the good line
        (project.root / "harness-drill-ports.yml").write_text(
            "services:\n  frontend:\n    ports:\n"
            f'      - "127.0.0.1:{self.port}:{settings.frontend_port}"\n'
        )

    # --- the chain ------------------------------------------------------------------------

    def run(self, until: str = "v6") -> DrillRecord:
        """The chain up to the run ``until`` (the requirements checked may need no more);
        ``production-only`` runs the production deploy alone."""
        try:
            missing = self.project.unavailable_reason(VERSION=self._version("v1"))
            if missing:
                raise DrillError(missing)
            self._chain(until)
        except (DrillError, DrillLookupError) as exc:
            self.record.broken = str(exc)
        return self.record

    def _chain(self, until: str) -> None:
        if until == "production-only":  # nothing else is asked: no chain before it
            self._production()
            return
        # versions unique to this drill: its images never overwrite a tag the user has
        first = self._deploy("v1", self._version("v1"), overlay=None, writer=False)
        if first.code != 0:
            raise DrillError(
                f"the first deploy (v1) exited {first.code}: {_tail(first.output, 12)}"
            )
        self._discover()
        self.record.seeded = self._seed()
        for label, fault in (
            ("v2", None), ("v3", "never-serves"), ("v4", "fails-half-way"),
            ("v5", "interrupted"), ("v6", None),
        ):  # fmt: skip
            revision = f"harnessdrill{label}"
            self.record.revisions[label] = revision
            run = self._deploy(label, self._version(label), overlay=(revision, fault), writer=True)
            if label == "v2":
                run.backup = self._restore_backup(run)
            if label == until:
                break
        self.record.images_left = self._images()
        self.record.lost_at_end = self._lost_at_end()
        if until == "production":
            self._production()

    def _production(self) -> None:
        """``ENVIRONMENT=production`` on a fresh database (the production file's credentials
        are its own): the first deploy of a production environment."""
        self.project.compose("down", "-v", "--timeout", "5")
        (self.project.root / ".env.production").write_text(self.settings.production_env_file)
        self._deploy("production", self._version("prod"), None, False, ENVIRONMENT="production")

    def _lost_at_end(self) -> list[str]:
        """Every write acknowledged in the whole chain, looked up once more at its end."""
        reports = [self.record.seeded] + [run.writes for run in self.record.runs.values()]
        acknowledged = [ident for report in reports if report for ident in report.acknowledged]
        return lost_writes(self._write_url(), acknowledged)

    def _discover(self) -> None:
        config = self.project.config(VERSION=self._version("v1"))
        image = str(config.get("services", {}).get("backend", {}).get("image", ""))
        if not image:
            raise DrillError("the Compose file's backend service names no image")
        self._base_image = image
        self.record.image_repository = image.rsplit(":", 1)[0]
        done = subprocess.run(
            ["docker", "run", "--rm", "--entrypoint", "python", image, "-c", VERSIONS_SCRIPT],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise DrillError(f"the backend image {image} has no Alembic scripts to extend: {last}")
        self._versions_dir = done.stdout.strip().splitlines()[-1]
        self.record.base_revision = self.project.revision()

    def _seed(self) -> WriteReport:
        writer = Writer(self._write_url(), self.settings.write_body, "seed")
        with writer:
            time.sleep(3)
        report = writer.verify(self._write_url())
        if not report.acknowledged:
            raise DrillError(
                f"no write through {self._write_url()} was acknowledged: {report.summary()}"
            )
        return report

    # --- one run --------------------------------------------------------------------------

    def _deploy(
        self,
        label: str,
        version: str,
        overlay: tuple[str, str | None] | None,
        writer: bool,
        **extra_env: str,
    ) -> DeployRun:
        files = f"{self.settings.compose_files}:harness-drill-ports.yml"
        if overlay is not None:
            files += ":" + self._write_overlay(version, *overlay)
        env = {**self.project.env, **self.settings.deploy_env, **extra_env, "VERSION": version}
        env["COMPOSE_FILE"] = files
        self.progress(f"deploy drill {label}: {self.settings.script} VERSION={version} ...")
        before = set(self._backup_files())
        started_wall, started = time.time(), time.monotonic()
        writing = Writer(self._write_url(), self.settings.write_body, label) if writer else None
        if writing is not None:
            writing.start()
        try:
            interrupt = overlay is not None and overlay[1] == "interrupted"
            code, output = self._run_script(env, interrupt, version)
        finally:
            report = writing.stop() if writing is not None else None
        run = DeployRun(label, version, code, output, time.monotonic() - started, started_wall)
        run.new_files = sorted(set(self._backup_files()) - before)
        self._observe(run)
        if writing is not None:  # looked up through what serves now; unverifiable if nothing does
            run.writes = writing.verify(self._write_url()) if not run.serving else report
        self.record.runs[label] = run
        writes = f"; {run.writes.summary()}" if run.writes else ""
        self.progress(f"deploy drill {label}: exit {code} after {run.seconds:.0f}s{writes}")
        return run

    def _run_script(
        self, env: dict[str, str], interrupt: bool, version: str
    ) -> tuple[int | None, str]:
        log = self.project.root / f".harness-deploy-{version}.log"
        with log.open("w") as sink:
            proc = subprocess.Popen(
                [f"./{self.settings.script}"], cwd=self.project.root, env=env,
                stdout=sink, stderr=subprocess.STDOUT,
            )  # fmt: skip
            try:
                if interrupt:
                    self._interrupt_when_started(proc, version)
                code: int | None = proc.wait(timeout=RUN_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                code = None
        return code, log.read_text(errors="replace")

    def _interrupt_when_started(self, proc: subprocess.Popen[bytes], version: str) -> None:
        """SIGTERM once the new version's backend container runs: half-way, with the
        database migrated and the old containers replaced."""
        deadline = time.monotonic() + RUN_TIMEOUT_S
        while proc.poll() is None and time.monotonic() < deadline:
            image = self.project.service_image("backend") or ""
            if image.endswith(f":{version}"):
                time.sleep(2)
                os.kill(proc.pid, signal.SIGTERM)
                return
            time.sleep(0.5)

    def _observe(self, run: DeployRun) -> None:
        run.backend_image = self.project.service_image("backend")
        run.revision = self.project.revision()
        run.tables = self.project.sql(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
        ).split()
        run.serving = self._serving()
        ids = self.project.compose("ps", "-q", "backend", check=False).split()
        if ids:
            created = subprocess.run(
                ["docker", "inspect", "--format", "{{.Created}}", ids[0]],
                capture_output=True, text=True, timeout=60, check=False,
            ).stdout.strip()  # fmt: skip
            run.backend_created = _docker_time(created)
            listed = subprocess.run(
                ["docker", "inspect", "--format", "{{json .Config.Env}}", ids[0]],
                capture_output=True, text=True, timeout=60, check=False,
            ).stdout  # fmt: skip
            pairs = (item.partition("=") for item in json.loads(listed or "[]"))
            run.backend_env = {key: value for key, _, value in pairs}

    def _restore_backup(self, run: DeployRun) -> dict[str, Any]:
        """The database backup ``run`` wrote, restored into a scratch database: its tables
        and rows against the live ones (the writer's table may only have grown since)."""
        root = self.project.root / self.settings.backup_dir
        dumps = [n for n in run.new_files if n.endswith((".dump", ".sql", ".sql.gz", ".gz"))
                 and not n.endswith(".tar.gz")]  # fmt: skip
        if not dumps:
            return {"error": f"no database backup among the new files {run.new_files}"}
        dump = root / dumps[-1]
        out: dict[str, Any] = {"file": dumps[-1], "bytes": dump.stat().st_size}
        out["written"] = dump.stat().st_mtime
        digest = root / f"{dumps[-1]}.sha256"
        if digest.is_file():
            expected = digest.read_text().split()[0] if digest.read_text().split() else ""
            out["sha256_ok"] = hashlib.sha256(dump.read_bytes()).hexdigest() == expected
        try:
            self.project.restore_into(dump, "harness_drill_scratch")
            out["restored"] = self.project.table_counts("harness_drill_scratch")
            out["live"] = self.project.table_counts()
        except DrillError as exc:
            out["error"] = str(exc)
        return out

    # --- helpers --------------------------------------------------------------------------

    def _write_overlay(self, version: str, revision: str, fault: str | None) -> str:
        table = DRILL_TABLE.format(rev=revision)
        down = self._migrations[-1][0] if self._migrations else self.record.base_revision or None
        fail = FAIL_HALF_WAY if fault == "fails-half-way" else "pass"
        text = MIGRATION.format(rev=revision, down=down, table=table, fail=fail)
        files = [*self._migrations, (revision, text)]
        if fault is None:  # a good version: the next ones build on its revision
            self._migrations.append((revision, text))
        context = self.project.root / ".harness-drill" / version
        (context / "versions").mkdir(parents=True, exist_ok=True)
        for rev, body in files:
            (context / "versions" / f"{rev}.py").write_text(body)
        cmd = '\n        CMD ["sleep", "86400"]' if fault in ("never-serves", "interrupted") else ""
        name = f"harness-drill-{version}.yml"
        (self.project.root / name).write_text(
            "services:\n  backend:\n    build:\n"
            f"      context: {context}\n"
            "      dockerfile: !reset null\n"
            "      dockerfile_inline: |\n"
            f"        FROM {self._base_image}\n"
            f"        COPY versions/ {self._versions_dir}/\n"
            f'        LABEL org.prodready.harness.drill="{version}"{cmd}\n'
        )
        return name

    def _version(self, label: str) -> str:
        return f"{self.project.name}-{label}"

    def _write_url(self) -> str:
        return self.url + self.settings.write_path

    def _serving(self) -> str:
        try:
            health = httpx.get(self.url + self.settings.health_path, timeout=5)
            read = httpx.get(self._write_url(), timeout=5)
        except httpx.HTTPError:
            return f"nothing answers at {self.url}{self.settings.health_path}"
        if health.status_code != 200:
            return f"{self.settings.health_path} answered {health.status_code}"
        if not read.is_success:
            return (
                f"GET {self.settings.write_path} through the frontend answered {read.status_code}"
            )
        return ""

    def _backup_files(self) -> list[str]:
        root = self.project.root / self.settings.backup_dir
        if not root.is_dir():
            return []
        return [str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()]

    def _images(self) -> list[str]:
        listed = subprocess.run(
            ["docker", "image", "ls", "--format", "{{.Repository}}:{{.Tag}}",
             self.record.image_repository],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        # this drill's versions only: other drills may share the repository name
        mine = f":{self.project.name}-"
        return sorted(line for line in listed.stdout.split() if mine in line)


def _tail(output: str, lines: int = 3) -> str:
    return " / ".join(output.strip().splitlines()[-lines:])


def _docker_time(stamp: str) -> float | None:
    """Docker's ``2026-12-01T19:16:25.123456789Z`` as a timestamp (seconds are enough)."""
    try:
        return datetime.fromisoformat(stamp[:19]).replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None
