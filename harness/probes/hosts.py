"""Whether a forged ``Host`` header is served as the real site (CFG-ALLOWED-HOSTS).

A deployment that serves any Host builds links, redirects and cache entries from a name an
attacker chose. Refusing (400, 421), not finding (404), redirecting or answering with another
default site are all fine; the real content under the forged name is not.

Beyond a plain forged Host, ``attack_cases`` name the variants a validation may miss: a port
or a trailing dot on the name, the forged name first of two Host lines, an absolute URI in the
request line naming it, and the forwarded-host headers a proxy-aware app may believe. A
forwarded header is rightly ignored (the real site is served): there the claim is only that
the forged name is never reflected in what comes back (a redirect, a link, the body).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
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


# where an answer names a host the client would follow or cache
_REFLECTING_HEADERS = ("location", "content-location", "link", "refresh")


@dataclass(frozen=True)
class HostCase:
    """One request with a forged host somewhere: the request line's target, the Host lines
    and extra headers. ``host_judged``: the forged name is in a Host line, so serving the
    real site under it fails; otherwise only reflecting the name does."""

    name: str
    target: str
    host_lines: tuple[str, ...]
    headers: tuple[tuple[str, str], ...] = ()
    host_judged: bool = True


def attack_cases(forged: str, real_host: str, path: str) -> list[HostCase]:
    """The Host-header attacks on ``path`` of a server reached as ``real_host``."""
    slash = path if path.endswith("/") else path + "/"  # elicits a redirect on many servers
    forwarded = (
        ("X-Forwarded-Host", forged),
        ("X-Host", forged),
        ("Forwarded", f"host={forged}"),
    )
    return [
        HostCase("forged Host with a port", path, (f"{forged}:443",)),
        HostCase("forged Host with a trailing dot", path, (f"{forged}.",)),
        HostCase("forged Host first of two Host lines", path, (forged, real_host)),
        # a server may rightly take the Host line here; using the URI's name is the attack
        HostCase(
            "absolute URI naming the forged host",
            f"http://{forged}{path}",
            (real_host,),
            host_judged=False,
        ),
        *(
            HostCase(f"{name} on {where}", where, (real_host,), ((name, value),), False)
            for name, value in forwarded
            for where in dict.fromkeys((path, slash))
        ),
    ]


def reflected(forged: str, response: httpx.Response) -> str | None:
    """Where the answer names the forged host (a redirect, a link, the body), or None."""
    name = forged.lower().rstrip(".")
    for header in _REFLECTING_HEADERS:
        value = str(response.headers.get(header, ""))
        if name in value.lower():
            return f"its {header.title()} names it ({value[:120]})"
    if name.encode() in response.content.lower():
        return "its body names it"
    return None


def judge_case(
    case: HostCase, forged: str, real: httpx.Response, answer: httpx.Response
) -> str | None:
    """Why ``answer`` to ``case`` is the attack succeeding, or None."""
    if case.host_judged:
        served = served_as_real(real, answer)
        if served is not None:
            return served
    if answer.status_code >= 400:  # an error page naming the refused host misleads nobody
        return None
    why = reflected(forged, answer)
    return f"answered {answer.status_code} and {why}" if why else None
