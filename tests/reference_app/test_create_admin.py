"""`python -m reference_app.create_admin`: password sources, policy, duplicates."""

from __future__ import annotations

import io
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pyotp
import pytest

from reference_app.core.security import hash_password, needs_rehash, verify_password
from reference_app.create_admin import main
from tests.reference_app.conftest import STRONG_SECRET


class Run:
    """One in-process run of the command, with its captured output."""

    def __init__(self, *argv: str, stdin: str = "", environ: dict[str, str] | None = None) -> None:
        self.stdout, self.stderr = io.StringIO(), io.StringIO()
        self.code = main(
            list(argv),
            stdin=io.StringIO(stdin),
            stdout=self.stdout,
            stderr=self.stderr,
            environ=environ or {},
        )


@pytest.fixture
def database(db_url: str, db_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DATABASE_URL", db_url)
    return db_path


def _users(path: Path) -> list[tuple[str, str, str, int, int]]:
    connection = sqlite3.connect(path)
    try:
        query = "SELECT username, email, hashed_password, is_admin, is_active FROM users"
        return connection.execute(query).fetchall()
    finally:
        connection.close()


def test_creates_an_active_admin_from_stdin(database: Path) -> None:
    run = Run(
        "--username",
        "root",
        "--email",
        "root@example.org",
        "--password-stdin",
        stdin="correct horse\n",
    )

    assert run.code == 0, run.stderr.getvalue()
    assert "'root'" in run.stdout.getvalue()
    [(username, email, hashed, is_admin, is_active)] = _users(database)
    assert (username, email, is_admin, is_active) == ("root", "root@example.org", 1, 1)
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, "correct horse")
    assert not verify_password(hashed, "correct horse\n")


def test_password_from_environment_and_default_names(database: Path) -> None:
    run = Run(environ={"ADMIN_PASSWORD": "from-the-env"})

    assert run.code == 0, run.stderr.getvalue()
    [(username, email, hashed, _, _)] = _users(database)
    assert (username, email) == ("admin", "admin@example.com")
    assert verify_password(hashed, "from-the-env")


def test_existing_username_is_a_clear_error(database: Path) -> None:
    assert Run(environ={"ADMIN_PASSWORD": "first-password"}).code == 0

    again = Run("--email", "other@example.com", environ={"ADMIN_PASSWORD": "second-password"})

    assert again.code == 1
    assert again.stderr.getvalue() == (
        "reference_app.create_admin: error: a user named 'admin' already exists\n"
    )
    assert len(_users(database)) == 1


def test_existing_email_is_refused(database: Path) -> None:
    assert Run("--email", "ops@example.com", environ={"ADMIN_PASSWORD": "password-1"}).code == 0

    again = Run(
        "--username", "ops", "--email", "ops@example.com", environ={"ADMIN_PASSWORD": "password-2"}
    )

    assert again.code == 1
    assert "ops@example.com" in again.stderr.getvalue()


def test_profile_minimum_length(database: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert Run("--username", "dev", environ={"ADMIN_PASSWORD": "eight-ch"}).code == 0
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("SECRET_KEY", STRONG_SECRET)

    short = Run("--username", "prod", environ={"ADMIN_PASSWORD": "Eleven-chr1"})
    weak = Run("--username", "prod", environ={"ADMIN_PASSWORD": "twelve-chars"})
    long_enough = Run("--username", "prod", environ={"ADMIN_PASSWORD": "Twelve-char1"})

    assert short.code == weak.code == 1
    assert "at least 12 characters" in short.stderr.getvalue()
    assert "at least 3 of lower case" in weak.stderr.getvalue()
    assert long_enough.code == 0, long_enough.stderr.getvalue()
    assert [user[0] for user in _users(database)] == ["dev", "prod"]


def test_no_password_without_a_terminal(database: Path) -> None:
    run = Run()

    assert run.code == 1
    assert "--password-stdin" in run.stderr.getvalue()
    assert _users(database) == []


@pytest.mark.parametrize(
    "argv", [("--username", "a b"), ("--username", "x"), ("--email", "not-an-email")]
)
def test_bad_names_are_refused(database: Path, argv: tuple[str, ...]) -> None:
    run = Run(*argv, environ={"ADMIN_PASSWORD": "long-enough"})

    assert run.code == 1
    assert _users(database) == []


def test_unmigrated_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'blank.db'}")

    run = Run(environ={"ADMIN_PASSWORD": "long-enough"})

    assert run.code == 1
    assert "reference_app migrate" in run.stderr.getvalue()


