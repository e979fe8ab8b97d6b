"""HTTP metrics: the outermost middleware that counts and times every answer, and
``GET /metrics``.

The middleware sits outside every security layer, so a request refused by the rate limit
(429), the host check (400) or the IP filter (403) is counted as the client saw it. The route
label is the template of the route the request matches (``/api/v1/formulas/{formula_id}``),
never the raw path, so the label set stays bounded; a path no route matches is ``unmatched``.
``/metrics`` itself is not counted: a scrape must not change what it reads.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.routing import iter_route_contexts
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reference_app.core.activity import active_users
from reference_app.core.metrics import (
    CONTENT_TYPE,
    METRICS_PATH,
    AppMetrics,
    app_metrics,
    exposition,
    process_exited,
)
from reference_app.core.tokens import bearer_subject

UNMATCHED = "unmatched"
# any other method would let a client mint label values
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# how often each worker refreshes its CPU and memory gauges: a scrape reaches one worker only
REFRESH_S = 5.0

router = APIRouter()


@router.get(METRICS_PATH, include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Every worker's metrics in the Prometheus text format."""
    count = await active_users(request.app).count()
    return Response(exposition(count), media_type=CONTENT_TYPE)


@dataclass(frozen=True)
class RouteTable:
    """The app's routes as (pattern, methods, template), in the order the router tries them."""

    routes: tuple[tuple[re.Pattern[str], frozenset[str], str], ...]

    @classmethod
    def of(cls, app: object) -> RouteTable:
        # FastAPI resolves included routers lazily; its route contexts are the flat view
        found = iter_route_contexts(getattr(app, "routes", ()))
        return cls(
            tuple(
                (route.path_regex, frozenset(route.methods or ()), route.path)
                for route in found
                if getattr(route, "path_regex", None) is not None and route.path is not None
            )
        )

    def template(self, path: str, method: str) -> str | None:
        """The template of the route ``path`` matches (a wrong method still names it)."""
        partial: str | None = None
        for pattern, methods, template in self.routes:
            if pattern.match(path):
                if not methods or method in methods or (method == "HEAD" and "GET" in methods):
                    return template
                partial = partial or template
        return partial


class MetricsMiddleware:
    """Counts and times every answered request by method, route template and status."""

    def __init__(self, app: ASGIApp, metrics_path: str = METRICS_PATH) -> None:
        self.app = app
        self.metrics_path = metrics_path
        self._table: RouteTable | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") == self.metrics_path:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets when the app fails before it answers
        counted = False

        async def observed(message: Message) -> None:
            nonlocal status, counted
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                # counted before the last byte leaves: a client that has its answer and
                # then scrapes (another worker, maybe) finds it counted
                counted = True
                self.observe(scope, status, time.perf_counter() - started)
            await send(message)

        await self._note_user(scope)
        try:
            await self.app(scope, receive, observed)
        finally:
            if not counted:
                self.observe(scope, status, time.perf_counter() - started)

    def route_of(self, scope: Scope) -> str:
        if self._table is None:  # the routes are complete once requests arrive
            self._table = RouteTable.of(scope.get("app"))
        path, root = scope.get("path", ""), scope.get("root_path", "")
        if root and path.startswith(root):  # the app is served under a prefix
            path = path[len(root) :]
        return self._table.template(path, scope.get("method", "GET")) or UNMATCHED

    def observe(self, scope: Scope, status: int, seconds: float) -> None:
        metrics = app_metrics()
        method = scope.get("method", "GET")
        method = method if method in _METHODS else "OTHER"
        route = self.route_of(scope)
        metrics.requests.labels(method, route, str(status)).inc()
        metrics.latency.labels(method, route).observe(seconds)
        if status >= 400:
            self.count_error(metrics, method, route, status)

    def count_error(self, metrics: AppMetrics, method: str, route: str, status: int) -> None:
        metrics.errors.labels(method, route, f"{status // 100}xx").inc()

    async def _note_user(self, scope: Scope) -> None:
        # before the app answers, so a scrape that follows the answer sees the user
        app = scope.get("app")
        settings = getattr(getattr(app, "state", None), "settings", None)
        if settings is None:
            return
        header = next((v for k, v in scope.get("headers", ()) if k == b"authorization"), None)
        if header is None:
            return
        secret = settings.secret_key.get_secret_value()
        user = bearer_subject(secret, header.decode("latin-1"))
        if user is not None:
            await active_users(app).note(user)  # type: ignore[arg-type]


def install(app: FastAPI) -> None:
    """Add the middleware outermost (call after every other ``add_middleware``) and the
    metrics route."""
    app.include_router(router)
    app.add_middleware(MetricsMiddleware)


async def _refresh_forever() -> None:
    metrics = app_metrics()
    while True:
        metrics.refresh_process()
        await asyncio.sleep(REFRESH_S)


@asynccontextmanager
async def worker_metrics() -> AsyncIterator[None]:
    """For the app's lifespan: keep this worker's process gauges fresh while it serves."""
    task = asyncio.create_task(_refresh_forever())
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
        process_exited()
