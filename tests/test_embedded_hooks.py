"""The embedded target's test hooks: stated facts, audit records, variants, user accounts."""

from __future__ import annotations

from pathlib import Path

import httpx
import pyotp
import pytest

from harness.probes.audit import wait_for_records
from harness.probes.http import client_for
from harness.stacks.identity import LOCKOUT_S, identity_facts
from harness.targets.base import Capability
from harness.targets.deployment import (
    DENIED_ADDRESS,
    check_settings,
    read_audit_log,
    settings_env,
    with_facts,
)
from harness.targets.embedded import EmbeddedTarget


def test_settings_env_and_facts_merge(tmp_path: Path) -> None:
    env = settings_env({"ip_denylist": ["127.0.0.9", "10.0.0.0/8"], "profile": "x"}, tmp_path)
    assert env["SECURITY_IP_BLACKLIST"] == "127.0.0.9,10.0.0.0/8"
    assert env["ENVIRONMENT"] == "x"
    assert env["SECURITY_AUDIT_LOG_PATH"] == str(tmp_path)
    with pytest.raises(KeyError, match="unknown deployment settings"):
        check_settings({"ip_blocklist": []})
    params: dict[str, list[str]] = {"ip_denylist": [], "trusted_proxies": []}
    facts = {"ip_denylist": ["127.0.0.9"], "trusted_proxies": ["127.0.0.1"], "other": 1}
    merged = with_facts(params, facts, {"params.trusted_proxies": "cli"})
    assert merged == {"ip_denylist": ["127.0.0.9"], "trusted_proxies": []}
    assert read_audit_log(tmp_path / "missing.log") == []


def test_hooks_of_a_running_app() -> None:
    target = EmbeddedTarget(use_redis=False, use_frontend=False).start_all()
    try:
        for capability in (Capability.AUDIT_LOG, Capability.VARIANTS, Capability.USERS):
            assert target.has(capability)
        assert target.facts["ip_denylist"] == [DENIED_ADDRESS]
        target.create_user("hook-user", "A long enough passw0rd")
        login = httpx.post(
            target.url + "/api/v1/auth/login",
            json={"username": "hook-user", "password": "A long enough passw0rd"},
            headers={"X-Request-ID": "hook-login"},
        )
        assert login.status_code == 200, login.text
        # the record is written once the response is complete: it may trail the client a bit
        (record,) = wait_for_records(target.audit_records, ["hook-login"])["hook-login"]
        assert record["outcome"] == "success"
        with target.variant(ip_allowlist=["127.0.0.1"], profile="development") as variant:
            assert variant.url != target.url
            assert variant.facts["ip_allowlist"] == ["127.0.0.1"]
            assert httpx.get(variant.url + "/health").status_code == 200
            with client_for(variant.url, local_address="127.0.0.251") as outsider:
                assert outsider.get("/health").status_code == 403
            workdir = variant.workdir
        assert not workdir.exists()  # the variant is gone after the block
    finally:
        target.close()


def test_identity_facts_follow_the_profile_and_the_environment() -> None:
    assert identity_facts("production") == {
        "login_max_attempts": 3,
        "lockout_s": 3600,
        "min_password_length": 12,
        "password_min_classes": 3,
    }
    development = identity_facts("development", {"LOCKOUT_SECONDS": "5", "LOGIN_MAX_ATTEMPTS": ""})
    assert development == {
        "login_max_attempts": 10,
        "lockout_s": 5,
        "min_password_length": 8,
        "password_min_classes": 1,
    }


def test_admins_are_created_with_a_second_factor() -> None:
    target = EmbeddedTarget(use_redis=False, use_frontend=False).start_all()
    try:
        assert target.facts["lockout_s"] == LOCKOUT_S
        assert target.facts["login_max_attempts"] == 3
        password = "Admin-passw0rd-long"
        secret = target.create_admin("hook-admin", password)
        assert len(secret) == 32
        login = target.url + "/api/v1/auth/login"
        body = {"username": "hook-admin", "password": password}
        without = httpx.post(login, json=body)
        assert without.status_code == 401
        assert without.json()["otp_required"] is True
        with_code = httpx.post(login, json={**body, "otp": pyotp.TOTP(secret).now()})
        assert with_code.status_code == 200, with_code.text
    finally:
        target.close()
