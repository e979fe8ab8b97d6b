"""The Compose runtime checks' parts that need no Docker: how a command's words are quoted in a
check's message, which services count as unwell, the parameter forms, what counts as a dump or
an archive, and the skip without the containers stack."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.stacks.compose_backups import archive_members, is_database_dump
from harness.stacks.compose_runtime import Command, Started
from harness.stacks.project_stack import env_pairs
from reference_app.project_mutants import PROJECT
from tests.conftest import SuiteRun
from tests.verdicts import exception_named


def _command(out: str = "", err: str = "", code: int = 1) -> Command:
    return Command("docker compose exec -T backend python -c ...", code, out, err, 0.5)


@pytest.mark.parametrize(
    ("err", "said"),
    [
        ("Traceback ...\n  File x\nsocket.gaierror: [Errno -2] Name or service not known\n",
         "[Errno -2] Name or service not known"),
        ("asyncpg.exceptions.InvalidCatalogNameError: database \"formulas\" does not exist",
         'database "formulas" does not exist'),
        ("FAILED: No config file 'alembic.ini' found\n\n",
         "FAILED: No config file 'alembic.ini' found"),
        ("", "no output"),
    ],
)  # fmt: skip
def test_a_command_says_its_last_line_without_python_exception_names(err: str, said: str) -> None:
    assert _command(err=err).said() == said
    assert exception_named(_command(err=err).said()) is None


def test_a_command_without_errors_says_its_output() -> None:
    assert _command(out="0001 (head)\n", code=0).said() == "0001 (head)"


def test_unwell_services_are_those_not_running_or_not_healthy_where_checked() -> None:
    started = Started(_command(code=0), {}, ["db", "redis", "backend", "frontend", "worker"])
    started.health_checked = ["db", "redis"]
    states = {
        "db": "running (healthy)",
        "redis": "running",  # checked, but no health reported yet
        "backend": "running (unhealthy)",  # the image's own health check
        "frontend": "running",
    }
    assert started.unwell(states) == {
        "redis": "running",
        "backend": "running (unhealthy)",
        "worker": "not created",
    }


def test_env_pairs_read_the_parameter_form() -> None:
    assert env_pairs("A=1, B = two=2 ,,") == {"A": "1", "B": "two=2"}
    assert env_pairs("") == {}


def test_dumps_and_archives_are_told_apart(tmp_path: Path) -> None:
    assert all(map(is_database_dump, ("set/database.dump", "backup.sql", "db.sql.gz")))
    assert not any(map(is_database_dump, ("configuration.tar.gz", "SHA256SUMS", "x.dump.sha256")))
    archive = tmp_path / "configuration.tar.gz"
    with tarfile.open(archive, "w:gz") as sink:
        sink.addfile(tarfile.TarInfo("./docker-compose.yml"), io.BytesIO(b""))
    assert archive_members(archive) == ["docker-compose.yml"]
    (tmp_path / "not.tar.gz").write_text("plain text")
    assert archive_members(tmp_path / "not.tar.gz") == []


def test_without_the_containers_stack_every_check_skips_with_the_reason(
    run_suites: Callable[..., SuiteRun],
) -> None:
    run = run_suites(f"--project-root={PROJECT}", "-k", "compose_runtime")
    entry = run.entry("OPS-PG-DUMP")
    assert entry["verdict"] == "skipped"
    assert any("--stack containers" in reason for reason in entry["skip_reasons"])
