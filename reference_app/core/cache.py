"""The Redis cache of formula reads, and the app's one Redis connection for it.

``GET /api/v1/formulas/{id}`` is answered from ``formulas:v1:{id}`` when Redis holds it (a hit);
otherwise the database is read and the answer cached for ``TTL_S`` (a miss). A write of the
formula deletes the key before it answers, so the next read sees the new value.

Redis is an optimisation here, never a dependency: without REDIS_URL nothing is cached, and
while Redis is unreachable every read goes to the database and counts ``cache_errors_total``.
After a failure Redis is left alone for ``PAUSE_S``, so an outage does not add a connect
timeout to every request.
"""

from __future__ import annotations

import logging
import time
from contextlib import suppress
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from starlette.applications import Starlette

from reference_app.core.metrics import CACHES, app_metrics

logger = logging.getLogger("reference_app.cache")

TTL_S = 300
PAUSE_S = 1.0
_TIMEOUT_S = 0.5
FORMULAS = CACHES[0]


class CacheUnavailable(Exception):
    """Redis did not answer; the caller serves without it."""


async def redis_call(client: Redis, *command: Any) -> Any:
    """The only place the app's cache and activity tracking talk to Redis."""
    return await client.execute_command(*command)  # type: ignore[no-untyped-call]


class RedisLink:
    """One Redis client of the app, or none when REDIS_URL is unset."""

    def __init__(self, url: str | None) -> None:
        self.client: Redis | None = None
        if url is not None:
            self.client = Redis.from_url(
                url,
                socket_connect_timeout=_TIMEOUT_S,
                socket_timeout=_TIMEOUT_S,
                # one failed try is enough to serve from the database instead
                retry=Retry(NoBackoff(), 0),
            )
        self._paused_until = 0.0
        self._warned_at = -PAUSE_S * 10

    @property
    def configured(self) -> bool:
        return self.client is not None

    async def call(self, *command: Any) -> Any:
        """Run ``command``; CacheUnavailable while Redis is down (or just was)."""
        if self.client is None or time.monotonic() < self._paused_until:
            raise CacheUnavailable("Redis is not available")
        try:
            return await redis_call(self.client, *command)
        except (RedisError, OSError) as exc:
            now = time.monotonic()
            self._paused_until = now + PAUSE_S
            if now - self._warned_at > PAUSE_S * 10:
                self._warned_at = now
                logger.warning("Redis unreachable, serving from the database: %s", exc)
            raise CacheUnavailable(str(exc)) from exc

    async def aclose(self) -> None:
        if self.client is not None:
            await self.client.aclose()


def formula_key(formula_id: int) -> str:
    return f"formulas:v1:{formula_id}"


class FormulaCache:
    """Cached formula bodies (JSON text) in Redis, counted as hits, misses and errors."""

    def __init__(self, link: RedisLink) -> None:
        self.link = link

    async def get(self, formula_id: int) -> str | None:
        """The cached body, or None (a miss, or Redis unset or down: read the database)."""
        if not self.link.configured:
            return None
        metrics = app_metrics()
        try:
            value = await self.link.call("GET", formula_key(formula_id))
        except CacheUnavailable:
            metrics.cache_errors.labels(FORMULAS).inc()
            return None
        if value is None:
            metrics.cache_misses.labels(FORMULAS).inc()
            return None
        metrics.cache_hits.labels(FORMULAS).inc()
        return value.decode() if isinstance(value, bytes) else str(value)

    async def put(self, formula_id: int, body: str) -> None:
        # a failure was counted by the read that missed
        with suppress(CacheUnavailable):
            await self.link.call("SET", formula_key(formula_id), body, "EX", TTL_S)

    async def forget(self, formula_id: int) -> None:
        """Delete the cached body after a write; a failure is counted, the write stands."""
        try:
            await self.link.call("DEL", formula_key(formula_id))
        except CacheUnavailable:
            if self.link.configured:
                app_metrics().cache_errors.labels(FORMULAS).inc()


def formula_cache(app: Starlette) -> FormulaCache:
    """The FormulaCache create_app stored on ``app.state``."""
    cached = getattr(app.state, "formula_cache", None)
    if not isinstance(cached, FormulaCache):
        raise RuntimeError("app.state.formula_cache is not set; build the app with create_app()")
    return cached
