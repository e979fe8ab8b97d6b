"""Whether a forged ``Host`` header is served as the real site (CFG-ALLOWED-HOSTS).

A deployment that serves any Host builds links, redirects and cache entries from a name an
attacker chose. Refusing (400, 421), not finding (404), redirecting or answering with another
default site are all fine; the real content under the forged name is not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import httpx

FORGED = "evil.example"
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def forged_host(allowed: Iterable[str]) -> str:
    """A host name no allowed entry names (``*.example`` in the list would allow the default)."""
    listed = {entry.strip().lower() for entry in allowed}
    for candidate in (FORGED, "evil.invalid", "harness-forged.invalid"):
        suffixes = {"*", f"*.{candidate.split('.', 1)[1]}"}
        if candidate not in listed and not listed & suffixes:
            return candidate
    return "harness-forged.invalid"


def _media_type(response: httpx.Response) -> str:
    return str(response.headers.get("content-type", "")).split(";", 1)[0].strip().lower()


def _shape(value: Any) -> Any:
    """JSON reduced to its structure: lists of items change between two requests, keys do not."""
    if isinstance(value, dict):
        return {key: type(item).__name__ for key, item in value.items()}
    return type(value).__name__


def _same_site(real: httpx.Response, forged: httpx.Response) -> bool:
    if real.content == forged.content:
        return True
    media_type = _media_type(real)
    if media_type == "application/json":
        try:
            return bool(_shape(real.json()) == _shape(forged.json()))
        except ValueError:
            return False
    if media_type == "text/html":
        title = _title(real)
        return title is not None and title == _title(forged)
    return False


def _title(response: httpx.Response) -> bytes | None:
    found = _TITLE.search(response.content)
    return found.group(1).strip() if found else None


def served_as_real(real: httpx.Response, forged: httpx.Response) -> str | None:
    """Why the answer to the forged Host is the real site, or None when it is not."""
    if not 200 <= forged.status_code < 300:
        return None
    if _media_type(real) != _media_type(forged) or not _same_site(real, forged):
        return None
    return f"answered {forged.status_code} with the real site's content"
