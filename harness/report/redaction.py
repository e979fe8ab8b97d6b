"""Secrets never reach a report: passwords, tokens and TOTP secrets are masked wherever the
harness records what it saw (evidence, check messages, pytest's log, the matrix).

Two nets: values the suites themselves hold (a password they created an account with, a
token they were issued, a TOTP secret) are registered with ``register`` and replaced wherever
they occur; and secrets the harness never held (a token in someone else's answer) are caught
by shape: JSON fields named like credentials, ``Bearer`` values, JWTs, ``otpauth://`` secrets.
Registrations live for the process: under xdist each worker masks its own before its reports
travel to the controller.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from contextlib import suppress
from typing import Any

MASK = "[redacted]"
# shorter values would mask ordinary words of a report
MIN_SECRET_CHARS = 6
SECRET_FIELDS = frozenset(
    {
        "password",
        "new_password",
        "current_password",
        "otp",
        "totp",
        "totp_secret",
        "access_token",
        "refresh_token",
        "id_token",
        "token",
        "client_secret",
        "api_key",
        "secret_key",
    }
)
# parameters that carry credentials (login_password, admin_totp_secret, ...)
SECRET_PARAM_SUFFIXES = ("_password", "_totp_secret", "_token", "_secret")
_SHAPES = (
    # a credential always holds a digit or a symbol, so prose ("Bearer authentication") stays
    (re.compile(r"\b([Bb]earer\s+)(?=[\w.~+/=-]*[\d.~+/=-])[\w.~+/=-]{12,}"), r"\1" + MASK),
    (re.compile(r"\b(Basic\s+)(?=[A-Za-z0-9+/]*[\d+/=])[A-Za-z0-9+/]{8,}=*"), r"\1" + MASK),
    # a signed token with a JSON head (JWT, or a body.signature pair like the reference's)
    (re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}(?:\.[A-Za-z0-9_-]*)?"), MASK),
    (re.compile(r"(?i)([?&]secret=)[A-Z2-7=]+"), r"\1" + MASK),
    (  # a credential field in JSON or a Python repr of a dict
        re.compile(
            r"""(?i)(["'](?:password|otp|access_token|refresh_token|totp_secret)["']\s*:\s*)"""
            r"""(?:"[^"]*"|'[^']*')"""
        ),
        r"\1" + f'"{MASK}"',
    ),
    (  # ... and in a query string or form body
        re.compile(r"(?i)([?&](?:password|otp|access_token|token)=)[^&\s#]+"),
        r"\1" + MASK,
    ),
)

_registered: set[str] = set()


def register(value: str | None) -> str | None:
    """Remember ``value`` as a secret to mask everywhere from now on; returns it."""
    if value and len(value) >= MIN_SECRET_CHARS:
        _registered.add(value)
    return value


def registered() -> frozenset[str]:
    return frozenset(_registered)


def is_secret_name(name: str) -> bool:
    """True for a field or parameter name that holds a credential."""
    key = name.lower()
    return key in SECRET_FIELDS or key.endswith(SECRET_PARAM_SUFFIXES)


def register_params(params: Mapping[str, Any]) -> None:
    """Register the values of credential parameters (``login_password``, ...)."""
    for name, value in params.items():
        if is_secret_name(name) and isinstance(value, str):
            register(value)


def redact_text(text: str, extra: Iterable[str] = ()) -> str:
    """``text`` with every registered secret (and ``extra``) and every credential shape masked."""
    for secret in sorted({*_registered, *(s for s in extra if s)}, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    for pattern, replacement in _SHAPES:
        text = pattern.sub(replacement, text)
    return text


def redact_value(value: Any) -> Any:
    """A JSON-like value with credential fields and secrets in strings masked."""
    if isinstance(value, Mapping):
        return {
            key: MASK
            if isinstance(key, str) and is_secret_name(key) and value[key] not in (None, "")
            else redact_value(value[key])
            for key in value
        }
    if isinstance(value, list | tuple):
        return [redact_value(item) for item in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


def redact_body(text: str) -> str:
    """A response body: JSON with credential fields masked (kept as JSON), else as text."""
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            parsed = json.loads(text)
        except ValueError:
            return redact_text(text)
        return json.dumps(redact_value(parsed), ensure_ascii=False)
    return redact_text(text)


def redact_fields(obj: Any, _depth: int = 0) -> Any:
    """``obj`` with secrets masked in its strings, dataclass fields changed in place (pytest's
    failure representations are mutable dataclasses: masking them keeps their structure, so
    the one-line message and the full traceback stay what they were)."""
    if isinstance(obj, str):
        return redact_text(obj)
    if _depth > 12:
        return obj
    if isinstance(obj, list):
        obj[:] = [redact_fields(item, _depth + 1) for item in obj]
        return obj
    if isinstance(obj, tuple):
        return tuple(redact_fields(item, _depth + 1) for item in obj)
    fields = getattr(obj, "__dataclass_fields__", None)
    if fields:
        for name in fields:
            current = getattr(obj, name, None)
            masked = redact_fields(current, _depth + 1)
            if masked is not current:
                with suppress(AttributeError):  # a frozen dataclass stays as it is
                    setattr(obj, name, masked)
    return obj
