"""Audit records: parse them out of a log, match them to the harness's requests by request
id, and judge their fields."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

Record = dict[str, Any]

_ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]00:?00)$")


def new_request_id(label: str = "probe") -> str:
    """A request id nobody else sends: the harness finds its record by it."""
    return f"harness-{label}-{uuid.uuid4().hex}"


def _as_record(line: str) -> Record | None:
    start = line.find("{")
    if start < 0:
        return None
    try:
        value = json.loads(line[start:])
    except ValueError:
        return None
    return value if isinstance(value, dict) and "request_id" in value else None


def parse_records(text: str) -> list[Record]:
    """The audit records in a log: JSON objects with a ``request_id``, one a line (a prefix
    before the object, e.g. a log timestamp, is allowed); other lines are skipped."""
    records = []
    for line in text.splitlines():
        record = _as_record(line)
        if record is not None:
            records.append(record)
    return records


def records_for(records: Iterable[Record], request_id: str) -> list[Record]:
    return [record for record in records if record.get("request_id") == request_id]


def wait_for_records(
    read: Callable[[], list[Record]],
    request_ids: Sequence[str],
    timeout_s: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, list[Record]]:
    """The records of each request id, read until every id has one or ``timeout_s`` passed
    (a record is written when the response is complete; logs may lag behind)."""
    deadline = time.monotonic() + timeout_s
    while True:
        records = read()
        found = {rid: records_for(records, rid) for rid in request_ids}
        if all(found.values()) or time.monotonic() >= deadline:
            return found
        sleep(0.1)


def is_iso8601_utc(value: object) -> bool:
    """True for an ISO-8601 timestamp in UTC (``Z`` or a zero offset)."""
    if not isinstance(value, str) or not _ISO_UTC.match(value):
        return False
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return parsed.utcoffset() == timedelta(0)


def missing_fields(record: Mapping[str, Any], fields: Iterable[str]) -> list[str]:
    return [name for name in fields if name not in record]


def field_problems(record: Mapping[str, Any], expected: Mapping[str, Any]) -> list[str]:
    """Why ``record`` does not describe the request: a wrong value or a malformed field."""
    problems = [
        f"{name} is {record.get(name)!r}, expected {value!r}"
        for name, value in expected.items()
        if name in record and record[name] != value
    ]
    if "time" in record and not is_iso8601_utc(record["time"]):
        problems.append(f"time {record['time']!r} is not an ISO-8601 UTC timestamp")
    latency = record.get("latency_ms")
    if "latency_ms" in record and (
        isinstance(latency, bool) or not isinstance(latency, int | float) or latency < 0
    ):
        problems.append(f"latency_ms {latency!r} is not a non-negative number")
    return problems


def secrets_in(records: Iterable[Record], secrets: Iterable[str]) -> list[str]:
    """Which of ``secrets`` occur anywhere in the records (keys and values, nested)."""
    text = "\n".join(json.dumps(record, ensure_ascii=False) for record in records)
    return [secret for secret in secrets if secret and secret in text]


def failure_outcome(record: Mapping[str, Any]) -> bool:
    """True when a login record says it failed: an outcome/result/event that names a
    failure, or a 401/403 status."""
    words = " ".join(
        str(record.get(key, "")) for key in ("outcome", "result", "event", "action")
    ).lower()
    return any(word in words for word in ("fail", "denied", "invalid")) or record.get("status") in (
        401,
        403,
    )
