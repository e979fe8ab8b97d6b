"""``blocked``: a check that cannot judge while another requirement fails names that root cause;
its requirement is blocked (not passed, not failed), and the summary shows it under the cause."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from harness.report.markdown import render_markdown
from harness.report.summary import render_summary
from harness.report.verdicts import fold, headline
from tests.conftest import MATRIX_SCHEMA
from tests.test_matrix_verdicts import Report, build, check, entry

ROOT, CAUSE = "SEC-RL-DEFAULT-LIMIT", "no rate limiter: 101 requests served, no 429"


def _blocked(rid: str, name: str) -> Report:
    """A check the plugin classified blocked (pytest itself saw a skip)."""
    props = {"outcome": "blocked", "blocked_by": ROOT, "message": f"blocked by {ROOT}: x"}
    return Report(f"s.py::{name}", "skipped", {"requirements": [rid], **props})


@pytest.mark.parametrize(
    ("outcomes", "verdict"),
    [
        (["blocked"], "blocked"),
        (["passed", "blocked"], "blocked"),
        (["skipped", "blocked"], "blocked"),
        (["blocked", "failed"], "failed"),
        (["blocked", "error"], "error"),
    ],
)
def test_fold_ranks_blocked_below_failures_above_passes(outcomes: list[str], verdict: str) -> None:
    assert fold(outcomes) == verdict


def test_blocked_alone_is_not_a_pass() -> None:
    assert headline({"passed": 3, "blocked": 1}) == "INCOMPLETE"
    assert headline({"failed": 1, "blocked": 4}) == "FAIL"


def test_blocked_rows_name_their_root_cause_and_sit_under_it() -> None:
    matrix = build(
        check(ROOT, "default", "failed", message=CAUSE),
        _blocked("SEC-RL-PER-IP", "per_ip"),
        _blocked("SEC-RL-XFF", "xff"),
        check("SEC-RL-429", "four29"),
    )
    row = entry(matrix, "SEC-RL-PER-IP")
    assert row["verdict"] == "blocked"
    assert row["blocked_by"] == [ROOT]
    assert row["checks"][0] == {
        "nodeid": "s.py::per_ip",
        "outcome": "blocked",
        "duration_s": 0.1,
        "message": f"blocked by {ROOT}: x",
        "blocked_by": ROOT,
    }
    assert matrix["summary"]["blocked"] == 2
    assert matrix["headline"] == "FAIL"
    text = render_summary(matrix, Path("reports"))
    lines = text.splitlines()
    assert "root causes (fix these first):" in lines
    assert f"  {ROOT} blocks SEC-RL-PER-IP, SEC-RL-XFF" in lines
    rows = [line.split()[:2] for line in lines if line.startswith("  SEC-RL-")]
    assert rows[0] == [ROOT, "FAILED"]  # the root cause leads, its dependants follow
    assert ["SEC-RL-PER-IP", "blocked"] in rows
    assert f"blocked by {ROOT}: x" in render_markdown(matrix)


def test_a_blocked_row_whose_cause_did_not_fail_is_still_shown() -> None:
    matrix = build(_blocked("SEC-RL-PER-IP", "per_ip"))
    assert matrix["headline"] == "INCOMPLETE"
    assert f"  {ROOT} blocks SEC-RL-PER-IP" in render_summary(matrix, Path("reports"))


BLOCKING_SUITE = """
import pytest

@pytest.mark.requirement("SEC-RL-DEFAULT-LIMIT")
def test_root(evidence):
    pytest.fail("no rate limiter: 101 requests served", pytrace=False)

@pytest.mark.requirement("SEC-RL-PER-IP")
def test_dependant(evidence):
    evidence.note("seen", 1)
    evidence.blocked_by("SEC-RL-DEFAULT-LIMIT", "no rate limiter: 101 requests served")
    raise AssertionError("never reached")
"""


def test_blocked_reaches_the_matrix_from_a_pytest_run(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_blocking=BLOCKING_SUITE)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1, skipped=1)
    matrix: dict[str, Any] = json.loads((pytester.path / "reports" / "matrix.json").read_text())
    jsonschema.validate(matrix, json.loads(MATRIX_SCHEMA.read_text()))
    row = entry(matrix, "SEC-RL-PER-IP")
    assert row["verdict"] == "blocked", row
    assert row["blocked_by"] == ["SEC-RL-DEFAULT-LIMIT"]
    (only,) = row["checks"]
    assert only["outcome"] == "blocked"
    assert only["message"] == (
        "blocked by SEC-RL-DEFAULT-LIMIT: no rate limiter: 101 requests served"
    )
    assert row["evidence"][0]["label"] == "seen"
    assert entry(matrix, "SEC-RL-DEFAULT-LIMIT")["verdict"] == "failed"
    assert matrix["headline"] == "FAIL"
