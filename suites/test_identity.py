"""Security Configuration > Production: limited login attempts, the lockout and TOTP 2FA for
admins (CFG-LOGIN-ATTEMPTS, CFG-LOCKOUT, CFG-2FA, CFG-CHECK-ADMIN-2FA).

Logins are JSON ``{username, password, otp}`` to ``login_path``. Where the target sees client
addresses each login comes from a loopback address of its own, so the per-client login rate
limit (SEC-RL-LOGIN) never stands in for the account's lock. Accounts are made through the
target's test hook (``create_user``, ``create_admin``) or named by parameters
(``lockable_username``, ``admin_username``, ...); no password, token or TOTP secret reaches a
report (harness.report.redaction).
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from harness.errors import UnexpectedAnswer
from harness.probes.http import client_for, next_loopback_address
from harness.probes.logins import LoginAnswer, announced_lock_error, login
from harness.probes.totp import authenticator, fresh_code, wrong_code
from harness.report.evidence import Evidence
from harness.targets import Capability, Target
from harness.targets.accounts import Account, admin_account, user_account

requirement = pytest.mark.requirement
needs_path = pytest.mark.needs_path
pytestmark = needs_path("login_path")
# a lock window short enough to wait out in a check; a longer one is proven on a variant of
# the app with this window (Capability.VARIANTS)
SHORT_LOCKOUT_S = 30
VARIANT_LOCKOUT_S = 6
# from one shared address the per-client login limit (5 a minute) is waited out, not judged
RATE_LIMIT_RETRIES = 2
MAX_RATE_LIMIT_WAIT_S = 65.0
_LOCKED = "locked (423, or 429/403 saying the account is locked)"


class Logins:
    """Signs in to one server of the target, each attempt from a fresh source address where
    it can; a 429 of the login rate limit (no sign of a lock) is retried after its wait."""

    def __init__(self, target: Target, params: dict[str, Any], evidence: Evidence) -> None:
        self.url = target.url
        self.path = params["login_path"]
        self.fresh = target.has(Capability.CLIENT_ADDRESSES)
        self.evidence = evidence

    def __call__(
        self, account: Account, wrong: bool = False, otp: str | None = None, url: str = ""
    ) -> LoginAnswer:
        password = "wrong-" + account.password if wrong else account.password
        for _ in range(RATE_LIMIT_RETRIES + 1):
            source = next_loopback_address() if self.fresh else None
            with client_for(
                url or self.url,
                on_response=self.evidence.exchange,
                local_address=source,
                retry_429=False,  # a lock may answer 429: it must be seen, not waited out
            ) as client:
                answer = login(client, self.path, account.username, password, otp)
            wait = answer.retry_after_s
            if answer.kind != "rate_limited" or wait is None or wait > MAX_RATE_LIMIT_WAIT_S:
                break
            if not self.fresh:  # one shared address: wait out the login rate limit
                time.sleep(wait + 0.5)
        if answer.kind in ("unexpected", "rate_limited"):
            what = "a sign-in, a refusal or a locked account"
            got = answer.shape
            if answer.kind == "rate_limited":
                got += " (the per-client rate limit, no sign of a locked account)"
            raise UnexpectedAnswer(f"POST {self.path}", f"{what} (set login_path)", got)
        return answer


@pytest.fixture
def logins(target: Target, params: dict[str, Any], evidence: Evidence) -> Logins:
    return Logins(target, params, evidence)


def _fail_until_locked(logins: Logins, account: Account, attempts: int, url: str = "") -> float:
    """``attempts`` wrong passwords, every one but the last refused and not locked; returns
    the monotonic time of the last failure's answer."""
    __tracebackhide__ = True
    for number in range(1, attempts + 1):
        answer = logins(account, wrong=True, url=url)
        if number < attempts:
            assert answer.kind != "locked", (
                f"locked after {number} failed logins, expected {attempts}: {answer.shape}"
            )
        assert answer.kind in ("refused", "locked"), f"a wrong password got {answer.shape}"
    return time.monotonic()


