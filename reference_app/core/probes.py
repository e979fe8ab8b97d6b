"""Real probes of the services the app depends on, with errors safe to show to anyone."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote, urlsplit

import httpx
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from reference_app.core.database import Database

ComponentState = Literal["up", "down", "not_configured", "assumed_up"]

_MAX_ERROR_CHARS = 200
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")


@dataclass(frozen=True)
class ComponentStatus:
    """What one probe found; `error` is set only when the component is down."""

    status: ComponentState
    error: str | None = None
    latency_ms: float | None = None

    def as_json(self) -> dict[str, object]:
        body: dict[str, object] = {"status": self.status}
        if self.error is not None:
            body["error"] = self.error
        if self.latency_ms is not None:
            body["latency_ms"] = self.latency_ms
        return body


Probe = Callable[[], Awaitable[ComponentStatus]]

UP = ComponentStatus("up")
NOT_CONFIGURED = ComponentStatus("not_configured")
ASSUMED_UP = ComponentStatus("assumed_up")


class ProbeFailure(Exception):
    """A component answered, but not the way a healthy one does."""


def url_secrets(*urls: str | None) -> tuple[str, ...]:
    """Passwords (raw and percent-decoded) embedded in the given URLs."""
    found: list[str] = []
    for url in urls:
        if not url:
            continue
        try:
            password = urlsplit(url).password
        except ValueError:
            continue
        if password:
            found.extend({password, unquote(password)})
    return tuple(found)


def redact(message: str, secrets: Iterable[str] = ()) -> str:
    """`message` without URL credentials or any of `secrets`, cut to a short line."""
    message = _URL_CREDENTIALS.sub(r"\g<scheme>***@", message)
    for secret in secrets:
        # Very short "secrets" would blank out ordinary words; URL passwords are longer.
        if len(secret) >= 3:
            message = message.replace(secret, "***")
    message = " ".join(message.split())
    if len(message) > _MAX_ERROR_CHARS:
        message = message[: _MAX_ERROR_CHARS - 3] + "..."
    return message


def describe_failure(exc: BaseException, secrets: Iterable[str] = ()) -> str:
    """A short, redacted reason for a failed probe."""
    # SQLAlchemy wraps the driver error in a long message with the SQL and a docs link.
    cause: BaseException = exc.orig if isinstance(exc, DBAPIError) and exc.orig else exc
    detail = str(cause).strip()
    reason = f"{type(cause).__name__}: {detail}" if detail else type(cause).__name__
    return redact(reason, secrets)


def database_probe(database: Database) -> Probe:
    """`SELECT 1` on a fresh session (a fresh connection for SQLite)."""

    async def probe() -> ComponentStatus:
        async with database.probe_sessionmaker() as session:
            await session.execute(text("SELECT 1"))
        return UP

    return probe


def redis_probe(url: str | None, timeout_s: float) -> Probe:
    """PING on a new connection, or not_configured when there is no REDIS_URL."""

    async def probe() -> ComponentStatus:
        if url is None:
            return NOT_CONFIGURED
        client = Redis.from_url(
            url,
            socket_connect_timeout=timeout_s,
            socket_timeout=timeout_s,
            # Retrying would turn "connection refused" into a vaguer timeout.
            retry=Retry(NoBackoff(), 0),
        )
        try:
            if not await client.ping():
                raise ProbeFailure("PING was not answered with PONG")
        finally:
            await client.aclose()
        return UP

    return probe


def mlflow_probe(tracking_uri: str | None, timeout_s: float) -> Probe:
    """GET {MLFLOW_TRACKING_URI}/health, or assumed_up when no tracking URI is set."""

    async def probe() -> ComponentStatus:
        if tracking_uri is None:
            return ASSUMED_UP
        # trust_env=False: MLflow sits on the deployment's private network, and a
        # proxy from the environment would probe the proxy instead of MLflow.
        async with httpx.AsyncClient(timeout=timeout_s, trust_env=False) as client:
            response = await client.get(f"{tracking_uri.rstrip('/')}/health")
        if response.status_code != 200:
            raise ProbeFailure(f"HTTP {response.status_code} from /health")
        return UP

    return probe
