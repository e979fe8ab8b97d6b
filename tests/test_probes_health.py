"""The health probe's pure parsing: timestamps, skew, semantic versions, schema."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from harness.probes.health import (
    HealthFormatError,
    clock_skew_s,
    component_status,
    is_semver,
    parse_timestamp,
    schema_errors,
)

SPEC_EXAMPLE = {
    "status": "healthy",
    "timestamp": "2024-01-01T00:00:00",
    "version": "1.0.0",
    "components": {
        "database": {"status": "up"},
        "redis": {"status": "up"},
        "mlflow": {"status": "assumed_up"},
    },
}


@pytest.mark.parametrize(
    ("text", "had_offset"),
    [
        ("2024-01-01T00:00:00", False),
        ("2024-01-01T00:00:00Z", True),
        ("2024-01-01T00:00:00+00:00", True),
        ("2024-01-01T01:00:00+01:00", True),
        ("2024-01-01T00:00:00.123456", False),
        ("2024-01-01T00:00:00,5Z", True),
        ("2024-01-01T00:00", False),
    ],
)
def test_iso_timestamps_parse_to_utc(text: str, had_offset: bool) -> None:
    parsed = parse_timestamp(text)
    assert parsed.had_offset is had_offset
    assert parsed.value.replace(microsecond=0) == datetime(2024, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "01/01/2024 00:00:00",
        "2024-01-01 00:00:00",
        "1704067200",
        "2024-13-01T00:00:00",
        "2024-01-01",
        "",
        "Mon, 01 Jan 2024 00:00:00 GMT",
        "2024-01-01T25:00:00",
    ],
)
def test_non_iso_timestamps_are_rejected(text: str) -> None:
    with pytest.raises(HealthFormatError):
        parse_timestamp(text)


def test_clock_skew_inside_and_outside_window() -> None:
    sent = datetime(2026, 1, 1, 12, 0, 0, 400000, tzinfo=UTC)
    received = sent + timedelta(milliseconds=200)
    inside = parse_timestamp("2026-01-01T12:00:00+00:00")  # truncated to the second
    assert clock_skew_s(inside, (sent, received)) == 0.0
    stale = parse_timestamp("2026-01-01T11:00:00+00:00")
    assert clock_skew_s(stale, (sent, received)) == pytest.approx(3599.4)
    future = parse_timestamp("2026-01-01T12:00:10+00:00")
    assert clock_skew_s(future, (sent, received)) == pytest.approx(9.4)


@pytest.mark.parametrize("version", ["1.0.0", "0.1.0", "1.2.3-rc.1", "1.2.3+build.5", "10.20.30"])
def test_semver_accepts(version: str) -> None:
    assert is_semver(version)


@pytest.mark.parametrize("version", ["latest", "1.0", "v1.0.0", "01.0.0", "1.0.0-", None, 1])
def test_semver_rejects(version: object) -> None:
    assert not is_semver(version)


def test_spec_example_is_valid() -> None:
    assert schema_errors(SPEC_EXAMPLE) == []


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda b: b["components"].pop("mlflow"), "components"),
        (lambda b: b.pop("version"), "(root)"),
        (lambda b: b.update(status="ok"), "status"),
        (lambda b: b["components"]["redis"].update(status="fine"), "components/redis/status"),
        (lambda b: b.update(components=[]), "components"),
    ],
)
def test_schema_names_the_departure(mutate: object, path: str) -> None:
    import copy

    body = copy.deepcopy(SPEC_EXAMPLE)
    mutate(body)  # type: ignore[operator]
    errors = schema_errors(body)
    assert errors
    assert errors[0].startswith(path)


def test_component_status() -> None:
    assert component_status(SPEC_EXAMPLE, "mlflow") == "assumed_up"
    assert component_status(SPEC_EXAMPLE, "kafka") is None
    assert component_status("not a dict", "redis") is None
