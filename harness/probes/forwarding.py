"""Client addresses through a proxy hop the deployment trusts, which the harness plays.

Behind docker-proxy every request reaches a container stack from one gateway address, so a
source address of the harness's own (127.1.0.5 ...) never reaches the app. A stack that
trusts that gateway as a proxy (``SECURITY_TRUSTED_PROXIES``) learns the client from
``X-Forwarded-For`` instead: for the origins registered here, the harness's clients append
their source address to ``X-Forwarded-For`` as a proxy does (nginx's
``$proxy_add_x_forwarded_for``), keeping whatever the request carried before it, so a check
that spoofs the header sends the spoof and its own address after it.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

import httpx

# scheme://host:port of the services that believe the harness's hop, in this process
_TRUSTED_HOP: set[str] = set()
_FORWARDED = "harness_forwarded"  # request extension: the source is already appended


def origin(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.scheme}://{parts.hostname}:{port}"


def play_trusted_hop(urls: Iterable[str]) -> None:
    """From now on, sources sent to ``urls`` travel as X-Forwarded-For entries."""
    _TRUSTED_HOP.update(origin(url) for url in urls)


def stop_playing(urls: Iterable[str]) -> None:
    _TRUSTED_HOP.difference_update(origin(url) for url in urls)


def forwards_sources(url: str) -> bool:
    return origin(url) in _TRUSTED_HOP


def appended(existing: str | None, source: str) -> str:
    """The X-Forwarded-For a proxy sends on: the client's list, then the client's address."""
    return f"{existing}, {source}" if existing and existing.strip() else source


class ForwardedSource(httpx.BaseTransport):
    """Appends ``source`` to X-Forwarded-For on requests to a trusted-hop origin."""

    def __init__(self, inner: httpx.BaseTransport, source: str) -> None:
        self.inner = inner
        self.source = source

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        # once per request: a 429 retry sends the same request object again
        if forwards_sources(str(request.url)) and not request.extensions.get(_FORWARDED):
            spoofed = ", ".join(request.headers.get_list("x-forwarded-for")) or None
            request.headers["X-Forwarded-For"] = appended(spoofed, self.source)
            request.extensions[_FORWARDED] = True
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()
