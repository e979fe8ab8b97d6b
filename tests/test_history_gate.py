"""The history as a user meets it: three gate runs against the embedded reference app into one
report folder, with one change (a defect in the second run), each run's matrix.json carrying
the trend against the runs before it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

from tests.conftest import MATRIX_SCHEMA, harness

# MON-HEALTH-004 reads the version /health reports: the runs' target version is known
SELECTION = ("--requirement=MON-HEALTH-003", "--requirement=MON-HEALTH-004")
BROKEN = "MON-HEALTH-003"
MUTANT = "health-non-iso-timestamp"  # breaks MON-HEALTH-003 and nothing else


def _gate(tmp_path: Path, *extra: str) -> tuple[int, str, dict[str, Any]]:
    result = harness("gate", *SELECTION, f"--report-dir={tmp_path / 'r'}", *extra, cwd=tmp_path)
    matrix = json.loads((tmp_path / "r" / "matrix.json").read_text())
    jsonschema.validate(matrix, json.loads(MATRIX_SCHEMA.read_text()))
    return result.returncode, result.stdout + result.stderr, matrix


def _trends(matrix: dict[str, Any]) -> dict[str, tuple[str, list[str]]]:
    rows = matrix["history"]["requirements"]
    return {rid: (row["trend"], row["recent"]) for rid, row in rows.items()}


def test_three_gate_runs_with_one_defect_between(tmp_path: Path) -> None:
    code, output, first = _gate(tmp_path)
    assert code == 0, output
    assert first["history"]["runs"] == 1
    assert _trends(first) == {
        BROKEN: ("new", ["passed"]),
        "MON-HEALTH-004": ("new", ["passed"]),
    }

    code, output, second = _gate(tmp_path, f"--mutant={MUTANT}")
    assert code == 1, output
    assert second["history"]["runs"] == 2
    assert _trends(second) == {
        BROKEN: ("newly_failing", ["passed", "failed"]),
        "MON-HEALTH-004": ("steady", ["passed", "passed"]),
    }

    code, output, third = _gate(tmp_path)
    assert code == 0, output
    # back and forth while /health said 1.0.0 all along: flaky, not fixed
    assert _trends(third) == {
        BROKEN: ("flaky", ["passed", "failed", "passed"]),
        "MON-HEALTH-004": ("steady", ["passed", "passed", "passed"]),
    }
    records = sorted((tmp_path / "r" / "history").glob("*.json"))
    assert len(records) == 3
    said = [json.loads(path.read_text()) for path in records]
    assert [r["headline"] for r in said] == ["PASS", "FAIL", "PASS"]
    assert {r["target"]["key"] for r in said} == {"embedded"}
    assert {r["target"]["version"] for r in said} == {"1.0.0"}
    assert [r["verdicts"][BROKEN] for r in said] == ["passed", "failed", "passed"]
    # only what the run selected is recorded
    assert all(set(r["verdicts"]) == {BROKEN, "MON-HEALTH-004"} for r in said)
