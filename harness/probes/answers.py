"""Read a target's answer in the shape a check needs, or say in one line why it cannot be
judged: ``UnexpectedAnswer`` names the endpoint, what was expected and what came back.

A check asserts what the claim says; these helpers only stand between the answer and the
assertion, so an answer of another shape (another API, an HTML error page, a body without the
field read) becomes an honest "cannot judge" instead of a ``KeyError``.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any, TypeVar, cast

import httpx

from harness.errors import UnexpectedAnswer

T = TypeVar("T")
EXCERPT_CHARS = 120
# statuses that say the endpoint is not there (or not for this method): another API
ABSENT = frozenset({404, 405, 501})
# the roles of the endpoints checks read, with the setting that points at each
FORMULAS_API = "the formulas API (set api_probe_path)"
LOGIN_API = "the login API (set login_path)"
_TYPE_NAMES = {dict: "an object", list: "an array", str: "a string", int: "an integer"}


def endpoint(response: httpx.Response) -> str:
    """``METHOD /path`` of the request ``response`` answers."""
    try:
        request = response.request
    except RuntimeError:  # a response built without its request
        return "(unknown endpoint)"
    return f"{request.method} {request.url.path}"


def media_type(response: httpx.Response) -> str:
    value: str = response.headers.get("content-type", "")
    return value.split(";", maxsplit=1)[0].strip().lower()


def excerpt(response: httpx.Response, limit: int = EXCERPT_CHARS) -> str:
    """Status, content type and the start of the body, on one line."""
    try:
        text = " ".join(response.text.split())
    except httpx.ResponseNotRead:
        text = None
    if text is None:
        body = "(body not read)"
    elif not text:
        body = "(empty body)"
    else:
        body = repr(text[:limit] + ("..." if len(text) > limit else ""))
    return f"{response.status_code} {media_type(response) or '(no content type)'} {body}"


def unexpected(response: httpx.Response, expected: str, api: str | None = None) -> UnexpectedAnswer:
    """The error for ``response``. ``api`` names the endpoint's role and the setting that
    points at it ("the formulas API (set api_probe_path)"); when the status says the endpoint
    is absent, the line adds that the claim cannot be judged on this target."""
    got = excerpt(response)
    if api:
        expected = f"{expected} from {api}"
        if response.status_code in ABSENT:
            got += ": no such endpoint here, so the claim cannot be judged on this target"
    return UnexpectedAnswer(endpoint(response), expected, got)


def present(response: httpx.Response, expected: str, api: str) -> httpx.Response:
    """``response`` unless its status says the endpoint does not exist (404, 405, 501)."""
    if response.status_code in ABSENT:
        raise unexpected(response, expected, api)
    return response


def status_in(
    response: httpx.Response, allowed: Collection[int], expected: str, api: str | None = None
) -> int:
    """The status, when it is one the check can interpret."""
    if response.status_code not in allowed:
        raise unexpected(response, expected, api)
    return response.status_code


def json_value(
    response: httpx.Response, expected: str = "a JSON body", api: str | None = None
) -> Any:
    try:
        return json.loads(response.content)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError alike
        raise unexpected(response, expected, api) from None


def _keys_text(keys: Collection[str]) -> str:
    return f" with {', '.join(repr(k) for k in keys)}" if keys else ""


def json_object(
    response: httpx.Response, keys: Collection[str] = (), api: str | None = None
) -> dict[str, Any]:
    """The body as a JSON object that has every one of ``keys``."""
    expected = f"a JSON object{_keys_text(keys)}"
    body = json_value(response, expected, api)
    if not isinstance(body, dict) or any(key not in body for key in keys):
        raise unexpected(response, expected, api)
    return body


def json_array(response: httpx.Response, api: str | None = None) -> list[Any]:
    body = json_value(response, "a JSON array", api)
    if not isinstance(body, list):
        raise unexpected(response, "a JSON array", api)
    return body


def _is(value: object, kind: type[Any]) -> bool:
    # JSON true is no integer id, though Python's bool is an int
    return isinstance(value, kind) and not (kind is int and isinstance(value, bool))


def field(
    response: httpx.Response,
    name: str,
    kind: type[T],
    api: str | None = None,
    within: Mapping[str, Any] | None = None,
) -> T:
    """Field ``name`` of the JSON object answered (or of ``within``, a part of that answer,
    e.g. one item of a list), when it holds a value of type ``kind``."""
    expected = f"a JSON object with {name!r} as {_TYPE_NAMES.get(kind, kind.__name__)}"
    source = json_object(response, (name,), api) if within is None else within
    value = source.get(name) if isinstance(source, Mapping) else None
    if not _is(value, kind):
        raise unexpected(response, expected, api)
    return cast(T, value)


def identifier(
    response: httpx.Response,
    name: str = "id",
    api: str | None = None,
    within: Mapping[str, Any] | None = None,
) -> int | str:
    """An id field: an integer or a non-empty string (APIs use both)."""
    source = json_object(response, (name,), api) if within is None else within
    value = source.get(name) if isinstance(source, Mapping) else None
    if _is(value, int) or (isinstance(value, str) and value):
        return cast(int | str, value)
    raise unexpected(response, f"a JSON object with {name!r} as an integer or string id", api)
