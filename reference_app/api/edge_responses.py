"""The answers the security layer in front of every route may give (core/middleware), listed
on every operation of the OpenAPI document: a client, and a contract tester, learns from the
document that any call may meet them."""

from __future__ import annotations

from typing import Any

from reference_app.schemas import ErrorBody

EDGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {
        "model": ErrorBody,
        "description": "Refused by the request validation layer (input shaped like an attack) "
        "or a Host the deployment does not serve",
    },
    403: {"model": ErrorBody, "description": "The client's address is not allowed"},
    413: {"model": ErrorBody, "description": "The body is larger than the limit"},
    429: {
        "model": ErrorBody,
        "description": "Rate limit exceeded; Retry-After says when to try again",
    },
}
