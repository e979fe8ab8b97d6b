"""HTTP clients bound to a target."""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable

import httpx

from harness import __version__
from harness.probes.forwarding import ForwardedSource

USER_AGENT = f"prodready-harness/{__version__}"
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
MAX_429_WAIT_S = 65.0  # longest wait for one Retry-After (a 60 s window plus slack)
MAX_429_RETRIES = 2

# 127.0.0.10 - 127.0.0.250: source addresses of the checks' clients on loopback targets
_LOOPBACK_FIRST, _LOOPBACK_LAST = 10, 250
_loopback_counter = itertools.count()


def next_loopback_address(environ: dict[str, str] | None = None) -> str:
    """A loopback source address for the next check: a per-process counter over
    127.0.0.10-127.0.0.250, interleaved so xdist workers do not share one."""
    env = os.environ if environ is None else environ
    worker = env.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    index = int(worker) if worker.isdigit() else 0
    workers = max(1, int(env.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1))
    size = _LOOPBACK_LAST - _LOOPBACK_FIRST + 1
    slot = (index + workers * next(_loopback_counter)) % size
    return f"127.0.0.{_LOOPBACK_FIRST + slot}"


# (origin, source address) -> monotonic time before which its budget is known spent
_PAUSED_UNTIL: dict[tuple[str, str | None], float] = {}


class RetryAfter429(httpx.BaseTransport):
    """Keeps suites that do not test rate limiting clear of the deployment's limiter: after a
    response stating ``X-RateLimit-Remaining: 0`` the next request (of any client of this
    process from the same source address) waits for the announced reset, and a request
    refused with 429 is repeated after its Retry-After. Every wait is capped."""

    def __init__(
        self,
        inner: httpx.BaseTransport,
        max_wait_s: float = MAX_429_WAIT_S,
        retries: int = MAX_429_RETRIES,
        sleep: Callable[[float], None] = time.sleep,
        source: str | None = None,
    ) -> None:
        self.inner = inner
        self.max_wait_s = max_wait_s
        self.retries = retries
        self.sleep = sleep
        self.source = source

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        key = (f"{request.url.scheme}://{request.url.netloc.decode()}", self.source)
        pause = _PAUSED_UNTIL.pop(key, 0.0) - time.monotonic()
        if pause > 0:
            self.sleep(min(pause, self.max_wait_s))
        response = self.inner.handle_request(request)
        for _ in range(self.retries):
            if response.status_code != 429 or not _replayable(request):
                break
            response.read()
            response.close()
            self.sleep(min(_seconds(response, "retry-after", 1.0) + 0.2, self.max_wait_s))
            response = self.inner.handle_request(request)
        if response.headers.get("x-ratelimit-remaining", "").strip() == "0":
            reset = _seconds(response, "x-ratelimit-reset", 1.0)
            _PAUSED_UNTIL[key] = time.monotonic() + min(reset + 0.2, self.max_wait_s)
        return response

    def close(self) -> None:
        self.inner.close()


def _seconds(response: httpx.Response, header: str, default: float) -> float:
    value = response.headers.get(header, "").strip()
    return float(value) if value.isdigit() else default


def _replayable(request: httpx.Request) -> bool:
    try:
        request.read()
    except httpx.StreamConsumed:
        return False
    return True


def client_for(
    base_url: str,
    *,
    on_response: Callable[[httpx.Response], None] | None = None,
    verify: bool = False,
    local_address: str | None = None,
    retry_429: bool = True,
) -> httpx.Client:
    """A client for ``base_url`` that never follows redirects on its own (checks look at them).

    TLS is not verified by default: targets commonly use throwaway certificates; the TLS
    checks verify certificates themselves. ``retry_429`` (default) keeps the client clear of
    the deployment's rate limiter (``RetryAfter429``); checks of the limiter turn it off.
    """

    def _record(response: httpx.Response) -> None:
        response.read()
        if on_response is not None:
            on_response(response)

    transport: httpx.BaseTransport = httpx.HTTPTransport(local_address=local_address, verify=verify)
    if local_address is not None:  # a stack behind a proxy hop the harness plays
        transport = ForwardedSource(transport, local_address)
    if retry_429:
        transport = RetryAfter429(transport, source=local_address)
    return httpx.Client(
        base_url=base_url,
        timeout=DEFAULT_TIMEOUT,
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT},
        transport=transport,
        event_hooks={"response": [_record]},
    )
