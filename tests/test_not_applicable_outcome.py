"""``not_applicable`` from a check: what it judges does not exist in this deployment (database
SSL on SQLite). The requirement reads not applicable with the reason, and the gate's headline
is not made INCOMPLETE by it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from harness.report.summary import render_summary
from harness.report.verdicts import fold
from tests.conftest import MATRIX_SCHEMA
from tests.test_matrix_verdicts import Report, build, check, entry

REASON = "the database is SQLite, a local file: no network connection to encrypt"


def _inapplicable(rid: str, name: str) -> Report:
    """A check the plugin classified not_applicable (pytest itself saw a skip)."""
    props = {"outcome": "not_applicable", "message": REASON}
    return Report(f"s.py::{name}", "skipped", {"requirements": [rid], **props})


@pytest.mark.parametrize(
    ("outcomes", "verdict"),
    [
        (["not_applicable"], "not_applicable"),
        (["not_applicable", "not_applicable"], "not_applicable"),
        (["passed", "not_applicable"], "passed"),
        (["skipped", "not_applicable"], "skipped"),
        (["failed", "not_applicable"], "failed"),
        (["blocked", "not_applicable"], "blocked"),
    ],
)
def test_fold_leaves_out_checks_with_nothing_to_judge(outcomes: list[str], verdict: str) -> None:
    assert fold(outcomes) == verdict


def test_the_row_says_why_and_the_headline_stays_pass() -> None:
    matrix = build(
        _inapplicable("CFG-DB-SSL", "sessions"),
        _inapplicable("CFG-DB-SSL", "server"),
        check("SEC-HDR-001", "headers"),
    )
    row = entry(matrix, "CFG-DB-SSL")
    assert row["verdict"] == "not_applicable"
    assert row["applicable"] is True  # the profile says it applies; the deployment has none
    assert row["skip_reasons"] == [REASON]
    assert row["checks"][0]["skip_reason"] == REASON
    assert matrix["summary"]["not_applicable"] >= 1
    lines = render_summary(matrix, Path("reports")).splitlines()
    assert "not applicable to this deployment: 1" in lines
    assert not any(line.startswith("  CFG-DB-SSL") for line in lines)


INAPPLICABLE_SUITE = f"""
import pytest

@pytest.fixture
def database(evidence):
    evidence.note("database", "sqlite")
    evidence.not_applicable({REASON!r})

@pytest.mark.requirement("CFG-DB-SSL")
def test_database_sessions(evidence):
    evidence.note("database", "sqlite")
    evidence.not_applicable({REASON!r})
    raise AssertionError("never reached")

@pytest.mark.requirement("CFG-DB-SSL")
def test_database_server(database):
    raise AssertionError("never reached")
"""


def test_not_applicable_reaches_the_matrix_from_a_pytest_run(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_inapplicable=INAPPLICABLE_SUITE)
    result = pytester.runpytest("-p", "no:cacheprovider", "--requirement=CFG-DB-SSL")
    result.assert_outcomes(skipped=2)
    matrix: dict[str, Any] = json.loads((pytester.path / "reports" / "matrix.json").read_text())
    jsonschema.validate(matrix, json.loads(MATRIX_SCHEMA.read_text()))
    row = entry(matrix, "CFG-DB-SSL")
    assert row["verdict"] == "not_applicable", row
    # from the check itself and from its fixture (set-up) alike
    assert [c["outcome"] for c in row["checks"]] == ["not_applicable"] * 2
    assert {c["skip_reason"] for c in row["checks"]} == {REASON}
    assert [e["value"] for e in row["evidence"]] == ["sqlite", "sqlite"]
    assert matrix["headline"] == "PASS"
