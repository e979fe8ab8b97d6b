"""The spec's Security Checklist, judged from the production environment file the backend gets
(``--env-file`` of ``harness audit-config``, the parameter ``audit_env_file``): secrets,
placeholders, CORS, rate limiting, 2FA, debug, the database URL's SSL and the IP allow-list.
Every finding names ``path:line``; a secret's value is compared, never shown."""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from harness.probes.config_audit import (
    Setting,
    key_weakness,
    origin_problems,
    password_problems,
    placeholder_problems,
    truth,
)
from harness.probes.repo_findings import finding, judge
from harness.report.evidence import Evidence
from harness.targets.configuration import Deployment, open_deployment
from harness.targets.project import Project

requirement = pytest.mark.requirement
CORS = ("SECURITY_CORS_ORIGINS", "CORS_ORIGINS", "BACKEND_CORS_ORIGINS", "ALLOWED_ORIGINS")
RATE_ENABLED = ("SECURITY_RATE_LIMIT_ENABLED", "RATE_LIMIT_ENABLED")
RATE_CALLS = ("SECURITY_RATE_LIMIT_CALLS", "RATE_LIMIT_CALLS")
RATE_PERIOD = ("SECURITY_RATE_LIMIT_PERIOD", "RATE_LIMIT_PERIOD")
ADMIN_2FA = ("ADMIN_2FA_REQUIRED", "SECURITY_ADMIN_2FA_REQUIRED")
ALLOWLIST = ("SECURITY_IP_WHITELIST", "IP_WHITELIST", "SECURITY_IP_ALLOWLIST", "IP_ALLOWLIST")
_SSL_MODES = {"sslmode": ("require", "verify-ca", "verify-full"),
              "ssl": ("require", "verify-ca", "verify-full", "true")}  # fmt: skip


@pytest.fixture
def production(project: Project, params: dict[str, Any], evidence: Evidence) -> Deployment:
    """The deployment as its production env file configures it; skipped when only the
    example file exists, whose secrets are placeholders by design."""
    deployment = open_deployment(project, params)
    evidence.note("env file", deployment.env.label)
    if deployment.env.is_example:
        pytest.skip(
            f"needs the production env file: none at {params['audit_env_file']}, and "
            f"{deployment.env.label} holds placeholders by design: "
            "use --env-file FILE or --param audit_env_file=FILE"
        )
    return deployment


def _required(deployment: Deployment, names: tuple[str, ...], what: str) -> Setting:
    found = deployment.backend_setting(*names)
    assert found is not None, (
        f"{deployment.env.label}: {what} is set nowhere ({', '.join(names)}; not in "
        f"{deployment.params['compose_file']} nor {deployment.params['k8s_dir']}/ either)"
    )
    return found


@requirement("CFG-CHECK-DEFAULT-PASSWORDS")
def test_no_password_of_the_env_file_is_a_default(
    production: Deployment, params: dict[str, Any], evidence: Evidence
) -> None:
    problems, found = password_problems(
        production.env, production.example, params["default_credentials"]
    )
    judge(finding("CFG-CHECK-DEFAULT-PASSWORDS", problems, found), evidence, "default passwords")


@requirement("CFG-CHECK-SECRET-KEY")
def test_secret_key_is_strong(
    production: Deployment, params: dict[str, Any], evidence: Evidence
) -> None:
    key = _required(production, ("SECRET_KEY",), "SECRET_KEY")
    example = production.example.get("SECRET_KEY") if production.example else None
    weak = key_weakness(
        key.value, int(params["secret_key_min_length"]), example.value if example else None
    )
    evidence.note("SECRET_KEY", f"{key.where}: {len(key.value)} characters")
    assert weak is None, f"{key.where}: SECRET_KEY {weak}"


@requirement("CFG-CHECK-CORS")
def test_cors_origins_are_explicit(production: Deployment, evidence: Evidence) -> None:
    origins = _required(production, CORS, "the CORS origin list")
    evidence.note("CORS origins", f"{origins.where}: {origins.value}")
    problems = origin_problems(origins)
    assert not problems, "; ".join(problems)


def _positive(setting: Setting | None) -> int | None:
    if setting is None:
        return None
    positive = setting.value.strip().isdigit() and int(setting.value) > 0
    assert positive, (
        f"{setting.where}: {setting.name} is {setting.value!r}, not a positive whole number "
        "(0 or nothing turns rate limiting off)"
    )
    return int(setting.value)


