"""Mutants of identity and input validation: lockout, 2FA, password length, e-mail, HTML
sanitiser, uploads. Validators are module functions, so most mutants replace one of them
for the whole process (``Mutant.process``), the commands included."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from types import ModuleType
from typing import Any

import email_validator
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from reference_app import create_admin
from reference_app.core import input_validation
from reference_app.core.config import Settings
from reference_app.core.identity import LoginAttempts, SecondFactor
from reference_app.models import User
from reference_app.mutants import Mutant, register_mutant

# (module, attribute, original) of every replacement made, so a test can undo them
_REPLACED: list[tuple[ModuleType, str, Any]] = []


def replace(module: ModuleType, name: str, value: Any) -> None:
    _REPLACED.append((module, name, getattr(module, name)))
    setattr(module, name, value)


def undo_replacements() -> None:
    """Put back every function a process mutant replaced (for tests in one process)."""
    while _REPLACED:
        module, name, original = _REPLACED.pop()
        setattr(module, name, original)


def _untouched(app: FastAPI, settings: Settings) -> None:
    """The defect is in a validator the process mutation replaced."""


def _process_mutant(
    name: str, breaks: tuple[str, ...], description: str, mutation: Callable[[], None]
) -> None:
    register_mutant(Mutant(name, breaks, description, apply=_untouched, process=mutation))


class _MemoryAttempts(LoginAttempts):
    """Counts failures in this process's memory: a restart forgets them, a replica never
    sees them."""

    def __init__(self, max_attempts: int, lockout_s: int) -> None:
        super().__init__(max_attempts, lockout_s)
        self.counts: dict[int, int] = {}
        self.locks: dict[int, datetime] = {}

    async def locked_until(self, session: AsyncSession, user: User) -> datetime | None:
        until = self.locks.get(user.id)
        return until if until is not None and until > self.clock() else None

    async def failed(self, session: AsyncSession, user: User) -> None:
        now = self.clock()
        if user.id in self.locks and self.locks[user.id] <= now:
            del self.locks[user.id]
            self.counts[user.id] = 0
        self.counts[user.id] = self.counts.get(user.id, 0) + 1
        if self.counts[user.id] >= self.max_attempts:
            self.locks[user.id] = now + timedelta(seconds=self.lockout_s)

    async def succeeded(self, session: AsyncSession, user: User) -> None:
        self.counts.pop(user.id, None)
        self.locks.pop(user.id, None)


class _AcceptsReplays(SecondFactor):
    """Checks the code but not whether it was used before."""

    async def claim_step(self, session: AsyncSession, user: User, step: int) -> bool:
        return True


def _lockout_after_4(app: FastAPI, settings: Settings) -> None:
    profile = settings.profile
    app.state.login_attempts = LoginAttempts(
        profile.login_max_attempts + 1, profile.lockout_seconds
    )


def _lockout_in_memory(app: FastAPI, settings: Settings) -> None:
    profile = settings.profile
    app.state.login_attempts = _MemoryAttempts(profile.login_max_attempts, profile.lockout_seconds)


def _admins_without_2fa(app: FastAPI, settings: Settings) -> None:
    app.state.second_factor = SecondFactor(admins_required=False)


def _no_enrolment() -> None:
    replace(create_admin, "enrol_totp", lambda profile, no_2fa: None)


def _totp_replay(app: FastAPI, settings: Settings) -> None:
    app.state.second_factor = _AcceptsReplays(settings.profile.admin_2fa_required)


register_mutant(
    Mutant(
        "lockout-after-4",
        ("CFG-LOGIN-ATTEMPTS",),
        "an account is locked after one failed login more than LOGIN_MAX_ATTEMPTS",
        apply=_lockout_after_4,
    )
)
register_mutant(
    Mutant(
        "lockout-in-memory",
        ("CFG-LOCKOUT",),
        "failed logins are counted in the process's memory: lost on restart, not shared",
        apply=_lockout_in_memory,
    )
)
register_mutant(
    Mutant(
        "admin-without-2fa",
        ("CFG-2FA", "CFG-CHECK-ADMIN-2FA"),
        "create_admin enrols no second factor and administrators log in without a code",
        apply=_admins_without_2fa,
        process=_no_enrolment,
    )
)
register_mutant(
    Mutant(
        "totp-replay",
        ("CFG-2FA",),
        "a one-time code that was already used logs in again",
        apply=_totp_replay,
    )
)


def _length_in_bytes() -> None:
    replace(input_validation, "password_length", lambda password: len(password.encode()))


def _email_a_at_b() -> None:
    def lenient(value: str) -> str:
        # a dotless domain is only for private networks; this accepts a@b
        checked = email_validator.validate_email(
            value, check_deliverability=False, globally_deliverable=False
        )
        return str(checked.normalized)

    replace(input_validation, "parse_email", lenient)


_SCRIPT = re.compile(r"<script\b.*?</script\s*>", re.IGNORECASE | re.DOTALL)


def _strips_only_scripts() -> None:
    replace(input_validation, "clean_html", lambda value: _SCRIPT.sub("", value))


def _type_by_extension() -> None:
    by_extension = {
        extension: media_type
        for media_type, extensions in input_validation.ALLOWED_UPLOADS.items()
        for extension in extensions
    }

    def judged_by_name(name: str, content: bytes) -> str | None:
        return by_extension.get(input_validation.extension_of(name))

    replace(input_validation, "upload_media_type", judged_by_name)


def _name_as_given() -> None:
    replace(input_validation, "sanitize_filename", lambda name: name)


_process_mutant(
    "password-length-bytes",
    ("INP-PASSWORD-STRENGTH", "CFG-PASSWORD-MIN"),
    "a password's length is counted in UTF-8 bytes, not characters",
    _length_in_bytes,
)
_process_mutant(
    "email-accepts-a-at-b",
    ("INP-EMAIL",),
    "the e-mail validator accepts a domain without a dot (a@b)",
    _email_a_at_b,
)
_process_mutant(
    "sanitizer-img-onerror",
    ("INP-HTML-SANITIZE", "INP-XSS"),
    "the HTML sanitiser removes <script> elements only: <img onerror=...> passes",
    _strips_only_scripts,
)
_process_mutant(
    "upload-type-by-extension",
    ("INP-UPLOAD-TYPE",),
    "an upload's type is decided by its name's extension, not its content",
    _type_by_extension,
)
_process_mutant(
    "upload-name-as-given",
    ("INP-UPLOAD-FILENAME",),
    "an upload is stored under the name the client gave, unsanitised",
    _name_as_given,
)
