"""JSON bodies for every error response, with nothing internal in them."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.utils import is_body_allowed_for_status_code
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response

# Fields of a validation error that help the client; "input" and "ctx" echo the request
# back (possibly megabytes of it) and are left out.
_VALIDATION_FIELDS = ("type", "loc", "msg")


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


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(Exception, internal_error)
