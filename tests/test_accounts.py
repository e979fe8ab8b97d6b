"""Accounts of the identity and upload checks: made through the target's hook, or named by
parameters (a skip naming them otherwise); every password and TOTP secret is a secret."""

from __future__ import annotations

import re
from typing import Any

import pytest

from harness.report import redaction
from harness.targets.accounts import admin_account, new_password, user_account
from harness.targets.base import Capability, Target
from harness.targets.deployment import check_settings, settings_vars


class _Accounts(Target):
    kind = "fake"

    def __init__(self) -> None:
        super().__init__("http://127.0.0.1:9")
        self.created: list[tuple[str, str, str]] = []

    @property
    def capabilities(self) -> frozenset[Capability]:
        return super().capabilities | {Capability.USERS}

    def create_user(self, username: str, password: str) -> None:
        self.created.append(("user", username, password))

    def create_admin(self, username: str, password: str) -> str:
        self.created.append(("admin", username, password))
        return "JBSWY3DPEHPK3PXPJBSWY3DP"


def test_accounts_are_made_with_policy_passwords_and_registered() -> None:
    target = _Accounts()
    user = user_account(target, {}, "x")
    admin = admin_account(target, {"admin_password": "Given-admin-password-1"})
    assert [kind for kind, _, _ in target.created] == ["user", "admin"]
    assert re.fullmatch(r"[A-Za-z0-9_.-]{3,32}", user.username)
    assert len(user.password) >= 12
    assert admin.password == "Given-admin-password-1"
    assert admin.totp_secret == "JBSWY3DPEHPK3PXPJBSWY3DP"
    for secret in (user.password, admin.password, admin.totp_secret):
        assert secret in redaction.registered()


def test_passwords_have_four_classes() -> None:
    password = new_password()
    assert re.search(r"[a-z]", password)
    assert re.search(r"[A-Z]", password)
    assert re.search(r"\d", password)
    assert re.search(r"[^A-Za-z0-9]", password)


@pytest.mark.parametrize(
    ("make", "named"),
    [
        (lambda t, p: user_account(t, p, "x"), "login_username"),
        (lambda t, p: user_account(t, p, "x", lockable=True), "lockable_username"),
        (admin_account, "admin_username"),
    ],
)
def test_without_a_hook_the_parameters_are_named(make: Any, named: str) -> None:
    with pytest.raises(pytest.skip.Exception, match=f"set --param {named}=NAME"):
        make(Target("http://127.0.0.1:9"), {})


def test_given_accounts_are_used_and_their_secrets_registered() -> None:
    given = {"lockable_username": "locky", "lockable_password": "Lockable-password-9"}
    account = user_account(Target("http://127.0.0.1:9"), given, "x", lockable=True)
    assert (account.username, account.password) == ("locky", "Lockable-password-9")
    assert "Lockable-password-9" in redaction.registered()
    admin = {"admin_username": "root", "admin_password": "Admin-password-9"}
    with pytest.raises(pytest.skip.Exception, match="admin_totp_secret"):
        admin_account(Target("http://127.0.0.1:9"), admin)


def test_lock_settings_of_a_variant_map_to_the_reference_app() -> None:
    check_settings({"lockout_s": 6, "login_max_attempts": 3})
    assert settings_vars({"lockout_s": 6, "login_max_attempts": 3}) == {
        "LOCKOUT_SECONDS": "6",
        "LOGIN_MAX_ATTEMPTS": "3",
    }
