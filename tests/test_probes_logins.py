"""Login answers read as signed in, refused, a code required, locked or rate limited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pyotp
import pytest

from harness.probes.logins import announced_lock_error, login, read_login
from harness.probes.totp import fresh_code, wrong_code
from harness.report import redaction

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
DATE = {"date": format_datetime(NOW, usegmt=True)}


def _answer(status: int, body: object = None, **headers: str) -> httpx.Response:
    request = httpx.Request("POST", "http://t/api/v1/auth/login")
    return httpx.Response(status, json=body, headers={**DATE, **headers}, request=request)


def test_signed_in_with_a_token_that_is_registered_as_secret() -> None:
    answer = read_login(_answer(200, {"access_token": "tok-1234567890", "token_type": "bearer"}))
    assert (answer.kind, answer.token) == ("ok", "tok-1234567890")
    assert "tok-1234567890" in redaction.registered()
    assert "tok-1234567890" not in answer.shape


def test_the_reference_lock() -> None:
    until = (NOW + timedelta(seconds=3590)).isoformat()
    answer = read_login(
        _answer(423, {"detail": "account locked", "locked_until": until}, **{"retry-after": "3590"})
    )
    assert answer.kind == "locked"
    assert answer.unlock_in_s == 3590
    assert answer.locked_until_s == pytest.approx(3590)


@pytest.mark.parametrize(
    ("status", "body", "headers", "kind"),
    [
        (429, {"detail": "Account temporarily locked"}, {}, "locked"),
        (403, {"error": "too many failed attempts, account locked"}, {}, "locked"),
        (429, {"detail": "Rate limit exceeded"}, {"retry-after": "10"}, "rate_limited"),
        (403, {"detail": "CSRF token missing"}, {}, "refused"),
        (401, {"detail": "invalid username or password"}, {}, "refused"),
        (401, {"detail": "a one-time code is required", "otp_required": True}, {}, "otp_required"),
        (400, {"message": "2FA code needed"}, {}, "otp_required"),
        (500, {"detail": "boom"}, {}, "unexpected"),
        (404, {"detail": "Not Found"}, {}, "unexpected"),
    ],
)
def test_other_shapes(status: int, body: object, headers: dict[str, str], kind: str) -> None:
    assert read_login(_answer(status, body, **headers)).kind == kind


def test_retry_after_as_an_http_date() -> None:
    later = format_datetime(NOW + timedelta(seconds=120), usegmt=True)
    assert read_login(_answer(423, {}, **{"retry-after": later})).unlock_in_s == 120


def test_login_sends_the_code_only_when_given() -> None:
    sent: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.content)
        return httpx.Response(401, json={"detail": "no"})

    with httpx.Client(transport=httpx.MockTransport(handler), base_url="http://t") as client:
        login(client, "/login", "u", "p")
        login(client, "/login", "u", "p", otp="123456")
    assert b"otp" not in sent[0]
    assert b'"otp":"123456"' in sent[1].replace(b" ", b"")


@pytest.mark.parametrize(
    ("unlock_in", "since", "problem"),
    [
        (3598.0, 1.0, False),
        (3600.0, 0.2, False),
        (3000.0, 1.0, True),  # a shorter lock than announced by the policy
        (None, 1.0, True),
        (7200.0, 1.0, True),
    ],
)
def test_announced_lock_end(unlock_in: float | None, since: float, problem: bool) -> None:
    assert (announced_lock_error(unlock_in, 3600, since) is not None) is problem


def test_wrong_code_is_valid_in_no_nearby_step() -> None:
    totp = pyotp.TOTP(pyotp.random_base32())
    now = 1_700_000_000.0
    code = wrong_code(totp, now)
    assert len(code) == 6
    assert not totp.verify(code, for_time=now, valid_window=2)


def test_fresh_code_waits_for_a_new_step_near_the_end_of_one() -> None:
    totp = pyotp.TOTP(pyotp.random_base32())
    clock = [1_700_000_000.0 // 30 * 30 + 27]  # 3 s left in the step
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    code = fresh_code(totp, clock=lambda: clock[0], sleep=sleep)
    assert slept
    assert slept[0] > 3
    assert code == totp.at(clock[0])
    assert fresh_code(totp, clock=lambda: clock[0], sleep=sleep) == code  # early: no wait
    assert len(slept) == 1
