"""Login attempts with a lock, and the TOTP second factor: state kept in the users table, so
every replica sees the same counts and codes, and a restart forgets none of them."""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable
from datetime import datetime, timedelta

import pyotp
from sqlalchemy import and_, case, null, or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from reference_app.core.config import Profile
from reference_app.models import User, utc_now

TOTP_ISSUER = "Formulas API"
TOTP_DIGITS = 6
# codes of the previous and next 30 s step are accepted too: clocks drift
TOTP_SKEW_STEPS = 1


class LoginAttempts:
    """Consecutive failed logins per account; ``max_attempts`` of them lock it for
    ``lockout_s`` seconds from the last one. A success resets the count."""

    def __init__(
        self, max_attempts: int, lockout_s: int, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self.max_attempts = max_attempts
        self.lockout_s = lockout_s
        self.clock = clock

    async def locked_until(self, session: AsyncSession, user: User) -> datetime | None:
        """When the account's lock ends, or None when it is not locked now."""
        if user.locked_until is not None and user.locked_until > self.clock():
            return user.locked_until
        return None

    async def failed(self, session: AsyncSession, user: User) -> None:
        now = self.clock()
        expired = and_(User.locked_until.is_not(None), User.locked_until <= now)
        # one statement, so replicas failing at once count every attempt
        counted = await session.execute(
            update(User)
            .where(User.id == user.id)
            .values(
                failed_logins=case((expired, 1), else_=User.failed_logins + 1),
                locked_until=case((expired, null()), else_=User.locked_until),
            )
            .returning(User.failed_logins)
            .execution_options(synchronize_session=False)
        )
        if counted.scalar_one() >= self.max_attempts:
            await session.execute(
                update(User)
                .where(User.id == user.id, or_(User.locked_until.is_(None), expired))
                .values(locked_until=now + timedelta(seconds=self.lockout_s))
                .execution_options(synchronize_session=False)
            )
        await session.commit()

    async def succeeded(self, session: AsyncSession, user: User) -> None:
        if user.failed_logins or user.locked_until is not None:
            await session.execute(
                update(User)
                .where(User.id == user.id)
                .values(failed_logins=0, locked_until=None)
                .execution_options(synchronize_session=False)
            )
            await session.commit()


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, username: str) -> str:
    """The otpauth:// URI an authenticator app scans."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=TOTP_ISSUER)


def matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step whose code ``code`` is (within the allowed skew), or None."""
    if len(code) != TOTP_DIGITS or not code.isascii() or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(time.time() if now is None else now)
    for step in range(current - TOTP_SKEW_STEPS, current + TOTP_SKEW_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


class SecondFactor:
    """Who needs a one-time code, and whether one is valid and unused."""

    def __init__(self, admins_required: bool) -> None:
        self.admins_required = admins_required

    @classmethod
    def of(cls, profile: Profile) -> SecondFactor:
        return cls(admins_required=profile.admin_2fa_required)

    def required(self, user: User) -> bool:
        """Enrolled accounts always; administrators also where the profile demands it (an
        administrator without enrolment then cannot log in until create_admin enrols one)."""
        return user.totp_secret is not None or (user.is_admin and self.admins_required)

    async def accept(self, session: AsyncSession, user: User, code: str | None) -> bool:
        if not code or user.totp_secret is None:
            return False
        step = matching_step(user.totp_secret, code)
        if step is None:
            return False
        return await self.claim_step(session, user, step)

    async def claim_step(self, session: AsyncSession, user: User, step: int) -> bool:
        """Record ``step`` as used; False when it or a later one already was (a replay).
        One conditional update, so two replicas cannot both accept the same code."""
        claimed = await session.execute(
            update(User)
            .where(
                User.id == user.id,
                or_(User.totp_last_step.is_(None), User.totp_last_step < step),
            )
            .values(totp_last_step=step)
            .execution_options(synchronize_session=False)
        )
        await session.commit()
        return bool(getattr(claimed, "rowcount", 0) == 1)
