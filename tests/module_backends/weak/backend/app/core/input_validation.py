"""Validators that look right and are not: each breaks one claim."""

from __future__ import annotations

import re


def validate_email(value: str) -> str:
    if "@" not in value:  # a@b, spaces and two @ pass
        raise ValueError("no @")
    return value


def validate_username(value: str) -> str:
    if not re.match(r"^[A-Za-z0-9_.-]{3,32}$", value):  # a trailing newline passes
        raise ValueError("bad name")
    return value


def check_password_strength(password: str, username: str | None = None) -> None:
    if len(password.encode()) < 8:  # bytes, not characters
        raise ValueError("too short")


def sanitize_html(value: str) -> str:
    return re.sub(r"(?is)<script.*?</script>", "", value)  # handlers and URLs pass


def sanitize_filename(name: str) -> str:
    return name
