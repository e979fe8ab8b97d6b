"""The spec's backup commands on a throwaway Compose project
(:mod:`harness.stacks.compose_runtime`): its manual pg_dump exactly as written, typed at a
terminal (where Compose may allocate a TTY and turn line ends into CRLF), the repository's
backup script, and the restore of a backup into a scratch database, compared with the live one.
"""

from __future__ import annotations

import functools
import os
import pty
import shlex
import subprocess
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.stacks.compose_runtime import Command, ComposeRuntime
from harness.stacks.project_stack import DrillError

ROWS_TABLE = "harness_compose_rows"
# text a dump must carry unchanged: tabs, newlines, backslashes, quotes, non-ASCII
ROW_NOTES = ("plain", "tab\there", "two\nlines", "back\\slash", "quotes ' \"", "Grüße ∑ 数")
ROW_COPIES = 5
DUMP_SUFFIXES = (".dump", ".sql", ".sql.gz", ".dump.gz", ".pgdump")
SCRIPT_TIMEOUT_S = 600


def is_database_dump(name: str) -> bool:
    return name.endswith(DUMP_SUFFIXES)


def archive_members(path: Path) -> list[str]:
    """The file names in a tar archive; none when it is not one."""
    try:
        with tarfile.open(path) as archive:
            return [Path(name).name for name in archive.getnames()]
    except (tarfile.TarError, OSError):
        return []


@dataclass
class Restore:
    """A backup restored into a scratch database: its tables and rows beside the live ones."""

    file: str
    size: int
    restored: dict[str, int] = field(default_factory=dict)
    live: dict[str, int] = field(default_factory=dict)
    digests: tuple[str, str] = ("", "")  # the seeded rows' md5: restored, live
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "bytes": self.size,
            "restored": self.restored,
            "live": self.live,
            "rows digest": list(self.digests),
            "error": self.error,
        }


@dataclass
class BackupRun:
    command: Command
    new_files: list[str]
    volumes: list[str]  # the project's named volumes
    db_volumes: list[str]  # those the database mounts: its dump is their backup


class Backups:
    def __init__(self, runtime: ComposeRuntime) -> None:
        self.runtime = runtime
        self.project = runtime.project

    @functools.cached_property
    def seeded(self) -> int:
        """Rows of the harness's own table (after the app's migrations, so its tables are
        there too): a dump has something to carry, and its text is compared byte for byte."""
        self.runtime.migrations  # noqa: B018 -- the app's schema first; its verdict is MIGRATE's
        notes = ", ".join(f"$n${note}$n$" for note in ROW_NOTES)
        # names and notes are the harness's own constants, not input from outside
        table = f"{ROWS_TABLE} (id serial PRIMARY KEY, note text NOT NULL)"
        rows = f"unnest(ARRAY[{notes}]) note, generate_series(1, {ROW_COPIES}) copy"
        insert = f"INSERT INTO {ROWS_TABLE} (note) SELECT copy || ' ' || note FROM {rows}"  # noqa: S608
        self.project.sql(f"CREATE TABLE IF NOT EXISTS {table}; {insert}")
        return int(self.project.sql(f"SELECT count(*) FROM {ROWS_TABLE}"))  # noqa: S608

    def digest(self, database: str | None = None) -> str:
        return self.project.sql(
            f"SELECT md5(string_agg(note, '|' ORDER BY id)) FROM {ROWS_TABLE}",  # noqa: S608
            database,
        )

    def restore(self, dump: Path, scratch: str) -> Restore:
        out = Restore(dump.name, dump.stat().st_size if dump.is_file() else 0)
        try:
            self.project.restore_into(dump, scratch)
            out.restored = self.project.table_counts(scratch)
            out.live = self.project.table_counts()
            if ROWS_TABLE in out.restored:
                out.digests = (self.digest(scratch), self.digest())
        except DrillError as exc:
            out.error = str(exc)
        return out

    def spec_pg_dump(self, user: str, database: str, target: str = "backup.sql") -> Command:
        """``docker-compose exec db pg_dump -U USER DB > backup.sql`` in a shell whose stdin is
        a terminal, as a person types it; Compose v2 stands in for docker-compose."""
        compose = shlex.join(self.project.env["COMPOSE"].split())
        tail = f"exec {self.runtime.role('db')} pg_dump -U {shlex.quote(user)}"
        tail += f" {shlex.quote(database)} > {target}"
        leader, follower = pty.openpty()
        started = time.monotonic()
        try:
            done = subprocess.run(
                ["sh", "-c", f"{compose} {tail}"], cwd=self.project.root, env=self.project.env,
                stdin=follower, capture_output=True, text=True, timeout=300, check=False,
            )  # fmt: skip
        finally:
            os.close(leader)
            os.close(follower)
        seconds = time.monotonic() - started
        return Command(f"docker compose {tail}", done.returncode, "", done.stderr, seconds)

    @functools.cached_property
    def backup_run(self) -> BackupRun:
        """The repository's backup script, as ``./scripts/backup.sh``, once."""
        self.seeded  # noqa: B018 -- something to back up
        before = set(self.files())
        script = self.runtime.settings.backup_script
        started = time.monotonic()
        try:
            done = subprocess.run(
                [f"./{script}"], cwd=self.project.root, env=self.project.env,
                capture_output=True, text=True, timeout=SCRIPT_TIMEOUT_S, check=False,
            )  # fmt: skip
            code, out, err = done.returncode, done.stdout, done.stderr
        except subprocess.TimeoutExpired:
            code, out, err = None, "", f"did not end within {SCRIPT_TIMEOUT_S}s"
        except OSError as exc:
            code, out, err = None, "", f"cannot run: {exc.strerror}"
        command = Command(f"./{script}", code, out, err, time.monotonic() - started)
        new = sorted(set(self.files()) - before)
        return BackupRun(command, new, self.runtime.volumes(), self._db_volumes())

    def _db_volumes(self) -> list[str]:
        config = self.project.config()
        names = config.get("volumes", {})
        db = config.get("services", {}).get(self.runtime.role("db"), {})
        return [
            str(names.get(mount.get("source"), {}).get("name", mount.get("source")))
            for mount in db.get("volumes", [])
            if mount.get("type") == "volume" and mount.get("source")
        ]

    def directory(self) -> Path:
        return self.project.root / self.runtime.settings.backup_dir

    def files(self) -> list[str]:
        root = self.directory()
        if not root.is_dir():
            return []
        return [str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()]

    def latest_dump(self) -> Path | None:
        dumps = [self.directory() / name for name in self.files() if is_database_dump(name)]
        return max(dumps, key=lambda path: path.stat().st_mtime, default=None)
