"""Mutants for the performance gate: each makes the API slow, erratic or failing under load
in one way, so every LOAD-* check is shown to fail."""

from __future__ import annotations

import asyncio
import itertools
import json

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from reference_app.core.config import Settings
from reference_app.mutants import register

API = "/api/v1/"


def _is_api(scope: Scope) -> bool:
    return scope["type"] == "http" and str(scope.get("path", "")).startswith(API)


async def _answer(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class _Delay:
    """Every ``every``-th matching API request waits ``seconds`` before it is served."""

    def __init__(self, app: ASGIApp, seconds: float, every: int = 1, search_only: bool = False):
        self.app = app
        self.seconds = seconds
        self.every = every
        self.search_only = search_only
        self.counter = itertools.count(1)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        matches = not self.search_only or b"q=" in scope.get("query_string", b"")
        if _is_api(scope) and matches and next(self.counter) % self.every == 0:
            await asyncio.sleep(self.seconds)
        await self.app(scope, receive, send)


class _Fail:
    """Every ``every``-th API request answers 500 (or all of /auth/me with 401)."""

    def __init__(self, app: ASGIApp, every: int) -> None:
        self.app = app
        self.every = every
        self.counter = itertools.count(1)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if _is_api(scope) and next(self.counter) % self.every == 0:
            await _answer(send, 500, "internal error")
            return
        await self.app(scope, receive, send)


class _RejectTokens:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("path") == "/api/v1/auth/me":
            await _answer(send, 401, "a valid bearer token is required")
            return
        await self.app(scope, receive, send)


class _OneAtATime:
    """API requests served one at a time, each holding the line ``seconds``: a capacity cap
    (a global lock around a slow section)."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds
        self.lock = asyncio.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _is_api(scope):
            await self.app(scope, receive, send)
            return
        async with self.lock:
            await asyncio.sleep(self.seconds)
        await self.app(scope, receive, send)


@register(
    "load-slow-everything",
    breaks=("LOAD-P50",),
    description="every API request waits 250 ms: the median exceeds 200 ms",
)
def _slow_everything(app: FastAPI, settings: Settings) -> None:
    app.add_middleware(_Delay, seconds=0.25)


@register(
    "load-slow-search",
    breaks=("LOAD-P95",),
    description="searches take 700 ms (a missing index): P95 over 500 ms, median untouched",
)
def _slow_search(app: FastAPI, settings: Settings) -> None:
    app.add_middleware(_Delay, seconds=0.7, search_only=True)


@register(
    "load-stalls",
    breaks=("LOAD-P99",),
    description="one API request in 50 stalls for 1.5 s (a lock, a GC pause): P99 over 1 s",
)
def _stalls(app: FastAPI, settings: Settings) -> None:
    app.add_middleware(_Delay, seconds=1.5, every=50)


@register(
    "load-errors-2pct",
    breaks=(
        "LOAD-ERROR-RATE",
        "LOAD-RUN-HEADLESS",
        "LOAD-SCENARIO-SMOKE",
        "LOAD-SCENARIO-BASELINE",
        "LOAD-SCENARIO-STRESS",
        "LOAD-SCENARIO-SPIKE",
        "LOAD-SCENARIO-ENDURANCE",
    ),
    description="2 % of API responses are 500: the error rate exceeds 1 %",
)
def _errors(app: FastAPI, settings: Settings) -> None:
    app.add_middleware(_Fail, every=50)


@register(
    "load-capacity-80rps",
    breaks=("LOAD-THROUGHPUT",),
    description=(
        "API requests pass a per-process lock one at a time for 24 ms: with the two workers the "
        "reference app runs, at most ~80 req/s"
    ),
)
def _capacity(app: FastAPI, settings: Settings) -> None:
    app.add_middleware(_OneAtATime, seconds=0.024)


@register(
    "load-auth-rejects-tokens",
    breaks=("LOAD-MIX", "LOAD-RUN-UI"),
    description="the authenticated call refuses every token: the mix has no authenticated call",
)
def _rejects_tokens(app: FastAPI, settings: Settings) -> None:
    app.add_middleware(_RejectTokens)