def _assert_locked(answer: LoginAnswer, when: str) -> None:
    __tracebackhide__ = True
    assert answer.kind == "locked", (
        f"{when} the right password got {answer.shape}, expected {_LOCKED}"
    )


def _assert_still_locked(
    answer: LoginAnswer, when: str, last_failure: float, lockout_s: float
) -> None:
    """Locked, unless the lock window itself has passed meanwhile (a short window on a
    deployment the harness started): then nothing can be judged."""
    __tracebackhide__ = True
    elapsed = time.monotonic() - last_failure
    if answer.kind == "ok" and elapsed >= lockout_s - 1:
        pytest.skip(
            f"{when}: {elapsed:.0f} s passed since the lock, as long as its window "
            f"(lockout_s {lockout_s:g} s): cannot tell a lost lock from an expired one"
        )
    _assert_locked(answer, when)


@requirement("CFG-LOGIN-ATTEMPTS")
def test_exact_number_of_attempts(
    target: Target, logins: Logins, params: dict[str, Any], evidence: Evidence
) -> None:
    limit = params["login_max_attempts"]
    account = user_account(target, params, "attempts", lockable=True)
    _fail_until_locked(logins, account, limit - 1)
    short = logins(account)
    assert short.kind == "ok", (
        f"after {limit - 1} failed logins the right password got {short.shape}: "
        f"locked before {limit} failures"
    )
    if target.has(Capability.USERS):  # a fresh count; elsewhere the success reset it
        account = user_account(target, params, "attempts", lockable=True)
    _fail_until_locked(logins, account, limit)
    answer = logins(account)
    evidence.note("after the limit", answer.to_json())
    _assert_locked(answer, f"after {limit} failed logins")


@requirement("CFG-LOCKOUT")
def test_lock_holds_and_announces_its_end(
    target: Target, logins: Logins, params: dict[str, Any], evidence: Evidence
) -> None:
    lockout_s, limit = params["lockout_s"], params["login_max_attempts"]
    account = user_account(target, params, "lockout", lockable=True)
    last_failure = _fail_until_locked(logins, account, limit)
    answer = logins(account)
    _assert_locked(answer, "right after the lock")
    since = time.monotonic() - last_failure
    evidence.note("announced", {**answer.to_json(), "since last failure s": round(since, 1)})
    problem = announced_lock_error(answer.unlock_in_s, lockout_s, since)
    assert problem is None, problem
    time.sleep(2)
    _assert_still_locked(logins(account), "2 s later", last_failure, lockout_s)


@requirement("CFG-LOCKOUT")
@pytest.mark.disruptive
def test_lock_survives_a_backend_restart(
    target: Target, logins: Logins, params: dict[str, Any], evidence: Evidence
) -> None:
    """The count of failures and a lock both outlive a restart. The count is judged on any
    window; the lock only where its window outlasts the restart (the started deployments'
    is seconds long)."""
    control = target.require(Capability.CONTROL)
    limit, lockout_s = params["login_max_attempts"], params["lockout_s"]
    counted = user_account(target, params, "restart-count", lockable=True)
    locked = user_account(target, params, "restart-lock", lockable=True)
    _fail_until_locked(logins, counted, limit - 1)
    two = locked.username != counted.username  # one given account serves the count only
    if two:
        last_failure = _fail_until_locked(logins, locked, limit)
        _assert_locked(logins(locked), "before the restart")
    with control.outage("backend"):
        pass
    evidence.note("backend", "stopped and started again")
    if two:
        answer, elapsed = logins(locked), time.monotonic() - last_failure
        evidence.note("lock after the restart", {**answer.to_json(), "elapsed s": round(elapsed)})
        if elapsed < lockout_s - 1:
            _assert_locked(answer, "after a backend restart")
    _fail_until_locked(logins, counted, 1)
    _assert_locked(
        logins(counted),
        f"after {limit - 1} failed logins, a backend restart and one more failure "
        "(the count of failures was lost)",
    )


