"""The embedded target's test hooks: stated facts, audit records, variants, user accounts."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from harness.probes.audit import wait_for_records
from harness.probes.http import client_for
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
        target.create_user("hook-user", "a long enough password")
        login = httpx.post(
            target.url + "/api/v1/auth/login",
            json={"username": "hook-user", "password": "a long enough password"},
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
