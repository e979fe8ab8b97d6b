"""Security settings the harness starts the reference app with, and its test hooks.

The embedded target starts the app with a deny-listed loopback address of its own, trusts the
address its nginx frontend connects from, and writes the audit log to a file in its workdir;
``Target.facts`` reports the lists, so checks know them without the user setting
``ip_denylist`` / ``trusted_proxies`` (``with_facts``).
"""

from __future__ import annotations

import subprocess
import sys
import urllib.parse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.errors import TargetStartError
from harness.probes.audit import parse_records
from harness.stacks.clients import DENIED_SOURCE

# outside 127.0.0.10-250, which the suites' clients use (harness.probes.http); the container
# stack deny-lists the same source
DENIED_ADDRESS = DENIED_SOURCE
# the address the embedded nginx frontend connects to the app from
FRONTEND_SOURCE = "127.0.0.1"

# the load generator's address (locust connects to a 127.0.0.1 target from 127.0.0.1): exempt
# from rate limiting, as a deployment exempts its load generator; the checks' own clients
# send from 127.0.0.10-250 and stay limited
LOAD_GENERATOR_ADDRESS = "127.0.0.1"

DEFAULT_SETTINGS: Mapping[str, Any] = {
    "ip_denylist": [DENIED_ADDRESS],
    "ip_allowlist": [],
    "trusted_proxies": [FRONTEND_SOURCE],
    "rate_limit_exempt": [LOAD_GENERATOR_ADDRESS],
}

# deployment setting -> the reference app's environment variable
_ENV_NAMES = {
    "ip_denylist": "SECURITY_IP_BLACKLIST",
    "ip_allowlist": "SECURITY_IP_WHITELIST",
    "trusted_proxies": "SECURITY_TRUSTED_PROXIES",
    "rate_limit_exempt": "SECURITY_RATE_LIMIT_EXEMPT",
    "profile": "ENVIRONMENT",
    # the account lock (a variant with a short window proves the expiry)
    "login_max_attempts": "LOGIN_MAX_ATTEMPTS",
    "lockout_s": "LOCKOUT_SECONDS",
}


def check_settings(settings: Mapping[str, Any]) -> None:
    unknown = sorted(set(settings) - set(_ENV_NAMES))
    if unknown:
        raise KeyError(f"unknown deployment settings {unknown}; known: {sorted(_ENV_NAMES)}")


def settings_vars(settings: Mapping[str, Any]) -> dict[str, str]:
    """The reference app's environment variables for ``settings``."""
    check_settings(settings)
    return {_ENV_NAMES[name]: _env_value(value) for name, value in settings.items()}


def _env_value(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return ",".join(value)


def settings_env(settings: Mapping[str, Any], audit_log: Path) -> dict[str, str]:
    """The reference app's environment variables for ``settings`` and the audit log file."""
    return {"SECURITY_AUDIT_LOG_PATH": str(audit_log), **settings_vars(settings)}


def read_audit_log(path: Path) -> list[dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    return parse_records(text)


def _run_command(
    env: Mapping[str, str], argv: Sequence[str], username: str, password: str, cwd: Path
) -> str:
    """Run a reference-app command that reads the password from stdin; its stdout."""
    result = subprocess.run(
        [sys.executable, "-m", *argv, "--username", username, "--password-stdin"],
        input=password + "\n",
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode != 0:
        reason = (result.stderr or result.stdout).strip().splitlines()
        raise TargetStartError(
            f"creating user {username!r} failed: {reason[-1] if reason else result.returncode}"
        )
    return result.stdout


def create_user(env: Mapping[str, str], username: str, password: str, cwd: Path) -> None:
    """Run ``python -m reference_app create-user`` (a plain user) against the app's database."""
    _run_command(env, ["reference_app", "create-user"], username, password, cwd)


def create_admin(env: Mapping[str, str], username: str, password: str, cwd: Path) -> str:
    """Run ``python -m reference_app.create_admin``; the TOTP secret it enrolled ("" if none)."""
    output = _run_command(env, ["reference_app.create_admin"], username, password, cwd)
    return totp_secret(output)


def totp_secret(output: str) -> str:
    """The secret of create_admin's ``totp: otpauth://...`` line; "" when it printed none."""
    for line in output.splitlines():
        if line.startswith("totp: "):
            query = urllib.parse.urlsplit(line.removeprefix("totp: ").strip()).query
            return urllib.parse.parse_qs(query).get("secret", [""])[0]
    return ""


def with_facts(
    params: Mapping[str, Any], facts: Mapping[str, Any], sources: Mapping[str, str]
) -> dict[str, Any]:
    """``params`` with the target's ``facts`` for the parameters the user did not set."""
    merged = dict(params)
    for name, value in facts.items():
        if name in merged and f"params.{name}" not in sources:
            merged[name] = value
    return merged
