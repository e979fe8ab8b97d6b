"""What counts as a mutant kill, and what counts as a check's own words."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import SuiteRun
from tests.verdicts import exception_named, kill_problems, ran_ids


@pytest.mark.parametrize(
    ("message", "name"),
    [
        ("KeyError: 'id'", "KeyError"),
        ("TypeError: 'NoneType' object is not subscriptable", "TypeError"),
        ("json.decoder.JSONDecodeError: Expecting value: line 1", "json.decoder.JSONDecodeError"),
        ("StopIteration", "StopIteration"),
        ("Traceback (most recent call last):", "Traceback (most recent call last)"),
        ("harness.errors.TargetStartError: the app exited", "harness.errors.TargetStartError"),
        ("AssertionError: got KeyError: 'x'", "KeyError"),
        ("httpx.ConnectError: [Errno 111] Connection refused", "httpx.ConnectError"),
        ("KeyboardInterrupt", "KeyboardInterrupt"),
        ("AssertionError: /health answered 503, expected 200", None),
        ("Failed: health timestamp '25/11/2026' is not an ISO-8601 date-time", None),
        ("GET /api/v1/formulas: expected a JSON object with 'id', got 404 text/html", None),
        ("POST /broken answered 500 text/plain 'Internal Server Error'", None),
        ("assert 404 == 201", None),
        ("", None),
        (None, None),
    ],
)
def test_exception_names_are_found_outside_pytests_framing(
    message: str | None, name: str | None
) -> None:
    assert exception_named(message) == name


def check(outcome: str, message: str | None = None, node: str = "suites/t.py::test_a") -> Any:
    data: dict[str, Any] = {"nodeid": node, "outcome": outcome}
    if message is not None:
        data["skip_reason" if outcome == "skipped" else "message"] = message
    return data


def run_of(verdict: str, *checks: dict[str, Any], rid: str = "REQ-1") -> SuiteRun:
    entry = {"id": rid, "verdict": verdict, "checks": list(checks), "skip_reasons": []}
    return SuiteRun(1, "output", {"requirements": [entry]})


OWN = "AssertionError: /health answered 503"


@pytest.mark.parametrize(
    ("run", "problem"),
    [
        (run_of("failed", check("failed", OWN)), None),
        (run_of("failed", check("passed"), check("failed", "Failed: inconclusive")), None),
        (run_of("passed", check("passed")), "the mutant survived"),
        (run_of("skipped", check("skipped", "needs stack control")), "skipped: needs stack"),
        (run_of("failed", check("failed", OWN), check("skipped", "no cookie")), "skipped"),
        (run_of("failed", check("error", "TargetStartError: exited")), "could not judge (error)"),
        (run_of("error", check("error", "GET /x: expected a, got b")), "could not judge"),
        (run_of("failed", check("failed", "KeyError: 'id'")), "crashed (KeyError)"),
        (run_of("uncovered"), "no check ran (uncovered"),
    ],
)
def test_only_a_checks_own_failed_assertion_kills(run: SuiteRun, problem: str | None) -> None:
    problems = kill_problems(run, ["REQ-1"])
    if problem is None:
        assert problems == []
    else:
        assert len(problems) == 1, problems
        assert problem in problems[0], problems


def test_a_requirement_ran_only_when_a_check_reached_its_own_verdict() -> None:
    entries = [
        {"id": "PASSED", "checks": [check("skipped", "x"), check("passed")]},
        {"id": "FAILED", "checks": [check("failed", OWN)]},
        {"id": "SKIPPED", "checks": [check("skipped", "needs stack control")]},
        {"id": "ERRORED", "checks": [check("error", "fixture 'x' not found")]},
        {"id": "CRASHED", "checks": [check("failed", "TypeError: bad")]},
        {"id": "UNCOVERED", "checks": []},
    ]
    assert ran_ids({"requirements": entries}) == {"PASSED", "FAILED"}
