"""Validators written without the reference app: the claims kept with other code."""

from __future__ import annotations

import os
import re

import nh3
from email_validator import EmailNotValidError
from email_validator import validate_email as _check

COMMON = {"password", "12345678", "123456789", "qwerty123", "iloveyou", "password1"}


def validate_email(value: str) -> str:
    try:
        return _check(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None


def validate_username(value: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9_.-]{3,32}", value) is None:
        raise ValueError("3 to 32 letters, digits, _ . -")
    return value


def check_password_strength(password: str, username: str | None = None) -> None:
    production = os.environ.get("ENVIRONMENT") == "production"
    classes = sum(
        any(test(c) for c in password)
        for test in (
            lambda c: "a" <= c <= "z",
            lambda c: "A" <= c <= "Z",
            str.isdigit,
            lambda c: not (c.isascii() and c.isalnum()),
        )
    )
    if len(password) < (12 if production else 8) or classes < (3 if production else 1):
        raise ValueError("too weak")
    lowered = password.lower()
    if any(common in lowered for common in COMMON) or (
        username and len(username) >= 3 and username.lower() in lowered
    ):
        raise ValueError("too guessable")


def sanitize_html(value: str) -> str:
    tags = {"b", "i", "em", "strong", "a", "p", "ul", "ol", "li", "code", "pre", "br"}
    return nh3.clean(value, tags=tags, attributes={"a": {"href"}})


def sanitize_filename(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name.rsplit("/", 1)[-1]).lstrip(".") or "file"


def validate_upload(
    filename: str, content: bytes, max_bytes: int | None = None
) -> dict[str, object]:
    return {"name": sanitize_filename(filename), "size": len(content)}
