"""JSON bodies for every error response, with nothing internal in them."""

from __future__ import annotations

import logging
import socket

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.utils import is_body_allowed_for_status_code
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response

# Fields of a validation error that help the client; "input" and "ctx" echo the request
# back (possibly megabytes of it) and are left out.
_VALIDATION_FIELDS = ("type", "loc", "msg")
# what a client is told to wait before it tries again while the database is unreachable
_DATABASE_RETRY_AFTER_S = 5
# an unreachable database: a dropped or refused connection, an unknown host, a full pool
_UNREACHABLE = (ConnectionError, socket.gaierror, TimeoutError, PoolTimeoutError)
# PostgreSQL's SQLSTATE classes of a lost server: connection exceptions (08...) and operator
# intervention (57P01 shutting down, 57P02 crashed, 57P03 not accepting connections yet)
_UNREACHABLE_SQLSTATES = ("08", "57P")

logger = logging.getLogger("reference_app.errors")


async def http_error(request: Request, exc: Exception) -> Response:
    """404, 405, 409 ... as `{"detail": "..."}`, keeping headers such as Allow."""
    assert isinstance(exc, HTTPException)
    headers = exc.headers
    if not is_body_allowed_for_status_code(exc.status_code):
        return Response(status_code=exc.status_code, headers=headers)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)


async def validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {field: error[field] for field in _VALIDATION_FIELDS if field in error}
        for error in exc.errors()
    ]
    return JSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)


async def internal_error(request: Request, exc: Exception) -> Response:
    # Starlette re-raises the exception after this response, so the server logs the
    # traceback; the client learns only that the fault is ours.
    return JSONResponse({"detail": "Internal Server Error"}, status_code=500)


def database_unreachable(exc: BaseException) -> bool:
    """True when ``exc`` says the database cannot be reached (not that a statement failed)."""
    if isinstance(exc, DBAPIError):
        sqlstate = str(getattr(exc.orig, "sqlstate", None) or "")
        return (
            exc.connection_invalidated
            or isinstance(exc.orig, _UNREACHABLE)
            or sqlstate.startswith(_UNREACHABLE_SQLSTATES)
        )
    return isinstance(exc, _UNREACHABLE)


async def database_error(request: Request, exc: Exception) -> Response:
    # An outage is no bug of ours: a clean 503 the client may retry, and the connection stays
    # usable (the catch-all handler re-raises, and the server then drops the connection,
    # which a client that reuses it sees as a write without an answer).
    if not database_unreachable(exc):
        raise exc  # a failed statement is a bug: the catch-all answers 500 and logs it
    logger.warning("database unreachable: %s: %s", type(exc).__name__, exc)
    return JSONResponse(
        {"detail": "the database is unavailable; try again shortly"},
        status_code=503,
        headers={"Retry-After": str(_DATABASE_RETRY_AFTER_S)},
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    for unreachable in (DBAPIError, *_UNREACHABLE):
        app.add_exception_handler(unreachable, database_error)
    app.add_exception_handler(Exception, internal_error)
