"""Create an administrator: `python -m reference_app.create_admin [--username admin]`, or a
plain user: `python -m reference_app create-user --username U`.

The password comes from stdin with --password-stdin, else from ADMIN_PASSWORD, else from
an interactive prompt; it must meet the active profile's policy. An administrator is enrolled
in TOTP: the `totp: otpauth://...` line is shown once, for an authenticator app to scan.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Mapping, Sequence
from typing import TextIO

from sqlalchemy import inspect, or_, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from reference_app.core.config import Profile, Settings, SettingsError, get_settings
from reference_app.core.database import Database
from reference_app.core.identity import new_totp_secret, totp_uri
from reference_app.core.input_validation import (
    InputValidationError,
    password_problem,
    validate_email,
    validate_username,
)
from reference_app.core.probes import describe_failure, url_secrets
from reference_app.core.security import hash_password
from reference_app.models import User

PROG = "reference_app.create_admin"
USER_PROG = "reference_app create-user"


class AdminError(Exception):
    """A reason to stop that the operator can act on; printed without a traceback."""


def _parser(admin: bool) -> argparse.ArgumentParser:
    if admin:
        parser = argparse.ArgumentParser(prog=PROG, description="Create an administrator.")
        parser.add_argument("--username", default="admin", help="login name (default: admin)")
        parser.add_argument(
            "--no-2fa",
            action="store_true",
            help="do not enrol a TOTP second factor (refused in production)",
        )
    else:
        parser = argparse.ArgumentParser(prog=USER_PROG, description="Create a plain user.")
        parser.add_argument("--username", required=True, help="login name")
    parser.add_argument("--email", help="e-mail address (default: USERNAME@example.com)")
    parser.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input",
    )
    return parser


def read_password(from_stdin: bool, stdin: TextIO, environ: Mapping[str, str]) -> str:
    """The new password from stdin, ADMIN_PASSWORD or a prompt, in that order."""
    if from_stdin:
        password = stdin.readline().rstrip("\r\n")
        if not password:
            raise AdminError("--password-stdin given but standard input had no password")
        return password
    if environ.get("ADMIN_PASSWORD"):
        return environ["ADMIN_PASSWORD"]
    if not stdin.isatty():
        # getpass would fall back to echoing the password; refuse instead.
        raise AdminError(
            "no password: use --password-stdin, set ADMIN_PASSWORD or run in a terminal"
        )
    password = getpass.getpass("Password: ")
    if getpass.getpass("Repeat password: ") != password:
        raise AdminError("the passwords do not match")
    return password


def enrol_totp(profile: Profile, no_2fa: bool) -> str | None:
    """A new TOTP secret for an administrator, or None where --no-2fa may skip it."""
    if no_2fa and profile.admin_2fa_required:
        raise AdminError(f"--no-2fa is refused in {profile.name}: administrators need 2FA")
    return None if no_2fa else new_totp_secret()


async def create_admin_user(
    settings: Settings,
    username: str,
    email: str,
    password: str,
    *,
    admin: bool = True,
    totp_secret: str | None = None,
) -> User:
    """Insert an active account; AdminError if the name or e-mail is taken."""
    database = Database(settings)
    try:
        async with database.engine.connect() as connection:
            migrated = await connection.run_sync(lambda sync: inspect(sync).has_table("users"))
        if not migrated:
            raise AdminError(
                "the database has no users table; run `python -m reference_app migrate`"
            )
        async with database.sessionmaker() as session:
            taken = await session.scalar(
                select(User).where(or_(User.username == username, User.email == email))
            )
            if taken is not None and taken.username == username:
                raise AdminError(f"a user named {username!r} already exists")
            if taken is not None:
                raise AdminError(f"the e-mail {email!r} is already in use")
            user = User(
                username=username,
                email=email,
                hashed_password=hash_password(password),
                is_admin=admin,
                is_active=True,
                totp_secret=totp_secret,
            )
            session.add(user)
            try:
                await session.commit()
            except IntegrityError:
                # Another process created the same user between our check and insert.
                raise AdminError(
                    f"a user named {username!r} or e-mail {email!r} already exists"
                ) from None
            return user
    finally:
        await database.dispose()


def main(
    argv: Sequence[str] | None = None,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    environ: Mapping[str, str] | None = None,
    admin: bool = True,
) -> int:
    """Run the command; returns 0 on success, 1 on a refused request, 2 on bad settings."""
    from reference_app.mutants import apply_process_mutant

    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    environ = os.environ if environ is None else environ
    args = _parser(admin).parse_args(argv)

    def fail(message: str, code: int) -> int:
        stderr.write(f"{PROG if admin else USER_PROG}: error: {message}\n")
        return code

    try:
        settings = get_settings()
        apply_process_mutant(environ)
    except (SettingsError, KeyError) as exc:
        return fail(str(exc), 2)
    try:
        username = validate_username(args.username)
        email = validate_email(args.email or f"{username}@example.com")
        password = read_password(args.password_stdin, stdin, environ)
        problem = password_problem(password, settings.profile, username)
        if problem is not None:
            raise AdminError(problem)
        secret = enrol_totp(settings.profile, args.no_2fa) if admin else None
        user = asyncio.run(
            create_admin_user(settings, username, email, password, admin=admin, totp_secret=secret)
        )
    except (AdminError, InputValidationError) as exc:
        return fail(str(exc), 1)
    except (SQLAlchemyError, OSError) as exc:
        reason = describe_failure(exc, url_secrets(settings.database_url))
        return fail(f"database error: {reason}", 1)
    kind = "administrator" if admin else "user"
    stdout.write(f"created {kind} {user.username!r} <{user.email}> (id {user.id})\n")
    if secret is not None:
        stdout.write(f"totp: {totp_uri(secret, user.username)}\n")
    return 0


if __name__ == "__main__":
    # the package's module, not this __main__ copy: process mutants replace its functions
    from reference_app.create_admin import main as package_main

    sys.exit(package_main())
