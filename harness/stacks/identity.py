"""The reference app's identity settings as the harness configures them in the deployments it
starts (the embedded app, the container stack); ``Target.facts`` tell the checks what applies."""

from __future__ import annotations

from collections.abc import Mapping

# the lockout of the deployments the harness starts, in seconds: the spec's hour would make
# a check wait an hour for the lock to end
LOCKOUT_S = 8


def identity_env() -> dict[str, str]:
    """The reference app's variables: the profile's attempts, a lockout of LOCKOUT_S."""
    return {"LOCKOUT_SECONDS": str(LOCKOUT_S)}


def identity_facts(profile: str, env: Mapping[str, str] | None = None) -> dict[str, int]:
    """The reference app's identity values for ``profile`` where ``env`` (the backend's
    variables) sets none of its own (LOGIN_MAX_ATTEMPTS, ...)."""
    env = env or {}
    production = profile == "production"
    defaults = {
        "login_max_attempts": ("LOGIN_MAX_ATTEMPTS", 3 if production else 10),
        "lockout_s": ("LOCKOUT_SECONDS", 3600 if production else 300),
        "min_password_length": ("PASSWORD_MIN_LENGTH", 12 if production else 8),
        "password_min_classes": ("PASSWORD_MIN_CLASSES", 3 if production else 1),
    }
    facts = {}
    for fact, (variable, default) in defaults.items():
        value = env.get(variable, "").strip()
        facts[fact] = int(value) if value.isdigit() else default
    return facts
