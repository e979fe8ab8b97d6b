"""Security middleware layer: request validation, pure ASGI.

Two duties, in order:
1. the body size limit: a declared Content-Length over the limit is answered 413 before a
   byte of body is read; otherwise the body is streamed and counted (chunked bodies too) and
   reading stops, with 413, as soon as the count passes the limit, so an oversize body is
   never held in memory;
2. injection detection over the path (raw), query, headers, cookies and the body (forms,
   JSON, XML, text): a request carrying SQL injection, XSS or path traversal is answered 400
   with a JSON error that names the class and location, never the payload.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import anyio.to_thread
from fastapi import FastAPI

from reference_app.core.detect import Finding, Options, Scanner
from reference_app.core.security_config import SecurityConfig

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

logger = logging.getLogger("reference_app.security.validation")
_INLINE_SCAN_BYTES = 64 * 1024


class _TooLarge(Exception):
    pass


class _Disconnected(Exception):
    pass


async def _send_json(send: Send, status: int, body: dict[str, Any]) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


class RequestValidationMiddleware:
    """The size limit and injection detection in front of ``app``."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, options: Options | None = None) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.scanner = Scanner(options)

    # --- the size limit -----------------------------------------------------------------
    def declared_too_large(self, headers: list[tuple[str, str]]) -> bool:
        """A Content-Length over the limit (or unreadable) is refused before the body."""
        for name, value in headers:
            if name == "content-length":
                try:
                    return int(value) > self.max_body_bytes
                except ValueError:
                    return True
        return False

    def over_limit(self, received: int) -> bool:
        return received > self.max_body_bytes

    async def read_body(self, receive: Receive) -> bytes:
        """The whole body, counted as it streams; stops reading once past the limit."""
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Disconnected
            chunk = message.get("body", b"")
            received += len(chunk)
            if self.over_limit(received):
                raise _TooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    # --- detection ----------------------------------------------------------------------
    def inspect(self, scope: Scope, headers: list[tuple[str, str]], body: bytes) -> Finding | None:
        raw_path = scope.get("raw_path") or scope.get("path", "").encode()
        path = raw_path.decode("latin-1").split("?", 1)[0]
        query = scope.get("query_string", b"").decode("latin-1")
        return self.scanner.request(path, query, headers, body)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = [
            (name.decode("latin-1").lower(), value.decode("utf-8", "replace"))
            for name, value in scope.get("headers", [])
        ]
        if self.declared_too_large(headers):
            await self._too_large(send)
            return
        try:
            body = await self.read_body(receive)
        except _TooLarge:
            await self._too_large(send)
            return
        except _Disconnected:
            return  # the client went away: nothing to answer
        if len(body) > _INLINE_SCAN_BYTES:
            # about 1 s per MiB of text: keep the event loop serving other requests meanwhile
            finding = await anyio.to_thread.run_sync(self.inspect, scope, headers, body)
        else:
            finding = self.inspect(scope, headers, body)
        if finding is not None:
            logger.warning(
                "request rejected: %s in %s (%s)", finding.kind, finding.location, finding.reason
            )
            await _reject(send, finding)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _too_large(self, send: Send) -> None:
        await _send_json(
            send,
            413,
            {"detail": f"Request body larger than {self.max_body_bytes} bytes"},
        )


async def _reject(send: Send, finding: Finding) -> None:
    # the class and place of the attack, never the payload itself
    await _send_json(
        send,
        400,
        {
            "detail": "Request rejected by input validation",
            "error": "malicious_input",
            "type": finding.kind,
            "location": finding.location,
        },
    )


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that hands the already-read body to the app, then defers to the server."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def install(app: FastAPI, config: SecurityConfig) -> None:
    """Add this layer to ``app``."""
    options = Options(rich_text_fields=frozenset(config.rich_text_fields))
    app.add_middleware(
        RequestValidationMiddleware, max_body_bytes=config.max_body_bytes, options=options
    )
