"""Mutants for the API contract (API-CONTRACT-*): the formulas API breaking its OpenAPI
document in one way each, so every contract check is shown to fail."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reference_app.core.config import Settings
from reference_app.mutants import register

FORMULAS = "/api/v1/formulas"
_FIELDS = frozenset({"name", "expression", "description"})


def _on_formulas(scope: Scope, methods: tuple[str, ...], *, item: bool | None = None) -> bool:
    """An HTTP request with one of ``methods`` to the collection (``item=False``), to one
    formula (``item=True``) or to either."""
    if scope["type"] != "http" or scope["method"] not in methods:
        return False
    path = str(scope.get("path", "")).rstrip("/")
    if path == FORMULAS:
        return item is not True
    return path.startswith(FORMULAS + "/") and item is not False


async def _read_body(receive: Receive) -> bytes:
    body = b""
    while True:
        message = await receive()
        chunk: bytes = message.get("body", b"")
        body += chunk
        if not message.get("more_body", False):
            return body


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def _json(send: Send, status: int, payload: Any) -> None:
    body = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class _CrashOnUnexpectedField:
    """A body with a field the model does not know crashes the handler (500), where the
    clean app answers 422."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _on_formulas(scope, ("POST", "PUT", "PATCH")):
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        try:
            fields = json.loads(body)
        except ValueError:
            fields = None
        if isinstance(fields, dict) and set(fields) - _FIELDS:
            await _json(send, 500, {"detail": "Internal Server Error"})
            return
        await self.app(scope, _replay(body), send)


class _DeleteAnswers200:
    """DELETE answers 200, which the document does not list (it says 204)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _on_formulas(scope, ("DELETE",), item=True):
            await self.app(scope, receive, send)
            return

        async def send_200(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 204:
                message = {**message, "status": 200}
            await send(message)

        await self.app(scope, receive, send_200)


class _TotalAsText:
    """The list of formulas carries its ``total`` as a string, not the integer the document's
    schema says."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _on_formulas(scope, ("GET",), item=False):
            await self.app(scope, receive, send)
            return
        await _json(send, 200, {"items": [], "total": "0", "page": 1, "size": 20, "pages": 0})


class _CreatedElsewhere:
    """A created formula's answer names another id, so its link to read it leads to 404."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _on_formulas(scope, ("POST",), item=False):
            await self.app(scope, receive, send)
            return
        start: Message = {}
        body = b""

        async def rewrite(message: Message) -> None:
            nonlocal start, body
            if message["type"] == "http.response.start":
                start = message
                return
            body += message.get("body", b"")
            if message.get("more_body", False):
                return
            if start["status"] != 201:
                await send(start)
                await send({"type": "http.response.body", "body": body})
                return
            created = json.loads(body)
            await _json(send, 201, {**created, "id": created["id"] + 1_000_000})

        await self.app(scope, receive, rewrite)


@register(
    "contract-500-unexpected-field",
    breaks=("API-CONTRACT-NO-5XX",),
    description="a formula body with a field the API does not know answers 500, not 422",
)
def _crash_on_unexpected_field(app: FastAPI, settings: Settings) -> None:
    app.add_middleware(_CrashOnUnexpectedField)


@register(
    "contract-undocumented-status",
    breaks=("API-CONTRACT-STATUS",),
    description="DELETE of a formula answers 200, a status its OpenAPI document does not list",
)
def _undocumented_status(app: FastAPI, settings: Settings) -> None:
    app.add_middleware(_DeleteAnswers200)


@register(
    "contract-body-off-schema",
    breaks=("API-CONTRACT-SCHEMA",),
    description="the list of formulas carries 'total' as a string, not the documented integer",
)
def _body_off_schema(app: FastAPI, settings: Settings) -> None:
    app.add_middleware(_TotalAsText)


@register(
    "contract-created-unreachable",
    breaks=("API-CONTRACT-STATEFUL",),
    description="a created formula's answer names an id that does not exist, so its link "
    "to read it answers 404",
)
def _created_unreachable(app: FastAPI, settings: Settings) -> None:
    app.add_middleware(_CreatedElsewhere)
