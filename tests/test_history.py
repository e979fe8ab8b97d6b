"""Run history: records appended per run, the trend per requirement, a bounded folder, and
records that are malformed or of another target or profile left out of the comparison."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from harness.report import history
from harness.report.history import record_run, target_version, trend, trend_lines
from tests.conftest import MATRIX_SCHEMA

START = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def _matrix(
    verdicts: dict[str, str],
    *,
    version: str | None = "1.0.0",
    kind: str = "embedded",
    url: str = "http://127.0.0.1:41000",
    profile: str = "production",
) -> dict[str, Any]:
    entries: list[dict[str, Any]] = [
        {"id": rid, "verdict": verdict, "evidence": []} for rid, verdict in verdicts.items()
    ]
    if version is not None:
        note = {"check": "suites/test_health.py::v", "kind": "note", "label": "version"}
        entries.append(
            {"id": "MON-HEALTH-004", "verdict": "passed", "evidence": [{**note, "value": version}]}
        )
    return {
        "generated_at": "2026-12-01T02:00:00+00:00",
        "harness_version": "0.9.0",
        "headline": "FAIL" if "failed" in verdicts.values() else "PASS",
        "profile": profile,
        "targets": [{"kind": kind, "url": url}],
        "requirements": entries,
    }


class Runs:
    """Successive runs recorded into one folder, a minute apart."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0
        self.warnings: list[str] = []

    def run(self, verdicts: dict[str, str], **target: Any) -> dict[str, Any]:
        self.count += 1
        now = START + timedelta(minutes=self.count)
        return record_run(_matrix(verdicts, **target), self.folder, self.warnings.append, now=now)


@pytest.fixture
def runs(tmp_path: Path) -> Runs:
    return Runs(tmp_path / "history")


def _trends(result: dict[str, Any]) -> dict[str, str]:
    return {rid: row["trend"] for rid, row in result["requirements"].items()}


def test_first_run_is_new_and_written_as_one_compact_record(runs: Runs) -> None:
    result = runs.run({"SEC-A": "passed", "SEC-B": "failed", "SEC-C": "deselected"})
    assert result["runs"] == 1
    assert result["window"] == history.WINDOW
    assert _trends(result) == {"SEC-A": "new", "SEC-B": "new", "MON-HEALTH-004": "new"}
    (path,) = runs.folder.glob("*.json")
    assert path.name.startswith("20261201T020100")
    record = json.loads(path.read_text())
    # a deselected requirement was not judged: nothing of it is recorded
    assert record["verdicts"] == {"SEC-A": "passed", "SEC-B": "failed", "MON-HEALTH-004": "passed"}
    assert record["target"] == {
        "kind": "embedded",
        "url": "http://127.0.0.1:41000",
        "key": "embedded",
        "version": "1.0.0",
    }
    assert "evidence" not in path.read_text()
    assert trend_lines(result) == [
        "history: the first recorded run of this target and profile; nothing to compare"
    ]


def test_newly_failing_fixed_and_steady(runs: Runs) -> None:
    runs.run({"A": "passed", "B": "failed", "C": "scaled", "D": "passed"})
    result = runs.run({"A": "failed", "B": "passed", "C": "error", "D": "passed", "E": "failed"})
    assert _trends(result) == {
        "A": "newly_failing",
        "B": "fixed",
        "C": "newly_failing",  # scaled counts as passing
        "D": "steady",
        "E": "new",
        "MON-HEALTH-004": "steady",
    }
    assert result["requirements"]["A"]["recent"] == ["passed", "failed"]
    lines = trend_lines(result)
    assert lines[0] == (
        "history: 2 runs of this target and profile compared: 2 newly failing, 1 fixed, "
        "0 flaky, 1 new, 2 steady"
    )
    assert "  newly failing A  (passed > failed)" in lines
    assert "  fixed         B  (failed > passed)" in lines


def test_a_skip_between_compares_with_the_last_run_that_judged(runs: Runs) -> None:
    runs.run({"A": "passed"})
    runs.run({"A": "skipped"})
    assert _trends(runs.run({"A": "failed"}))["A"] == "newly_failing"


def test_flaky_is_a_flip_back_and_forth_with_the_same_version(runs: Runs) -> None:
    runs.run({"A": "passed", "B": "passed"})
    second = runs.run({"A": "failed", "B": "passed"})
    assert _trends(second)["A"] == "newly_failing"  # one flip may be a configuration change
    third = runs.run({"A": "passed", "B": "passed"})
    assert _trends(third) == {"A": "flaky", "B": "steady", "MON-HEALTH-004": "steady"}
    assert third["requirements"]["A"]["recent"] == ["passed", "failed", "passed"]
    assert "  flaky         A  (passed > failed > passed)" in trend_lines(third)


