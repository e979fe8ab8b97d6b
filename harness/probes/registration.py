"""Registration as the API takes it (``register_path``): fresh accounts, the cases sent
through it, and how its answer to one field is judged."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import httpx

from harness.probes import answers
from harness.probes.strategies import MULTIBYTE_SYMBOLS

ACCEPTED = frozenset({200, 201})
REFUSED = frozenset({400, 422})

# a sample of the module's cases, sent through the API: (field, value, refused?)
EMAIL_CASES = (
    ("a@b", True),
    ("user.example.com", True),
    ("two@@example.com", True),
    ("sp ace@example.com", True),
    ("x@" + "b" * 64 + ".com", True),
    ("{token}@bücher.de", False),
    ("first.last+{token}@example.org", False),
)
USERNAME_CASES = (
    ("ab", True),
    ("x" * 33, True),
    ("bad name", True),
    ("<script>", True),
    ("u{token}", False),
)


def token() -> str:
    return secrets.token_hex(5)


def strong_password(length: int) -> str:
    """A fresh password of ``length`` code points (at least 8) with every class and a
    multibyte symbol: never common, never holding a username the harness makes."""
    core = f"Qz9{MULTIBYTE_SYMBOLS[0]}"
    filler = secrets.token_hex(length)
    return (core + filler)[: max(length, 8)]


def account(**fields: str) -> dict[str, str]:
    """A registration body: a fresh valid username, email and password, ``fields`` over it."""
    name = token()
    body = {
        "username": f"u{name}",
        "email": f"u{name}@example.org",
        "password": strong_password(16),
    }
    return body | fields


def cases(table: tuple[tuple[str, bool], ...]) -> Iterator[tuple[str, bool]]:
    """The table's values with a fresh ``{token}`` each (accounts must not collide)."""
    for value, refused in table:
        yield value.replace("{token}", token()), refused


def field_errors(response: httpx.Response) -> set[str]:
    """Fields a 422 names (FastAPI's ``detail[].loc`` and ``errors`` / ``fields`` keys)."""
    try:
        body: Any = response.json()
    except ValueError:
        return set()
    found: set[str] = set()
    items = body.get("detail") if isinstance(body, dict) else None
    for item in items if isinstance(items, list) else []:
        loc = item.get("loc") if isinstance(item, dict) else None
        if isinstance(loc, list) and loc:
            found.add(str(loc[-1]))
    for key in ("errors", "fields"):
        value = body.get(key) if isinstance(body, dict) else None
        if isinstance(value, dict):
            found |= set(map(str, value))
    return found


def wrong_answer(response: httpx.Response, field: str, value: str, refused: bool) -> str | None:
    """Why the API's answer to ``field=value`` breaks the claim, or None. A 5xx is always
    wrong; a refusal must be 400/422 and, where it names fields, name this one."""
    status = response.status_code
    shown = f"{field}={value!r}"
    if status >= 500:
        return f"{shown} answered {status}: a server error, not a validation answer"
    if not refused:
        if status not in ACCEPTED:
            return f"{shown} is valid but answered {answers.excerpt(response)}"
        return None
    if status not in REFUSED:
        return f"{shown} is invalid but answered {answers.excerpt(response)}"
    named = field_errors(response)
    if named and field not in named:
        return f"{shown} was refused naming {sorted(named)}, not {field!r}"
    return None


def absent_route(response: httpx.Response, param: str) -> str | None:
    """The skip line when the route is not there (404, 405, 501), as discovery words it."""
    if response.status_code not in answers.ABSENT:
        return None
    path = response.request.url.path
    return (
        f"POST {path} answered {response.status_code}: the target has no such route; "
        f"set --param {param}=/your/route"
    )
