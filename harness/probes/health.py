"""Parse and judge a /health answer against the spec's format."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

import jsonschema

from harness.resources import fixture_path

# semver.org's own pattern
SEMVER_RE = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
# ISO-8601 extended date-time: date, 'T', time with optional fraction, optional offset
ISO_DATETIME_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?$"
)


@dataclass(frozen=True)
class Timestamp:
    """A parsed health timestamp; naive values are read as UTC, as the spec's example is."""

    value: datetime
    had_offset: bool


class HealthFormatError(ValueError):
    """The body does not have the spec's format."""


@cache
def health_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(
        fixture_path("schemas", "health.schema.json").read_text(encoding="utf-8")
    )
    return schema


def schema_errors(body: Any) -> list[str]:
    """Every way ``body`` departs from the health schema, as 'path: message' lines."""
    validator = jsonschema.Draft202012Validator(health_schema())
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in errors]


def parse_timestamp(text: str) -> Timestamp:
    if not isinstance(text, str) or not ISO_DATETIME_RE.match(text):
        raise HealthFormatError(f"timestamp {text!r} is not an ISO-8601 date-time")
    try:
        parsed = datetime.fromisoformat(text.replace(",", ".").replace("Z", "+00:00"))
    except ValueError as exc:
        raise HealthFormatError(f"timestamp {text!r} is not a valid date-time ({exc})") from None
    if parsed.tzinfo is None:
        return Timestamp(parsed.replace(tzinfo=UTC), had_offset=False)
    return Timestamp(parsed.astimezone(UTC), had_offset=True)


def clock_skew_s(timestamp: Timestamp, observed_between: tuple[datetime, datetime]) -> float:
    """Seconds outside the window in which the request was in flight (0 when inside)."""
    sent, received = observed_between
    # the spec's format carries seconds only: allow the truncated second
    earliest, latest = sent.timestamp() - 1.0, received.timestamp()
    moment = timestamp.value.timestamp()
    if moment < earliest:
        return earliest - moment
    if moment > latest:
        return moment - latest
    return 0.0


def is_semver(version: Any) -> bool:
    return isinstance(version, str) and SEMVER_RE.match(version) is not None


def component_status(body: Any, component: str) -> str | None:
    try:
        status = body["components"][component]["status"]
    except (KeyError, TypeError):
        return None
    return status if isinstance(status, str) else None
