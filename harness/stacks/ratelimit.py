"""The reference app's rate limiter as the harness configures it in the deployments it starts
(the embedded app, the container stack); ``Target.facts`` tell the checks what was applied."""

from __future__ import annotations

# the reference app's rate-limit window in the deployments the harness starts: the spec's
# 60 s would make every window check slow (and, on a container stack, where the whole gate
# shares one client address, the gate itself); ``facts`` tell the checks
RATE_LIMIT_PERIOD_S = 10
# development allows 1000 requests a window: a burst of 1001 takes longer than 10 s here
DEVELOPMENT_RATE_LIMIT_PERIOD_S = 60


def rate_limit_period_s(profile: str) -> int:
    return RATE_LIMIT_PERIOD_S if profile == "production" else DEVELOPMENT_RATE_LIMIT_PERIOD_S


def rate_limit_env(profile: str) -> dict[str, str]:
    """SECURITY_* settings of the reference app's limiter: the profile's limits (login 5,
    development 50) per ``rate_limit_period_s(profile)``."""
    login_calls = 5 if profile == "production" else 50
    period = rate_limit_period_s(profile)
    return {
        "SECURITY_RATE_LIMIT_PERIOD": str(period),
        "SECURITY_ENDPOINT_LIMITS": f"/api/v1/auth/login={login_calls}/{period}",
    }


def rate_limit_facts(profile: str) -> dict[str, int]:
    """What the checks must know of the limiter the harness configured."""
    period = rate_limit_period_s(profile)
    return {"rate_limit_period_s": period, "login_rate_limit_period_s": period}
