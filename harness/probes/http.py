"""HTTP clients bound to a target."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from harness import __version__

USER_AGENT = f"prodready-harness/{__version__}"
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


def client_for(
    base_url: str,
    *,
    on_response: Callable[[httpx.Response], None] | None = None,
    verify: bool = False,
    local_address: str | None = None,
) -> httpx.Client:
    """A client for ``base_url`` that never follows redirects on its own (checks look at them).

    TLS is not verified by default: targets commonly use throwaway certificates; the TLS
    checks verify certificates themselves.
    """

    def _record(response: httpx.Response) -> None:
        response.read()
        if on_response is not None:
            on_response(response)

    transport = httpx.HTTPTransport(local_address=local_address, verify=verify)
    return httpx.Client(
        base_url=base_url,
        timeout=DEFAULT_TIMEOUT,
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT},
        transport=transport,
        event_hooks={"response": [_record]},
    )
