"""Unit tests of the audit-record and IP-filter probes (no server)."""

from __future__ import annotations

from typing import Any

import pytest

from harness.probes.audit import (
    failure_outcome,
    field_problems,
    is_iso8601_utc,
    missing_fields,
    new_request_id,
    parse_records,
    records_for,
    secrets_in,
    wait_for_records,
)
from harness.probes.ipfilter import address_outside, first_address, is_listed

LOG = """\
INFO:     Started server process [1]
{"kind":"audit","request_id":"a","status":200}
2026-11-26T00:00:00Z backend {"request_id":"b","status":404}
{"not":"an audit record"}
{broken json
{"request_id":"a","status":200,"dup":true}
"""


def test_parse_records_skips_other_lines() -> None:
    records = parse_records(LOG)
    assert [r["request_id"] for r in records] == ["a", "b", "a"]
    assert len(records_for(records, "a")) == 2
    assert records_for(records, "zzz") == []


def test_new_request_ids_are_unique_and_well_formed() -> None:
    first, second = new_request_id("x"), new_request_id("x")
    assert first != second
    assert first.startswith("harness-x-")


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("2026-11-26T00:41:02.123Z", True),
        ("2026-11-26T00:41:02+00:00", True),
        ("2026-11-26T00:41:02.5+0000", True),
        ("2026-11-26T00:41:02+01:00", False),
        ("2026-11-26 00:41:02Z", False),
        ("2026-11-26T00:41:02", False),  # no zone: not known to be UTC
        ("26/11/2026 00:41:02", False),
        ("2026-13-26T00:41:02Z", False),
        (1764117662, False),
        (None, False),
    ],
)
def test_iso8601_utc(value: object, ok: bool) -> None:
    assert is_iso8601_utc(value) is ok


def test_fields_and_problems() -> None:
    record: dict[str, Any] = {
        "time": "2026-11-26T00:41:02Z",
        "method": "GET",
        "status": 200,
        "latency_ms": 1.5,
    }
    assert missing_fields(record, ["time", "method", "user"]) == ["user"]
    assert field_problems(record, {"method": "GET", "status": 200}) == []
    problems = field_problems({**record, "latency_ms": "fast", "time": "now"}, {"status": 404})
    assert len(problems) == 3
    assert field_problems({"latency_ms": True}, {}) != []
    assert field_problems({"latency_ms": -1}, {}) != []


def test_secrets_in_finds_nested_values() -> None:
    records = [{"request_id": "a", "headers": {"authorization": "Bearer s3cret-token"}}]
    assert secrets_in(records, ["s3cret-token", "other", ""]) == ["s3cret-token"]
    assert secrets_in([], ["x"]) == []


@pytest.mark.parametrize(
    ("record", "failed"),
    [
        ({"outcome": "failure"}, True),
        ({"event": "login_failed"}, True),
        ({"result": "DENIED"}, True),
        ({"status": 401}, True),
        ({"outcome": "success", "status": 200}, False),
        ({}, False),
    ],
)
def test_failure_outcome(record: dict[str, Any], failed: bool) -> None:
    assert failure_outcome(record) is failed


def test_wait_for_records_polls_until_found() -> None:
    reads: list[int] = []

    def read() -> list[dict[str, Any]]:
        reads.append(1)
        return [{"request_id": "late"}] if len(reads) >= 3 else []

    found = wait_for_records(read, ["late"], timeout_s=5, sleep=lambda _: None)
    assert found["late"] == [{"request_id": "late"}]
    assert len(reads) == 3
    missing = wait_for_records(lambda: [], ["none"], timeout_s=0, sleep=lambda _: None)
    assert missing == {"none": []}


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        (["127.0.0.253"], "127.0.0.253"),
        (["10.0.0.1", "127.0.0.66/32"], "127.0.0.66"),
        (["127.0.5.0/24"], "127.0.5.1"),
        (["10.0.0.0/8", "::1"], None),
        (["not an address"], None),
        ([], None),
    ],
)
def test_first_address(entries: list[str], expected: str | None) -> None:
    assert first_address(entries) == expected


def test_address_outside() -> None:
    assert is_listed("127.0.0.5", ["127.0.0.0/29"])
    assert not is_listed("127.0.0.9", ["127.0.0.0/29", "junk"])
    assert address_outside(["127.0.0.251"], ["127.0.0.251", "127.0.0.252"]) == "127.0.0.252"
    with pytest.raises(ValueError, match="every candidate"):
        address_outside(["127.0.0.0/8"], ["127.0.0.1"])
