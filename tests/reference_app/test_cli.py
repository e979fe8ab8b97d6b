"""`python -m reference_app serve|migrate` as a deployment runs it, in a subprocess."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.reference_app.conftest import STRONG_SECRET, free_port


def _run(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reference_app", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _env(**values: str) -> dict[str, str]:
    return {**os.environ, **values}


@pytest.mark.parametrize("command", ["serve", "migrate"])
def test_weak_production_secret_is_one_line_exit_2(tmp_path: Path, command: str) -> None:
    result = _run(command, env=_env(ENVIRONMENT="production", SECRET_KEY="changeme"), cwd=tmp_path)

    assert result.returncode == 2
    assert result.stderr.startswith("reference_app: error: SECRET_KEY ")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_unknown_mutant_is_refused_before_serving(tmp_path: Path) -> None:
    result = _run(
        "serve", "--port", str(free_port()), env=_env(REFERENCE_APP_MUTANT="typo"), cwd=tmp_path
    )

    assert result.returncode == 2
    assert "unknown mutant 'typo'" in result.stderr


def test_migrate(tmp_path: Path) -> None:
    path = tmp_path / "migrated.db"

    result = _run("migrate", env=_env(DATABASE_URL=f"sqlite:///{path}"), cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    connection = sqlite3.connect(path)
    try:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchone() == ("0002",)
    finally:
        connection.close()


def test_migrate_failure_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "dir.db").mkdir()
    url = f"sqlite:///{tmp_path / 'dir.db'}"

    result = _run("migrate", env=_env(DATABASE_URL=url), cwd=tmp_path)

    assert result.returncode == 1
    assert result.stderr.startswith("reference_app: error: migration failed: ")
    assert result.stderr.count("\n") == 1


def test_serve_migrates_then_answers(tmp_path: Path) -> None:
    port = free_port()
    env = _env(
        ENVIRONMENT="production",
        SECRET_KEY=STRONG_SECRET,
        DATABASE_URL=f"sqlite:///{tmp_path / 'app.db'}",
    )
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "reference_app",
            "serve",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx.get(f"{base}/health", timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None, "server exited before answering"
                assert time.monotonic() < deadline, "server did not answer within 30 s"
                time.sleep(0.1)
        created = httpx.post(f"{base}/api/v1/formulas", json={"name": "served", "expression": "1"})
        listed = httpx.get(f"{base}/api/v1/formulas", params={"q": "SERVED"})
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)

    assert health.status_code == 200, output
    assert health.json()["status"] == "healthy"
    assert "server" not in health.headers
    assert created.status_code == 201
    assert listed.json()["total"] == 1
    assert process.returncode == 0, output
