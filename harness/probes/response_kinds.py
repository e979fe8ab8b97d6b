"""Provoke every kind of response a deployment gives, so header checks can look at each.

A kind the target cannot be made to give black-box (no 500 hook configured, no rate limit
with its own budget for our address) is reported with the reason instead of a response.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from harness.probes.http import client_for

OnResponse = Callable[[httpx.Response], None]
_REMAINING = ("x-ratelimit-remaining", "ratelimit-remaining")


@dataclass
class Kinds:
    """Responses by kind (``json-200``, ``404``, ...) and the kinds that could not be provoked."""

    responses: dict[str, httpx.Response] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def local_address(url: str, address: str) -> str | None:
    """``address`` as the client's source when the target is on loopback, else None."""
    return address if is_loopback(url) else None


def _media_type(response: httpx.Response) -> str:
    value: str = response.headers.get("content-type", "")
    return value.split(";", maxsplit=1)[0].strip().lower()


def ordinary_kinds(
    client: httpx.Client,
    api_path: str,
    html_paths: tuple[str, ...],
    head_path: str,
    json_paths: tuple[str, ...] = (),
) -> Kinds:
    """JSON and HTML 200, a redirect, 404, 405 and HEAD: a handful of requests.

    ``json_paths`` are further routes known to answer JSON (found by discovery), tried when
    the API path does not: a target without the reference API still shows its JSON-200."""
    kinds = Kinds()
    _json_200(client, (api_path, *json_paths), kinds)
    for path in html_paths:
        html = client.get(path)
        if html.status_code == 200 and _media_type(html) == "text/html":
            kinds.responses["html-200"] = html
            break
    else:
        kinds.missing["html-200"] = f"none of {list(html_paths)} answered 200 text/html"
    # a trailing slash is redirected by most frameworks; nginx redirects a directory likewise
    for path in (api_path.rstrip("/") + "/", api_path.rstrip("/")):
        redirect = client.get(path)
        if 300 <= redirect.status_code < 400:
            kinds.responses["redirect"] = redirect
            break
    else:
        kinds.missing["redirect"] = f"neither {api_path} nor its slash form redirects"
    # an SPA answers unknown pages with its shell: a missing asset is a real 404 there
    for path in ("/harness-no-such-page-7f3a", "/assets/harness-missing-7f3a.js"):
        missing = client.get(path)
        if missing.status_code == 404:
            kinds.responses["404"] = missing
            break
    else:
        kinds.missing["404"] = "no probed path answered 404"
    _not_allowed(client, api_path, kinds)
    kinds.responses["head"] = client.head(head_path)
    return kinds


def _json_200(client: httpx.Client, paths: tuple[str, ...], kinds: Kinds) -> None:
    tried = []
    for path in dict.fromkeys(paths):
        json_ok = client.get(path)
        if json_ok.status_code == 200 and _media_type(json_ok) == "application/json":
            kinds.responses["json-200"] = json_ok
            return
        tried.append(f"GET {path} answered {json_ok.status_code}")
    kinds.missing["json-200"] = "; ".join(tried)


def _not_allowed(client: httpx.Client, api_path: str, kinds: Kinds) -> None:
    answered = []
    for method in ("TRACE", "DELETE"):
        response = client.request(method, api_path)
        if response.status_code == 405:
            kinds.responses["405"] = response
            return
        answered.append(f"{method} {api_path} answered {response.status_code}")
        # kept under its own status, never in place of a sample of that status already taken
        kinds.responses.setdefault(str(response.status_code), response)
    kinds.missing["405"] = "; ".join(answered)


def oversize(client: httpx.Client, api_path: str, max_body_bytes: int) -> httpx.Response:
    """A body one byte over the limit (the deployment should answer 413)."""
    return client.post(
        api_path,
        content=b"a" * (max_body_bytes + 1),
        headers={"content-type": "application/json"},
    )


def _remaining(response: httpx.Response) -> int | None:
    for name in _REMAINING:
        value = response.headers.get(name, "")
        if value.strip().isdigit():
            return int(value)
    return None


def rate_limited(
    base_url: str,
    path: str,
    limit: int,
    addresses: tuple[str, str],
    on_response: OnResponse | None = None,
) -> httpx.Response | str:
    """A 429 from spending ``limit + 1`` requests from a dedicated loopback address.

    Only done when the target shows that the address has a budget of its own (its remaining
    count does not drop when a second address spends), so other checks are never starved.
    """
    if not is_loopback(base_url):
        return "the target is not on loopback: no dedicated source address to spend"
    first, second = addresses
    with (
        client_for(base_url, local_address=first, retry_429=False) as spender,
        client_for(base_url, local_address=second, retry_429=False) as other,
    ):
        mine = _remaining(spender.get(path))
        theirs = _remaining(other.get(path))
        if mine is None or theirs is None:
            return "the target sends no rate-limit headers: cannot tell whose budget is spent"
        if theirs < mine:
            return "the target counts our loopback addresses as one client (a proxy in between)"
        for _ in range(limit + 1):
            response = spender.get(path)
            if response.status_code == 429:
                if on_response is not None:
                    on_response(response)
                return response
    return f"no 429 after {limit + 1} requests: the target does not rate-limit {path}"
