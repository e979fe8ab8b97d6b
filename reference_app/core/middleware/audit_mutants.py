"""Mutants of the audit log: each breaks one SEC-AUD claim."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from starlette.types import Message, Receive, Scope, Send

from reference_app.core.config import Settings
from reference_app.core.middleware.audit import AuditMiddleware
from reference_app.mutants import register, replace_middleware


class _OnlySuccesses(AuditMiddleware):
    """Errors and refusals leave no trace."""

    def write(self, entry: dict[str, Any]) -> None:
        if entry["status"] < 400:
            super().write(entry)


class _NoRequestId(AuditMiddleware):
    def write(self, entry: dict[str, Any]) -> None:
        entry.pop("request_id", None)
        super().write(entry)


class _MissingFields(AuditMiddleware):
    def write(self, entry: dict[str, Any]) -> None:
        entry.pop("latency_ms", None)
        entry.pop("user", None)
        super().write(entry)


class _NothingSensitive(AuditMiddleware):
    def write(self, entry: dict[str, Any]) -> None:
        super().write({**entry, "sensitive": False})


class _FailedLoginUnrecorded(AuditMiddleware):
    """The endpoint's note (user name, outcome) is dropped."""

    def write(self, entry: dict[str, Any]) -> None:
        for key in ("event", "outcome", "username"):
            entry.pop(key, None)
        super().write(entry)


class _LogsBodyAndHeaders(AuditMiddleware):
    """Debug logging left on: the body and every header go into the record."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        captured = bytearray()
        scope.setdefault("state", {})["audit_body"] = captured

        async def capturing() -> Message:
            message = await receive()
            captured.extend(message.get("body", b""))
            return message

        await super().__call__(scope, capturing, send)

    def record(self, scope: Scope, request_id: str, status: int, began: float) -> dict[str, Any]:
        entry = super().record(scope, request_id, status, began)
        entry["headers"] = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        entry["body"] = bytes(scope["state"].get("audit_body", b"")).decode("utf-8", "replace")
        return entry


def _mutant(name: str, breaks: tuple[str, ...], description: str, defective: type) -> None:
    def apply(app: FastAPI, settings: Settings) -> None:
        replace_middleware(app, AuditMiddleware, defective)

    register(name, breaks=breaks, description=description)(apply)


_mutant(
    "audit-only-successes",
    ("SEC-AUD-EVERY-REQUEST", "SEC-AUD-REJECTED"),
    "no audit record for responses with status 400 or above",
    _OnlySuccesses,
)
_mutant(
    "audit-no-request-id",
    ("SEC-AUD-REQUEST-ID",),
    "audit records carry no request id",
    _NoRequestId,
)
_mutant(
    "audit-missing-fields",
    ("SEC-AUD-FIELDS",),
    "audit records without latency and user",
    _MissingFields,
)
_mutant(
    "audit-nothing-sensitive",
    ("SEC-AUD-SENSITIVE",),
    "no record is flagged sensitive",
    _NothingSensitive,
)
_mutant(
    "audit-failed-login-unrecorded",
    ("SEC-AUD-FAILED-LOGIN",),
    "a failed login's user name and outcome are not recorded",
    _FailedLoginUnrecorded,
)
_mutant(
    "audit-logs-secrets",
    ("SEC-AUD-NO-SECRETS",),
    "the request body (the login password) and every header (Authorization, Cookie) are logged",
    _LogsBodyAndHeaders,
)
