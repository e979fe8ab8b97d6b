"""Evidence a check collects: notes and redacted HTTP exchanges, small and JSON-safe.

Nothing secret is kept: credential headers, credential fields of JSON bodies and every value
registered with ``harness.report.redaction`` are masked (``to_json`` masks again, so a secret
registered after a note was taken is masked too).
"""

from __future__ import annotations

from typing import Any, NoReturn

import httpx

from harness.report.redaction import MASK, is_secret_name, redact_body, redact_text, redact_value

MAX_ITEMS = 20
# the last slots are kept for notes: a check's own summary outweighs one more sample exchange
NOTE_SLOTS = 5
MAX_BODY_CHARS = 2000
SENSITIVE_HEADERS = frozenset(
    {"authorization", "cookie", "set-cookie", "proxy-authorization", "x-api-key"}
)


def redact_headers(headers: httpx.Headers) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in headers.multi_items():
        key = name.lower()
        shown = MASK if key in SENSITIVE_HEADERS else value
        out[key] = f"{out[key]}, {shown}" if key in out else shown
    return out


def _body(text: str) -> str:
    if len(text) <= MAX_BODY_CHARS:
        return text
    return text[:MAX_BODY_CHARS] + f"... [{len(text) - MAX_BODY_CHARS} more characters]"


class Evidence:
    """What one check saw; it lands in the matrix next to the check's outcome."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.dropped = 0
        self.applied_params: dict[str, Any] = {}
        self.scale: dict[str, Any] | None = None
        self.blocker: dict[str, str] | None = None
        self.inapplicable: str | None = None  # why the claim does not apply to this deployment

    def _add(self, item: dict[str, Any]) -> None:
        room = MAX_ITEMS if item["kind"] == "note" else MAX_ITEMS - NOTE_SLOTS
        if len(self.items) >= room:
            self.dropped += 1
            return
        self.items.append(item)

    def note(self, label: str, value: Any) -> None:
        """Record a measured value or observation (must be JSON-serialisable)."""
        self._add({"kind": "note", "label": label, "value": value})

    def exchange(self, response: httpx.Response) -> None:
        """Record a request/response pair with credentials redacted."""
        request = response.request
        try:
            body = response.text
        except (httpx.ResponseNotRead, UnicodeDecodeError):
            body = "[not read]"
        self._add(
            {
                "kind": "http",
                "request": redact_text(f"{request.method} {request.url}"),
                "request_headers": redact_headers(request.headers),
                "status": response.status_code,
                "response_headers": redact_headers(response.headers),
                "body": _body(redact_body(body)),
            }
        )

    def applied(self, name: str, value: Any) -> None:
        """Record the value of parameter ``name`` the check actually applied."""
        self.applied_params[name] = MASK if is_secret_name(name) and value else value

    def scaled(self, ran_s: float, spec_s: float) -> None:
        """The check judged a load run of ``ran_s`` seconds where the spec asks ``spec_s``: a
        pass of it is ``scaled``, not ``passed``."""
        self.scale = {
            "ran_s": round(ran_s, 1),
            "spec_s": spec_s,
            "share": f"{duration_text(ran_s)} of {duration_text(spec_s)}",
        }

    def blocked_by(self, rid: str, reason: str) -> NoReturn:
        """End the check as ``blocked``: it cannot be judged while requirement ``rid`` (its
        root cause, judged by its own check) fails for ``reason``."""
        import pytest

        self.blocker = {"blocked_by": rid, "message": f"blocked by {rid}: {reason}"}
        pytest.skip(self.blocker["message"])

    def not_applicable(self, reason: str) -> NoReturn:
        """End the check as ``not_applicable``: what it judges does not exist in this
        deployment (a database connection to encrypt where the database is a local file)."""
        import pytest

        self.inapplicable = reason
        pytest.skip(f"not applicable: {reason}")

    def to_json(self) -> list[dict[str, Any]]:
        items = list(self.items)
        if self.dropped:
            items.append({"kind": "note", "label": "truncated", "value": f"{self.dropped} more"})
        redacted: list[dict[str, Any]] = redact_value(items)
        return redacted


def duration_text(seconds: float) -> str:
    """``12 s``, ``10 min``, ``1.5 h``: a duration as a person says it."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:g} min"
    return f"{seconds / 3600:g} h"


class AppliedParams(dict[str, Any]):
    """The parameters one check reads: every value read is recorded in its evidence."""

    def __init__(self, values: dict[str, Any], evidence: Evidence) -> None:
        super().__init__(values)
        self._evidence = evidence

    def __getitem__(self, name: str) -> Any:
        value = super().__getitem__(name)
        self._evidence.applied(name, value)
        return value

    def get(self, name: str, default: Any = None) -> Any:
        if name in self:
            return self[name]
        return default