def test_bad_settings_exit_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("SECRET_KEY", "changeme")

    run = Run(environ={"ADMIN_PASSWORD": "long-enough-password"})

    assert run.code == 2
    assert run.stderr.getvalue().count("\n") == 1


def test_runs_as_a_module(database: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "reference_app.create_admin", "--password-stdin"],
        input="module-password\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert _users(database)[0][0] == "admin"


def test_hashes_are_salted_and_current() -> None:
    first, second = hash_password("same"), hash_password("same")

    assert first != second
    assert not needs_rehash(first)
    assert not verify_password("not-a-hash", "same")


def test_unreachable_database_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "dir.db").mkdir()
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'dir.db'}")

    run = Run(environ={"ADMIN_PASSWORD": "long-enough"})

    assert run.code == 1
    assert run.stderr.getvalue() == (
        "reference_app.create_admin: error: database error: "
        "OperationalError: unable to open database file\n"
    )


def _totp_columns(path: Path) -> list[tuple[str, str | None, int]]:
    connection = sqlite3.connect(path)
    try:
        return connection.execute("SELECT username, totp_secret, is_admin FROM users").fetchall()
    finally:
        connection.close()


def test_an_admin_is_enrolled_in_totp_and_shown_the_uri_once(database: Path) -> None:
    run = Run("--username", "root", environ={"ADMIN_PASSWORD": "long-enough"})

    assert run.code == 0, run.stderr.getvalue()
    lines = run.stdout.getvalue().splitlines()
    assert lines[1].startswith("totp: otpauth://totp/")
    [(_, secret, _)] = _totp_columns(database)
    assert secret is not None
    assert f"secret={secret}&" in lines[1]
    assert pyotp.TOTP(secret).verify(pyotp.TOTP(secret).now())


def test_no_2fa_skips_enrolment_outside_production_only(
    database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dev = Run("--username", "dev", "--no-2fa", environ={"ADMIN_PASSWORD": "long-enough"})
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("SECRET_KEY", STRONG_SECRET)
    prod = Run("--username", "prod", "--no-2fa", environ={"ADMIN_PASSWORD": "Twelve-char1"})

    assert dev.code == 0
    assert "totp:" not in dev.stdout.getvalue()
    assert prod.code == 1
    assert prod.stderr.getvalue() == (
        "reference_app.create_admin: error: --no-2fa is refused in production: "
        "administrators need 2FA\n"
    )
    assert _totp_columns(database) == [("dev", None, 1)]


def test_create_user_makes_a_plain_user_without_2fa(database: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "reference_app",
            "create-user",
            "--username",
            "plain",
            "--password-stdin",
        ],
        input="long-enough\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "ADMIN_PASSWORD": "", "REFERENCE_APP_MUTANT": ""},
    )
    missing = subprocess.run(
        [sys.executable, "-m", "reference_app", "create-user"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout == "created user 'plain' <plain@example.com> (id 1)\n"
    assert _totp_columns(database) == [("plain", None, 0)]
    assert missing.returncode == 2
    assert "--username" in missing.stderr


def test_admin_without_2fa_mutant_reaches_the_command(database: Path) -> None:
    from reference_app.input_mutants import undo_replacements

    try:
        run = Run(
            "--username",
            "root",
            environ={"ADMIN_PASSWORD": "long-enough", "REFERENCE_APP_MUTANT": "admin-without-2fa"},
        )
    finally:
        undo_replacements()

    assert run.code == 0
    assert "totp:" not in run.stdout.getvalue()
    assert _totp_columns(database) == [("root", None, 1)]