@requirement("CFG-LOCKOUT")
def test_lock_is_shared_by_replicas(
    target: Target, logins: Logins, params: dict[str, Any], evidence: Evidence
) -> None:
    first, second, *_ = target.require(Capability.REPLICAS)
    account = user_account(target, params, "replicas", lockable=True)
    last_failure = _fail_until_locked(logins, account, params["login_max_attempts"], url=first)
    evidence.note("replicas", {"locked on": first, "tried on": second})
    answer = logins(account, url=second)
    _assert_still_locked(
        answer, f"on the other replica ({second})", last_failure, params["lockout_s"]
    )


def _lock_ends(
    target: Target, maker: Target, lockout_s: float, params: dict[str, Any], evidence: Evidence
) -> LoginAnswer:
    """Lock an account of ``target``; it is locked 1.5 s before the window ends: the answer
    of the right password 1.5 s after it."""
    account = user_account(maker, params, "expiry", lockable=True)
    logins = Logins(target, params, evidence)
    last_failure = _fail_until_locked(logins, account, params["login_max_attempts"])
    _assert_locked(logins(account), "right after the lock")
    time.sleep(max(0.0, last_failure + lockout_s - 1.5 - time.monotonic()))
    _assert_locked(logins(account), f"1.5 s before the {lockout_s:g} s window ends")
    time.sleep(max(0.0, last_failure + lockout_s + 1.5 - time.monotonic()))
    return logins(account)


@requirement("CFG-LOCKOUT")
def test_lock_ends_after_the_window(
    target: Target, params: dict[str, Any], evidence: Evidence
) -> None:
    lockout_s = params["lockout_s"]
    if lockout_s <= SHORT_LOCKOUT_S:  # the deployment's own window can be waited out
        after = _lock_ends(target, target, lockout_s, params, evidence)
    else:
        variants = target.require(Capability.VARIANTS)
        lockout_s = VARIANT_LOCKOUT_S
        with variants.variant(lockout_s=lockout_s) as other:
            evidence.note("variant", {"url": other.url, "lockout_s": lockout_s})
            maker = other if other.has(Capability.USERS) else target  # one database or two
            after = _lock_ends(other, maker, lockout_s, params, evidence)
    assert after.kind == "ok", (
        f"1.5 s after the {lockout_s:g} s lock window the right password got {after.shape}"
    )


def _enrolled_admin(target: Target, params: dict[str, Any]) -> Account:
    __tracebackhide__ = True
    admin = admin_account(target, params)
    assert admin.totp_secret, "create_admin enrolled no second factor: it gave no TOTP secret"
    return admin


@requirement("CFG-CHECK-ADMIN-2FA")
def test_admin_needs_a_second_factor(
    target: Target, logins: Logins, params: dict[str, Any], evidence: Evidence
) -> None:
    admin = _enrolled_admin(target, params)
    answer = logins(admin)
    evidence.note("admin without a code", answer.to_json())
    assert answer.kind != "ok", "an admin signed in with the password alone, no second factor"


@requirement("CFG-2FA")
def test_totp_is_enforced_and_not_replayable(
    target: Target, logins: Logins, params: dict[str, Any], evidence: Evidence
) -> None:
    admin = _enrolled_admin(target, params)
    assert admin.totp_secret is not None
    totp = authenticator(admin.totp_secret)
    outcomes = {"no code": logins(admin)}
    outcomes["wrong code"] = logins(admin, otp=wrong_code(totp, time.time()))
    code = fresh_code(totp)
    outcomes["valid code"] = logins(admin, otp=code)
    outcomes["same code again"] = logins(admin, otp=code)
    evidence.note("logins", {label: answer.to_json() for label, answer in outcomes.items()})
    signed_in = {label for label, answer in outcomes.items() if answer.kind == "ok"}
    assert "valid code" in signed_in, (
        f"a valid current code was refused: {outcomes['valid code'].shape}"
    )
    wrongly = sorted(signed_in - {"valid code"})
    assert not wrongly, f"the admin signed in with {', '.join(wrongly)}"
