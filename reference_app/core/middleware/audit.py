"""Security middleware layer: the audit log (spec: Security Middleware > Audit Logging).

One JSON line per HTTP request, written when the response is complete: time, client IP,
method, path, status, user, request id, latency, whether the path is sensitive, plus what
the endpoint added with ``note`` (a login's user name and outcome). Never a body, a query
string, or the value of Authorization or Cookie. The request id comes from a well-formed
``X-Request-ID`` or is generated, and is echoed on the response.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import re
import sys
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reference_app.core.middleware.ipfilter import client_address, parse_networks
from reference_app.core.security_config import SecurityConfig
from reference_app.core.tokens import bearer_subject

LOGGER_NAME = "reference_app.audit"
REQUEST_ID_HEADER = b"x-request-id"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_NOTE_KEY = "audit_note"
# what an endpoint may add to its record; anything else is dropped
_NOTE_FIELDS = ("event", "outcome", "username")

Sink = Callable[[str], None]


def note(scope: Scope, **fields: str) -> None:
    """Add fields (``event``, ``outcome``, ``username``) to the current request's record."""
    state = scope.setdefault("state", {})
    state.setdefault(_NOTE_KEY, {}).update(
        {key: value[:100] for key, value in fields.items() if key in _NOTE_FIELDS}
    )


def is_sensitive(path: str, prefixes: Iterable[str]) -> bool:
    """True when ``path`` is one of the prefixes or below one (``/auth`` is not ``/authors``)."""
    return any(
        path == prefix.rstrip("/") or path.startswith(prefix.rstrip("/") + "/")
        for prefix in prefixes
    )


def request_id_of(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name.lower() == REQUEST_ID_HEADER:
            text = str(value.decode("latin-1"))
            if _REQUEST_ID.match(text):
                return text
            break
    return new_request_id()


def new_request_id() -> str:
    """A random version-4 UUID as 32 hex digits.

    From the process's Mersenne Twister, not ``uuid4``: ``os.urandom`` is a system call that
    releases the GIL on every request, and a busy worker thread then holds the event loop up
    for a whole switch interval. A correlation id needs uniqueness, not secrecy, and
    ``random`` is seeded from the OS at start and again in every forked worker.
    """
    return uuid.UUID(int=random.getrandbits(128), version=4).hex


def _header(scope: Scope, wanted: bytes) -> str | None:
    for name, value in scope.get("headers", ()):
        if name.lower() == wanted:
            return str(value.decode("latin-1"))
    return None


def file_sink(path: str) -> Sink:
    """Append each record as one line to ``path`` (opened per write: rotation-safe)."""

    def write(line: str) -> None:
        with open(path, "a", encoding="utf-8") as log:
            log.write(line + "\n")

    return write


def logger_sink() -> Sink:
    """The ``reference_app.audit`` logger, which writes bare JSON lines to stderr."""
    logger = logging.getLogger(LOGGER_NAME)
    own = next((h for h in logger.handlers if getattr(h, "_audit", False)), None)
    if not isinstance(own, logging.StreamHandler):
        own = logging.StreamHandler(sys.stderr)
        own.setFormatter(logging.Formatter("%(message)s"))
        own._audit = True  # type: ignore[attr-defined]
        logger.addHandler(own)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    handler: logging.StreamHandler[Any] = own

    def write(line: str) -> None:
        # Set up as above, the logger would only write the line to the handler's stream, and
        # a LogRecord (a getpid system call, the caller's frame, the thread's name) costs more
        # than the rest of the audit record: write it straight. Reconfigured, log as usual.
        plain = logger.handlers == [handler] and not logger.filters and not handler.filters
        if not (plain and logger.isEnabledFor(logging.INFO) and handler.level <= logging.INFO):
            logger.info(line)
            return
        with handler.lock or contextlib.nullcontext():
            handler.stream.write(line + handler.terminator)
            handler.flush()

    return write


class AuditMiddleware:
    """Writes one audit record per HTTP request and sets the X-Request-ID response header."""

    def __init__(self, app: ASGIApp, config: SecurityConfig, secret: str, sink: Sink) -> None:
        self.app = app
        self.config = config
        self.secret = secret
        self.sink = sink
        self.trusted = parse_networks(tuple(config.trusted_proxies))

    def record(self, scope: Scope, request_id: str, status: int, began: float) -> dict[str, Any]:
        path = str(scope.get("path", ""))
        entry: dict[str, Any] = {
            "kind": "audit",
            "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "client_ip": client_address(scope, self.trusted),
            "method": scope.get("method", ""),
            "path": path,
            "status": status,
            "user": bearer_subject(self.secret, _header(scope, b"authorization")),
            "request_id": request_id,
            "latency_ms": round((time.perf_counter() - began) * 1000, 3),
            "sensitive": is_sensitive(path, self.config.sensitive_paths),
        }
        entry.update(scope.get("state", {}).get(_NOTE_KEY, {}))
        return entry

    def write(self, entry: dict[str, Any]) -> None:
        self.sink(json.dumps(entry, separators=(",", ":"), ensure_ascii=False))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        request_id = request_id_of(scope)
        scope.setdefault("state", {})
        status = 500  # when the app fails before it answers

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [
                    (name, value)
                    for name, value in message.get("headers", ())
                    if name.lower() != REQUEST_ID_HEADER
                ]
                headers.append((REQUEST_ID_HEADER, request_id.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self.write(self.record(scope, request_id, status, began))


def install(app: FastAPI, config: SecurityConfig) -> None:
    """Add this layer to ``app``."""
    sink = file_sink(config.audit_log_path) if config.audit_log_path else logger_sink()
    settings = getattr(app.state, "settings", None)
    secret = settings.secret_key.get_secret_value() if settings is not None else ""
    app.add_middleware(AuditMiddleware, config=config, secret=secret, sink=sink)
