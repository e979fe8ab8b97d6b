"""Accounts the identity and upload checks sign in with: created through the target's test
hook (Capability.USERS) where it has one, else named by parameters; every password and TOTP
secret is registered as a secret, so no report shows it."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from harness.report.redaction import register
from harness.targets.base import Capability, Target


@dataclass(frozen=True)
class Account:
    username: str
    password: str
    totp_secret: str | None = None


def new_username(label: str) -> str:
    """A fresh user name within the common rules (letters, digits, dashes; 3-32 chars)."""
    return f"h-{label}-{secrets.token_hex(5)}"[:32]


def new_password() -> str:
    """A random password that passes a strict policy: 28 characters of four classes."""
    return secrets.token_urlsafe(18) + "aA7!"


def _given(params: Mapping[str, Any], prefix: str, what: str) -> tuple[str, str]:
    username, password = params.get(f"{prefix}_username"), params.get(f"{prefix}_password")
    if not username or not password:
        pytest.skip(
            f"needs {what}: the target cannot create accounts; set --param "
            f"{prefix}_username=NAME and --param {prefix}_password=... (or "
            f"HARNESS_PARAM_{prefix.upper()}_PASSWORD)"
        )
    register(password)
    return str(username), str(password)


def user_account(
    target: Target, params: Mapping[str, Any], label: str, *, lockable: bool = False
) -> Account:
    """A plain account: a new one where the target can create accounts (with the password
    of ``login_password`` when set), else ``login_username`` / ``login_password``, or for a
    check that locks it, ``lockable_username`` / ``lockable_password``."""
    if target.has(Capability.USERS):
        password = str(params.get("login_password") or new_password())
        register(password)
        username = new_username(label)
        target.require(Capability.USERS).create_user(username, password)
        return Account(username, password)
    prefix = "lockable" if lockable else "login"
    what = "an account it may lock" if lockable else "an account to sign in with"
    return Account(*_given(params, prefix, what))


def admin_account(target: Target, params: Mapping[str, Any]) -> Account:
    """An admin enrolled in TOTP: made with the deployment's create_admin where the target
    can, else ``admin_username`` / ``admin_password`` / ``admin_totp_secret``."""
    if target.has(Capability.USERS):
        password = str(params.get("admin_password") or new_password())
        register(password)
        username = new_username("admin")
        secret = target.require(Capability.USERS).create_admin(username, password)
        register(secret)
        return Account(username, password, secret or None)
    username, password = _given(params, "admin", "an admin account enrolled in TOTP")
    given = params.get("admin_totp_secret")
    if not given:
        pytest.skip("needs the admin's TOTP secret: set --param admin_totp_secret=BASE32")
    register(str(given))
    return Account(username, password, str(given))
