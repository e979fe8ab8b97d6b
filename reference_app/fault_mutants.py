"""Mutants of the app under faults: a Redis outage that takes the API down, and writes
acknowledged while the database is unreachable that never reach it (MON-FAULT-*)."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reference_app.api.formulas import router as formulas_router
from reference_app.core import cache
from reference_app.core.config import Settings
from reference_app.core.database import database_of
from reference_app.core.probes import database_probe
from reference_app.input_mutants import replace
from reference_app.mutants import Mutant, register, register_mutant

# ids of buffered writes: inside the API's id range, so reading one back answers 404
_BUFFERED_IDS = (1_000_000, 2**31 - 1)


async def _redis_errors_escape(client: Redis, *command: Any) -> Any:
    """The cache's Redis call, wrapping a connection error in an exception of its own that
    the cache does not expect: the read fails instead of going to the database."""
    try:
        return await _ORIGINAL_REDIS_CALL(client, *command)
    except (RedisError, OSError) as exc:
        raise RuntimeError(f"cache backend failed: {exc}") from exc


_ORIGINAL_REDIS_CALL = cache.redis_call


def _app_untouched(app: FastAPI, settings: Settings) -> None:
    """The defect is in the cache's Redis call, replaced for the whole process."""


def _take_app_down_with_redis() -> None:
    replace(cache, "redis_call", _redis_errors_escape)


register_mutant(
    Mutant(
        "redis-loss-takes-app-down",
        breaks=("MON-FAULT-REDIS-SERVING",),
        description="a Redis error escapes the formula cache: GET /api/v1/formulas/{id} "
        "answers 500 while Redis is down",
        apply=_app_untouched,
        process=_take_app_down_with_redis,
    )
)


async def _body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


class _BufferWritesWhileDown:
    """While the database does not answer, a new formula is "buffered" and acknowledged with
    201 and an id; the buffer is never replayed, so the write is gone."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.create_path = formulas_router.prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        is_create = (
            scope["type"] == "http"
            and scope.get("method") == "POST"
            and scope.get("path", "").rstrip("/") == self.create_path
        )
        if not is_create or await self._database_answers(scope):
            await self.app(scope, receive, send)
            return
        try:
            sent: Any = json.loads(await _body(receive))
        except ValueError:
            sent = None
        if not isinstance(sent, dict):
            await self.app(scope, receive, send)  # nothing to buffer: the app answers
            return
        now = datetime.now(UTC).isoformat()
        buffered = {
            "description": None,
            **sent,
            "id": random.randint(*_BUFFERED_IDS),
            "created_at": now,
            "updated_at": now,
        }
        body = json.dumps(buffered).encode()
        start: Message = {
            "type": "http.response.start",
            "status": 201,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", b"%d" % len(body)),
            ],
        }
        await send(start)
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    async def _database_answers(scope: Scope) -> bool:
        try:
            await database_probe(database_of(scope["app"]))()
        except Exception:
            return False
        return True


@register(
    "writes-acknowledged-while-database-down",
    breaks=("MON-FAULT-NO-LOST-WRITES",),
    description="while the database is unreachable a new formula is acknowledged (201, an id) "
    "from a buffer that is never written to the database",
)
def _writes_acknowledged_while_down(app: FastAPI, settings: Settings) -> None:
    app.add_middleware(_BufferWritesWhileDown)
