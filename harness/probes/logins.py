"""What a login answer says (CFG-LOGIN-ATTEMPTS, CFG-LOCKOUT, CFG-2FA): signed in, refused,
a second factor required, or the account locked, and when a lock says it ends.

Deployments answer a locked account in several ways: 423 Locked (the reference app), 429 or
403 with words of a lock in the body, or a ``Retry-After``. A 429 without such a sign is the
per-client rate limit, which is no lock of the account: the caller says so instead of
counting it either way. Any other shape is ``unexpected``, which the check reports as an
answer it cannot judge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal

import httpx

from harness.probes.answers import excerpt
from harness.report.redaction import register

Kind = Literal["ok", "refused", "otp_required", "locked", "rate_limited", "unexpected"]
LOCK_STATUSES = frozenset({423, 429, 403})
REFUSED_STATUSES = frozenset({400, 401, 403})
_LOCK_WORDS = re.compile(r"lock|too many (failed )?(login )?attempts|temporarily|suspend", re.I)
_OTP_WORDS = re.compile(r"one[- ]time|\botp\b|2fa|two[- ]factor|totp|second factor", re.I)
_TOKEN_FIELDS = ("access_token", "token")


@dataclass(frozen=True)
class LoginAnswer:
    kind: Kind
    status: int
    token: str | None = None
    # seconds until the lock ends, as the answer announced it (Retry-After, locked_until)
    retry_after_s: float | None = None
    locked_until_s: float | None = None
    shape: str = ""  # status, content type and the start of the body (secrets masked)

    @property
    def unlock_in_s(self) -> float | None:
        """When the lock ends by the answer: Retry-After, else locked_until."""
        return self.retry_after_s if self.retry_after_s is not None else self.locked_until_s

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "status": self.status}
        if self.unlock_in_s is not None:
            out["unlock_in_s"] = round(self.unlock_in_s, 1)
        return out


def _body(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _server_now(response: httpx.Response) -> datetime:
    date = response.headers.get("date")
    if date:
        try:
            return parsedate_to_datetime(date).astimezone(UTC)
        except (TypeError, ValueError):
            pass
    return datetime.now(UTC)


def retry_after_s(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds (delta-seconds or an HTTP date), or None."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return (when.astimezone(UTC) - _server_now(response)).total_seconds()


def locked_until_s(response: httpx.Response, body: dict[str, Any]) -> float | None:
    """``locked_until`` (ISO 8601) in seconds from the answer's own Date (or now)."""
    value = body.get("locked_until")
    if not isinstance(value, str):
        return None
    try:
        until = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if until.tzinfo is None:
        until = until.replace(tzinfo=UTC)
    # the Date header has whole seconds: measured from it the lock looks up to 1 s longer
    return (until - _server_now(response)).total_seconds()


def _text(body: dict[str, Any], response: httpx.Response) -> str:
    detail = body.get("detail", body.get("error", body.get("message", "")))
    return str(detail) if detail else response.text[:500]


def read_login(response: httpx.Response) -> LoginAnswer:
    """Classify one answer of the login endpoint; a token it carries is registered as a
    secret, so no report shows it."""
    status, body = response.status_code, _body(response)
    text = _text(body, response)
    retry, until = retry_after_s(response), locked_until_s(response, body)
    if 200 <= status < 300:
        token = next((body[f] for f in _TOKEN_FIELDS if isinstance(body.get(f), str)), None)
        register(token)
        return LoginAnswer("ok", status, token, shape=f"{status} (signed in)")
    shape = excerpt(response)
    lock_sign = until is not None or bool(_LOCK_WORDS.search(text))
    if status == 423 or (status in LOCK_STATUSES and lock_sign):
        return LoginAnswer("locked", status, None, retry, until, shape)
    if status == 429:
        return LoginAnswer("rate_limited", status, None, retry, None, shape)
    if status in REFUSED_STATUSES:
        otp = body.get("otp_required") is True or bool(_OTP_WORDS.search(text))
        return LoginAnswer("otp_required" if otp else "refused", status, shape=shape)
    return LoginAnswer("unexpected", status, shape=shape)


def login(
    client: httpx.Client, path: str, username: str, password: str, otp: str | None = None
) -> LoginAnswer:
    """POST the credentials as JSON (``otp`` only when given) and read the answer."""
    payload = {"username": username, "password": password}
    if otp is not None:
        payload["otp"] = otp
    return read_login(client.post(path, json=payload))


def announced_lock_error(
    unlock_in_s: float | None, lockout_s: float, since_last_failure_s: float
) -> str | None:
    """Why the lock's announced end is not ``lockout_s`` after the last failure, or None.

    ``since_last_failure_s`` is how long before the answer the last failure was sent; the
    tolerance covers the whole seconds of Date and Retry-After and a slow round trip."""
    if unlock_in_s is None:
        return "the lock announces no end (no Retry-After, no locked_until)"
    expected = lockout_s - since_last_failure_s
    tolerance = 3.0 + 0.01 * lockout_s
    if abs(unlock_in_s - expected) > tolerance:
        return (
            f"the lock ends in {unlock_in_s:.0f} s by the answer, expected about "
            f"{expected:.0f} s ({lockout_s:g} s after the last failure, "
            f"{since_last_failure_s:.0f} s ago)"
        )
    return None