@requirement("CFG-CHECK-RATE-LIMIT")
def test_rate_limiting_is_on(
    production: Deployment, params: dict[str, Any], evidence: Evidence
) -> None:
    enabled = production.backend_setting(*RATE_ENABLED)
    if enabled is not None:
        assert truth(enabled.value) is not False, f"{enabled.where}: {enabled.name} turns it off"
    spec_calls, spec_period = int(params["rate_limit_calls"]), int(params["rate_limit_period_s"])
    calls_setting = production.backend_setting(*RATE_CALLS)
    period_setting = production.backend_setting(*RATE_PERIOD)
    calls = _positive(calls_setting) or spec_calls
    period = _positive(period_setting) or spec_period
    where = ", ".join(s.where for s in (calls_setting, period_setting) if s) or "the app's default"
    evidence.note("limit", f"{calls} per {period} s ({where})")
    assert calls / period <= spec_calls / spec_period, (
        f"{where}: {calls} requests per {period} s is looser than {spec_calls} per {spec_period} s"
    )


@requirement("CFG-CHECK-ADMIN-2FA")
def test_admin_2fa_is_not_turned_off(production: Deployment, evidence: Evidence) -> None:
    setting = production.backend_setting(*ADMIN_2FA)
    if setting is None:
        evidence.note("ADMIN_2FA_REQUIRED", "not set: production requires 2FA by default")
        return
    evidence.note(setting.name, f"{setting.where}: {setting.value}")
    assert truth(setting.value) is True, (
        f"{setting.where}: {setting.name}={setting.value} does not require 2FA for admins"
    )


@requirement("CFG-CHECK-ENV-PLACEHOLDERS")
def test_no_placeholder_is_left(production: Deployment, evidence: Evidence) -> None:
    problems, found = placeholder_problems(production.env, production.example)
    judge(finding("CFG-CHECK-ENV-PLACEHOLDERS", problems, found), evidence, "placeholders")


@requirement("CFG-CHECK-NO-DEBUG")
def test_production_without_debug(production: Deployment, evidence: Evidence) -> None:
    environment = _required(production, ("ENVIRONMENT",), "ENVIRONMENT")
    evidence.note("ENVIRONMENT", f"{environment.where}: {environment.value}")
    assert environment.value.strip().lower() == "production", (
        f"{environment.where}: ENVIRONMENT={environment.value}: the production settings "
        "(password policy, 2FA, HTTPS) do not apply"
    )
    debug = production.backend_setting("DEBUG")
    if debug is not None:
        evidence.note("DEBUG", f"{debug.where}: {debug.value}")
        assert truth(debug.value) is False, f"{debug.where}: DEBUG={debug.value} is not off"


@requirement("CFG-CHECK-DB-SSL")
def test_database_url_requires_ssl(production: Deployment, evidence: Evidence) -> None:
    url = _required(production, ("DATABASE_URL",), "DATABASE_URL")
    parts = urlsplit(url.value)
    if not parts.scheme.startswith("postgres"):
        pytest.skip(f"{url.where}: DATABASE_URL is no PostgreSQL URL ({parts.scheme or 'none'})")
    query = {k.lower(): v[-1].lower() for k, v in parse_qs(parts.query).items()}
    modes = {k: query[k] for k in _SSL_MODES if k in query}
    evidence.note("DATABASE_URL", f"{url.where}: {modes or 'no ssl parameter'}")
    assert any(value in _SSL_MODES[k] for k, value in modes.items()), (
        f"{url.where}: DATABASE_URL connects to PostgreSQL without sslmode=require "
        f"(or ssl=require; found {modes or 'none'})"
    )


@requirement("CFG-CHECK-IP-ALLOWLIST")
def test_ip_allowlist_is_well_formed(production: Deployment, evidence: Evidence) -> None:
    setting = production.backend_setting(*ALLOWLIST)
    entries = [e.strip() for e in setting.value.split(",") if e.strip()] if setting else []
    if setting is None or not entries:
        pytest.skip(
            f"no IP allow-list is configured ({', '.join(ALLOWLIST)}): the checklist asks for "
            "one only if needed; where none is, waive CFG-CHECK-IP-ALLOWLIST with the reason"
        )
    problems = []
    for entry in entries:
        try:
            network = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            problems.append(f"{setting.where}: {setting.name}: {entry!r} is no address or network")
            continue
        if network.prefixlen == 0:
            problems.append(f"{setting.where}: {setting.name}: {entry} admits every address")
    evidence.note(setting.name, f"{setting.where}: {entries}")
    assert not problems, "; ".join(problems)
