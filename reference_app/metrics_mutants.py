"""Mutants of the app's metrics and its Redis cache: each makes one monitoring claim false
while the API itself keeps answering as before."""

from __future__ import annotations

import json

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from reference_app.api import auth
from reference_app.core import metrics as metrics_module
from reference_app.core.cache import FORMULAS, FormulaCache, formula_cache
from reference_app.core.config import Settings
from reference_app.core.metrics import AppMetrics, app_metrics
from reference_app.core.metrics_http import MetricsMiddleware
from reference_app.input_mutants import replace
from reference_app.mutants import Mutant, register, register_mutant, replace_middleware


class _NoErrorCounter(MetricsMiddleware):
    def count_error(self, metrics: AppMetrics, method: str, route: str, status: int) -> None:
        """Errors are only in the request counter's status label."""


class _RawPathLabel(MetricsMiddleware):
    def route_of(self, scope: Scope) -> str:
        return str(scope.get("path", ""))


class _JsonEndpoint(MetricsMiddleware):
    """/metrics answers the values as JSON, which no Prometheus can scrape."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("path") == self.metrics_path:
            body = json.dumps({"requests": 0}).encode()
            headers = [(b"content-type", b"application/json")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await super().__call__(scope, receive, send)


@register(
    "metrics-no-error-counter",
    breaks=("MON-METRIC-ERRORS",),
    description="error answers are not counted in http_request_errors_total",
)
def _no_error_counter(app: FastAPI, settings: Settings) -> None:
    replace_middleware(app, MetricsMiddleware, _NoErrorCounter)


@register(
    "metrics-raw-path-label",
    breaks=("MON-METRIC-REQUESTS", "MON-METRIC-LATENCY"),
    description="the route label of the HTTP metrics is the raw path, one series per id",
)
def _raw_path_label(app: FastAPI, settings: Settings) -> None:
    replace_middleware(app, MetricsMiddleware, _RawPathLabel)


@register(
    "metrics-endpoint-json",
    breaks=("MON-METRICS-ENDPOINT",),
    description="GET /metrics answers JSON instead of the Prometheus text format",
)
def _endpoint_json(app: FastAPI, settings: Settings) -> None:
    replace_middleware(app, MetricsMiddleware, _JsonEndpoint)


def _no_process_usage() -> None:
    replace(metrics_module, "process_usage", lambda: (0.0, 0.0))


def _zero_pool_gauges(app: FastAPI, settings: Settings) -> None:
    # the pool was instrumented when the app was built
    for gauge in (app_metrics().pool_in_use, app_metrics().pool_idle, app_metrics().pool_size):
        gauge.set(0)


def _pool_untracked() -> None:
    replace(metrics_module, "refresh_pool", lambda *args, **kwargs: None)


def _logins_uncounted() -> None:
    replace(auth, "count_login", lambda outcome: None)


def _untouched(app: FastAPI, settings: Settings) -> None:
    """The defect is in a function the process mutation replaced."""


register_mutant(
    Mutant(
        "metrics-no-process-gauges",
        ("MON-METRIC-RESOURCES",),
        "the CPU and memory gauges are never set",
        apply=_untouched,
        process=_no_process_usage,
    )
)
register_mutant(
    Mutant(
        "metrics-no-pool-gauges",
        ("MON-METRIC-DB-CONNECTIONS",),
        "the database pool gauges do not follow the pool",
        apply=_zero_pool_gauges,
        process=_pool_untracked,
    )
)
register_mutant(
    Mutant(
        "metrics-logins-uncounted",
        ("MON-METRIC-USERS",),
        "login attempts are not counted",
        apply=_untouched,
        process=_logins_uncounted,
    )
)


class _NeverHit(FormulaCache):
    async def get(self, formula_id: int) -> str | None:
        app_metrics().cache_misses.labels(FORMULAS).inc()
        return None


class _KeepsStale(FormulaCache):
    async def forget(self, formula_id: int) -> None:
        """A write leaves the cached value in place until its TTL ends."""


@register(
    "cache-never-hit",
    breaks=("MON-METRIC-CACHE", "OPS-REDIS-CACHE"),
    description="every formula read goes to the database (a cache that is never read)",
)
def _never_hit(app: FastAPI, settings: Settings) -> None:
    app.state.formula_cache = _NeverHit(formula_cache(app).link)


@register(
    "cache-write-not-invalidating",
    breaks=("OPS-REDIS-CACHE",),
    description="a write of a formula leaves its cached value in Redis",
)
def _write_not_invalidating(app: FastAPI, settings: Settings) -> None:
    app.state.formula_cache = _KeepsStale(formula_cache(app).link)
