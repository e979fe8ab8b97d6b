"""The app's Prometheus metrics, correct under several uvicorn workers.

Each worker is a process of its own, and a scrape reaches one of them. prometheus-client's
multiprocess mode makes the answer cover all: every worker writes its values to files in
``PROMETHEUS_MULTIPROC_DIR`` (the ``serve`` command makes a private one when it is unset) and
the worker that answers ``GET /metrics`` adds them up. Counters of a worker that died stay
counted; its gauges (mode ``livesum``) are dropped when it shuts down.

Without the variable (one process, as in tests) each process keeps its values in memory.
"""

from __future__ import annotations

import os
import resource
from collections.abc import Iterable
from functools import cache

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import Pool, QueuePool

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
METRICS_PATH = "/metrics"
CONTENT_TYPE = CONTENT_TYPE_LATEST
# 0.2, 0.5 and 1.0 are the spec's P50/P95/P99 targets: bounds there make "share of requests
# under the target" exact in PromQL instead of interpolated
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0)
LOGIN_OUTCOMES = ("success", "failure", "locked")
CACHES = ("formulas",)
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def multiprocess_dir() -> str | None:
    """The directory the workers share their values in, when multiprocess mode is on."""
    return os.environ.get(MULTIPROC_ENV) or None


class AppMetrics:
    """Every metric of the app; one instance per process (``app_metrics()``)."""

    def __init__(self) -> None:
        # not the global REGISTRY: in multiprocess mode the files are what a scrape reads
        registry = self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "http_requests_total",
            "HTTP requests answered, by method, route template and status.",
            ("method", "route", "status"),
            registry=registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Time from a request's arrival to its answer's last byte, by route template.",
            ("method", "route"),
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.errors = Counter(
            "http_request_errors_total",
            "HTTP answers with a status of 400 or more, by status class.",
            ("method", "route", "status_class"),
            registry=registry,
        )
        self.cpu = self._live_gauge(
            "backend_process_cpu_seconds_total", "CPU seconds used by the backend's processes."
        )
        self.memory = self._live_gauge(
            "backend_process_resident_memory_bytes", "Resident memory of the backend's processes."
        )
        self.pool_in_use = self._live_gauge(
            "db_pool_connections_in_use", "Pooled database connections checked out."
        )
        self.pool_idle = self._live_gauge(
            "db_pool_connections_idle", "Pooled database connections idle in the pool."
        )
        self.pool_size = self._live_gauge(
            "db_pool_size", "Configured database pool size, summed over the processes."
        )
        self.cache_hits = self._cache_counter("cache_hits_total", "Cache hits.")
        self.cache_misses = self._cache_counter(
            "cache_misses_total", "Cache misses (the database was read and the value cached)."
        )
        self.cache_errors = self._cache_counter(
            "cache_errors_total", "Cache unreachable: the database was read instead."
        )
        self.logins = Counter(
            "user_logins_total", "Login attempts by outcome.", ("outcome",), registry=registry
        )
        # every label value from the start: a series that appears only with its first event
        # makes rate() miss that event
        for outcome in LOGIN_OUTCOMES:
            self.logins.labels(outcome)
        for counter in (self.cache_hits, self.cache_misses, self.cache_errors):
            counter.labels(CACHES[0])

    def _live_gauge(self, name: str, documentation: str) -> Gauge:
        return Gauge(name, documentation, multiprocess_mode="livesum", registry=self.registry)

    def _cache_counter(self, name: str, documentation: str) -> Counter:
        return Counter(name, documentation, ("cache",), registry=self.registry)

    def refresh_process(self) -> None:
        """Set this process's CPU and memory gauges from the kernel's accounting."""
        cpu_s, memory_bytes = process_usage()
        self.cpu.set(cpu_s)
        self.memory.set(memory_bytes)


def process_usage() -> tuple[float, float]:
    """CPU seconds and resident bytes of this process."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime, _resident_bytes(usage.ru_maxrss)


def count_login(outcome: str) -> None:
    """Count one login attempt: ``success``, ``failure`` or ``locked``."""
    app_metrics().logins.labels(outcome).inc()


def _resident_bytes(peak_kib: int) -> float:
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return float(int(statm.read().split()[1]) * _PAGE_SIZE)
    except (OSError, IndexError, ValueError):
        return float(peak_kib * 1024)  # no /proc: the peak is the best the kernel says


@cache
def app_metrics() -> AppMetrics:
    """This process's metrics, made on first use (after the multiprocess mode was chosen)."""
    return AppMetrics()


class _Forward(Collector):
    """The in-memory values of this process (single-process mode)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self) -> Iterable[Metric]:
        return self.registry.collect()


class _ActiveUsers(Collector):
    def __init__(self, count: int) -> None:
        self.count = count

    def collect(self) -> Iterable[Metric]:
        yield GaugeMetricFamily(
            "active_users",
            "Distinct users with an authenticated request in the last 300 s.",
            value=self.count,
        )


def exposition(active_users: int | None) -> bytes:
    """The Prometheus text of every worker's values; ``active_users`` None leaves it out
    (its store, Redis, did not answer)."""
    metrics = app_metrics()
    metrics.refresh_process()
    registry = CollectorRegistry()
    directory = multiprocess_dir()
    if directory:
        multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    else:
        registry.register(_Forward(metrics.registry))
    if active_users is not None:
        registry.register(_ActiveUsers(active_users))
    return generate_latest(registry)


def process_exited() -> None:
    """Drop this worker's live gauges, so the sums cover only workers that still run."""
    if multiprocess_dir():
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


def instrument_pool(engine: AsyncEngine) -> None:
    """Keep the pool gauges of this process current as connections come and go."""
    pool = engine.sync_engine.pool
    if not isinstance(pool, QueuePool):
        return  # NullPool and friends pool nothing
    metrics = app_metrics()
    metrics.pool_size.set(pool.size())

    def checked_out(*_: object) -> None:
        refresh_pool(pool)

    def checked_in(*_: object) -> None:
        # the event fires before the connection is back in the queue
        refresh_pool(pool, returning=1)

    event.listen(pool, "checkout", checked_out)
    event.listen(pool, "checkin", checked_in)
    refresh_pool(pool)


def refresh_pool(pool: Pool, returning: int = 0) -> None:
    """Set the in-use and idle gauges from ``pool``; ``returning`` connections are on their
    way back into it."""
    if not isinstance(pool, QueuePool):
        return
    metrics = app_metrics()
    metrics.pool_in_use.set(max(0, pool.checkedout() - returning))
    metrics.pool_idle.set(pool.checkedin() + returning)
