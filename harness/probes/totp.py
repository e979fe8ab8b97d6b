"""TOTP codes for the 2FA checks (CFG-2FA, CFG-CHECK-ADMIN-2FA), computed with pyotp.

A replay is only proven when the server cannot refuse the code for being stale: the valid
login is sent early enough in its 30-second step that the replay follows within the same
step, so a refused replay means the server remembered the used code.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pyotp

from harness.report.redaction import register

# the valid code and its replay must both be sent within one step with this much to spare
MIN_STEP_LEFT_S = 8.0


def authenticator(secret: str) -> pyotp.TOTP:
    """The TOTP of ``secret`` (base32); the secret is registered, so no report shows it."""
    register(secret)
    return pyotp.TOTP(secret)


def seconds_left(totp: pyotp.TOTP, now: float) -> float:
    return totp.interval - (now % totp.interval)


def fresh_code(
    totp: pyotp.TOTP,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """The current code, waiting for the next step when too little of this one is left."""
    left = seconds_left(totp, clock())
    if left < MIN_STEP_LEFT_S:
        sleep(left + 0.2)
    # the code itself is not registered as a secret: six digits would mask numbers in every
    # report, and it is worthless once its step is over (the otp field is masked anyway)
    return totp.at(clock())


def wrong_code(totp: pyotp.TOTP, now: float, window: int = 2) -> str:
    """A well-formed code no step within ``window`` steps of ``now`` accepts."""
    near = {totp.at(now + step * totp.interval) for step in range(-window, window + 1)}
    candidate = int(totp.at(now))
    while True:
        candidate = (candidate + 137_731) % 10**totp.digits
        text = str(candidate).zfill(totp.digits)
        if text not in near:
            return text