def test_a_new_version_between_the_flips_is_no_flakiness(runs: Runs) -> None:
    runs.run({"A": "passed"}, version="1.0.0")
    runs.run({"A": "failed"}, version="1.1.0")
    assert _trends(runs.run({"A": "passed"}, version="1.1.1"))["A"] == "fixed"


def test_an_unknown_version_is_never_flaky(runs: Runs) -> None:
    runs.run({"A": "passed"}, version=None)
    runs.run({"A": "failed"}, version=None)
    result = runs.run({"A": "passed"}, version=None)
    assert _trends(result)["A"] == "fixed"
    assert all(
        json.loads(p.read_text())["target"]["version"] is None for p in runs.folder.iterdir()
    )


def test_flaky_only_within_the_window(runs: Runs) -> None:
    for verdict in ("passed", "failed", "passed"):
        runs.run({"A": verdict})
    said = [_trends(runs.run({"A": "passed"}))["A"] for _ in range(history.WINDOW - 2)]
    # the first flip leaves the window with the run that had it
    assert said == ["flaky"] * (history.WINDOW - 3) + ["steady"]


def test_trend_of_one_requirement() -> None:
    assert trend([("1.0.0", "failed")]) == "new"
    assert trend([("1.0.0", "passed"), ("1.0.0", "partial")]) == "steady"
    assert trend([("1.0.0", "error"), ("1.0.0", "uncovered")]) == "steady"
    assert trend([("1.0.0", "error"), ("1.0.0", "waived"), ("1.0.0", "passed")]) == "fixed"


def test_other_target_or_profile_is_not_compared(runs: Runs) -> None:
    runs.run({"A": "passed"}, kind="url", url="https://shop.example")
    runs.run({"A": "passed"}, profile="development")
    runs.run({"A": "failed"}, kind="url", url="https://other.example")
    runs.run({"A": "failed"})
    # the embedded app on another port is the same target
    result = runs.run({"A": "passed"}, url="http://127.0.0.1:42000")
    assert result["runs"] == 2
    assert result["requirements"]["A"] == {"trend": "fixed", "recent": ["failed", "passed"]}
    shop = runs.run({"A": "failed"}, kind="url", url="https://shop.example")
    assert shop["requirements"]["A"] == {"trend": "newly_failing", "recent": ["passed", "failed"]}


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ("{not json", "not a readable JSON record"),
        ("[1, 2]", "not a JSON object"),
        ('{"format": 99}', "unknown record format 99"),
        ('{"format": 1, "target": {}, "verdicts": {"A": 3}}', "no verdicts by requirement id"),
        ('{"format": 1, "verdicts": {}}', "no target"),
    ],
)
def test_a_malformed_record_is_skipped_with_one_line(runs: Runs, content: str, why: str) -> None:
    runs.run({"A": "passed"})
    runs.folder.joinpath("20261201T020130000000Z-bad.json").write_text(content)
    result = runs.run({"A": "failed"})
    assert _trends(result)["A"] == "newly_failing"
    assert len(runs.warnings) == 1
    assert runs.warnings[0].startswith("history: skipped 20261201T020130000000Z-bad.json: ")
    assert why in runs.warnings[0]
    assert "\n" not in runs.warnings[0]


def test_the_folder_keeps_the_newest_records_up_to_the_cap(
    runs: Runs, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history, "HISTORY_CAP", 3)
    for verdict in ("passed", "failed", "passed", "failed", "passed"):
        result = runs.run({"A": verdict})
    names = sorted(p.name for p in runs.folder.iterdir())
    assert [name[:15] for name in names] == [
        "20261201T020300",
        "20261201T020400",
        "20261201T020500",
    ]
    # compared: the three the folder held before the last run, and the last run
    assert result["runs"] == 4


def test_an_unwritable_folder_loses_the_record_not_the_run(runs: Runs) -> None:
    runs.folder.parent.mkdir(parents=True, exist_ok=True)
    runs.folder.write_text("a file where the folder should be")
    result = runs.run({"A": "passed"})
    assert _trends(result) == {"A": "new", "MON-HEALTH-004": "new"}
    assert len(runs.warnings) == 1
    assert runs.warnings[0].startswith("history: could not write")


def test_the_version_a_target_description_carries_wins() -> None:
    matrix = _matrix({"A": "passed"}, version="1.0.0")
    assert target_version(matrix) == "1.0.0"
    matrix["targets"][0]["version"] = "2.3.4"
    assert target_version(matrix) == "2.3.4"
    assert target_version(_matrix({"A": "passed"}, version=None)) is None


def test_the_history_value_fits_the_matrix_schema(runs: Runs) -> None:
    runs.run({"A": "passed"})
    matrix = _matrix({"A": "failed"})
    matrix["history"] = runs.run({"A": "failed"})
    schema = json.loads(MATRIX_SCHEMA.read_text())
    jsonschema.validate(matrix["history"], schema["properties"]["history"])
