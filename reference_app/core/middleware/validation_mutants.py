"""Mutants of request validation (size limit, injection detection) and of parameterised SQL."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote_plus

from fastapi import FastAPI
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from reference_app.core.config import Settings
from reference_app.core.database import database_of
from reference_app.core.detect import ALL_CLASSES, Finding, Options
from reference_app.core.middleware.validation import (
    Receive,
    RequestValidationMiddleware,
    Scope,
    _TooLarge,
)
from reference_app.mutants import register, replace_middleware


def _swap(app: FastAPI, defective: type[RequestValidationMiddleware]) -> None:
    replace_middleware(app, RequestValidationMiddleware, defective)


def _with_options(options: Options) -> type[RequestValidationMiddleware]:
    class Configured(RequestValidationMiddleware):
        def __init__(self, app: Any, max_body_bytes: int, **_: Any) -> None:
            super().__init__(app, max_body_bytes, options)

    return Configured


async def _read_all(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if message["type"] == "http.disconnect" or not message.get("more_body", False):
            return b"".join(chunks)


class _CountsOnlyDeclaredLength(RequestValidationMiddleware):
    """Trusts Content-Length: a chunked body (no length) is never counted."""

    async def read_body(self, receive: Receive) -> bytes:
        return await _read_all(receive)


class _OffByOne(RequestValidationMiddleware):
    """Lets one byte over the limit through."""

    def declared_too_large(self, headers: list[tuple[str, str]]) -> bool:
        length = next((v for n, v in headers if n == "content-length"), "0")
        return length.isdigit() and int(length) > self.max_body_bytes + 1

    def over_limit(self, received: int) -> bool:
        return received > self.max_body_bytes + 1


class _BuffersBody(RequestValidationMiddleware):
    """Reads the whole body first and only then looks at its size."""

    def declared_too_large(self, headers: list[tuple[str, str]]) -> bool:
        return False

    async def read_body(self, receive: Receive) -> bytes:
        body = await _read_all(receive)
        if len(body) > self.max_body_bytes:
            raise _TooLarge
        return body


_KEYWORDS = re.compile(r"\b(?:select|union|insert|delete|drop|and|or|not|script|alert)\b", re.I)


class _KeywordBlocklist(RequestValidationMiddleware):
    """The naive filter: any SQL or script keyword anywhere in the query is an attack."""

    def inspect(self, scope: Scope, headers: list[tuple[str, str]], body: bytes) -> Finding | None:
        if _KEYWORDS.search(unquote_plus(scope.get("query_string", b"").decode("latin-1"))):
            return Finding("sqli", "query", "keyword")
        return super().inspect(scope, headers, body)


@register(
    "validation-size-needs-content-length",
    breaks=("SEC-VAL-SIZE-CHUNKED",),
    description="the body limit is enforced only when Content-Length is present",
)
def _size_needs_content_length(app: FastAPI, settings: Settings) -> None:
    _swap(app, _CountsOnlyDeclaredLength)


@register(
    "validation-limit-off-by-one",
    breaks=("SEC-VAL-SIZE-LIMIT",),
    description="a body one byte over the limit is accepted",
)
def _limit_off_by_one(app: FastAPI, settings: Settings) -> None:
    _swap(app, _OffByOne)


@register(
    "validation-buffers-body",
    breaks=("SEC-VAL-SIZE-NO-BUFFER",),
    description="the whole body is read before its size is checked",
)
def _buffers_body(app: FastAPI, settings: Settings) -> None:
    _swap(app, _BuffersBody)


@register(
    "validation-traversal-decodes-once",
    breaks=("SEC-VAL-TRAVERSAL",),
    description="the traversal filter percent-decodes once, so double encoding gets through",
)
def _traversal_decodes_once(app: FastAPI, settings: Settings) -> None:
    _swap(app, _with_options(Options(traversal_rounds=1)))


@register(
    "validation-no-sqli",
    breaks=("SEC-VAL-SQLI",),
    description="SQL injection detection is off",
)
def _no_sqli(app: FastAPI, settings: Settings) -> None:
    _swap(app, _with_options(Options(classes=ALL_CLASSES - {"sqli"})))


@register(
    "validation-no-xss",
    breaks=("SEC-VAL-XSS",),
    description="XSS detection is off",
)
def _no_xss(app: FastAPI, settings: Settings) -> None:
    _swap(app, _with_options(Options(classes=ALL_CLASSES - {"xss"})))


@register(
    "validation-keyword-blocklist",
    breaks=("SEC-VAL-FALSE-POSITIVES",),
    description="a keyword list in front of the detectors rejects benign text ('rock and roll')",
)
def _keyword_blocklist(app: FastAPI, settings: Settings) -> None:
    _swap(app, _KeywordBlocklist)


# --- all database queries stay parameterised -------------------------------------------------


@register(
    "formulas-search-string-sql",
    breaks=("INP-SQLI",),
    description="the formula search pastes the search text into its SQL",
)
def _search_by_string_sql(app: FastAPI, settings: Settings) -> None:
    async def search(request: Request) -> JSONResponse:
        q = request.query_params.get("q", "")
        sql = (
            "SELECT id, name, expression, description FROM formulas "  # noqa: S608 - the defect
            f"WHERE name LIKE '%{q}%' OR description LIKE '%{q}%' ORDER BY id"
        )
        async with database_of(app).sessionmaker() as session:
            rows = (await session.execute(text(sql))).mappings().all()
        items = [dict(row) for row in rows]
        return JSONResponse({"items": items, "total": len(items), "page": 1, "size": 20})

    # first in the routing table, so it shadows the real GET /api/v1/formulas
    app.router.routes.insert(0, Route("/api/v1/formulas", search, methods=["GET"]))
