"""Create an administrator: `python -m reference_app.create_admin [--username admin]`.

The password comes from stdin with --password-stdin, else from ADMIN_PASSWORD, else from
an interactive prompt; it must meet the active profile's policy.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import re
import sys
from collections.abc import Mapping, Sequence
from typing import TextIO

from sqlalchemy import inspect, or_, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from reference_app.core.config import Settings, SettingsError, get_settings
from reference_app.core.database import Database
from reference_app.core.probes import describe_failure, url_secrets
from reference_app.core.security import WeakPasswordError, check_password_policy, hash_password
from reference_app.models import User

PROG = "reference_app.create_admin"
_USERNAME = re.compile(r"^[A-Za-z0-9_.-]{3,50}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_EMAIL_MAX = 254


class AdminError(Exception):
    """A reason to stop that the operator can act on; printed without a traceback."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Create an administrator account.")
    parser.add_argument("--username", default="admin", help="login name (default: admin)")
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


async def create_admin_user(settings: Settings, username: str, email: str, password: str) -> User:
    """Insert an active administrator; AdminError if the name or e-mail is taken."""
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
                is_admin=True,
                is_active=True,
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
) -> int:
    """Run the command; returns 0 on success, 1 on a refused request, 2 on bad settings."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    environ = os.environ if environ is None else environ
    args = _parser().parse_args(argv)

    def fail(message: str, code: int) -> int:
        stderr.write(f"{PROG}: error: {message}\n")
        return code

    try:
        settings = get_settings()
    except SettingsError as exc:
        return fail(str(exc), 2)
    username: str = args.username
    email: str = args.email or f"{username}@example.com"
    if not _USERNAME.match(username):
        return fail("username must be 3-50 letters, digits, '.', '_' or '-'", 1)
    if len(email) > _EMAIL_MAX or not _EMAIL.match(email):
        return fail(f"{email!r} is not an e-mail address", 1)
    try:
        password = read_password(args.password_stdin, stdin, environ)
        check_password_policy(password, settings.profile)
        user = asyncio.run(create_admin_user(settings, username, email, password))
    except (AdminError, WeakPasswordError) as exc:
        return fail(str(exc), 1)
    except (SQLAlchemyError, OSError) as exc:
        reason = describe_failure(exc, url_secrets(settings.database_url))
        return fail(f"database error: {reason}", 1)
    stdout.write(f"created administrator {user.username!r} <{user.email}> (id {user.id})\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
