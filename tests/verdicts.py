"""Reading a run's matrix as proof: a mutant is killed only by a check's own assertion, and a
check's message is its own words, never a Python exception's name."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import pytest

from tests.conftest import SuiteRun

# where a check's own words should be: "KeyError: 'id'", "json.decoder.JSONDecodeError: ...",
# "TypeError: 'NoneType' object ...", "StopIteration", a traceback's header
EXCEPTION_NAME = re.compile(
    r"Traceback \(most recent call last\)"
    r"|\b(?:[A-Za-z_]\w*\.)*(?:[A-Z]\w*(?:Error|Exception|Exit|Interrupt)|StopIteration)\b"
)
# how pytest frames a check's own verdict (an assert, pytest.fail, pytest.skip): not a crash
_VERDICT_FRAME = re.compile(r"^(?:AssertionError|Failed|Skipped)(?=: |$)(?:: )?")


def exception_named(message: str | None) -> str | None:
    """The Python exception name ``message`` carries (outside pytest's framing), if any."""
    found = EXCEPTION_NAME.search(_VERDICT_FRAME.sub("", message or "", count=1))
    return found.group(0) if found else None


def _message(check: Mapping[str, Any]) -> str:
    return str(check.get("message") or check.get("skip_reason") or "(no message)")


def ran_ids(matrix: Mapping[str, Any]) -> set[str]:
    """Requirements with a check that ran to its verdict: passed, or failed on its own
    assertion (not skipped, not a fixture error, not a crash)."""
    return {
        entry["id"]
        for entry in matrix["requirements"]
        for check in entry["checks"]
        if check["outcome"] == "passed"
        or (check["outcome"] == "failed" and not exception_named(check.get("message")))
    }


def kill_problems(run: SuiteRun, ids: Iterable[str]) -> list[str]:
    """Why ``run`` does not prove that each of ``ids`` failed by its checks' own assertions;
    empty when it does. Skips, setup errors (a mutant that does not start) and crashes are
    no kill."""
    problems = []
    for rid in ids:
        entry = run.entry(rid)
        mine = []
        if not entry["checks"]:
            reasons = "; ".join(entry.get("skip_reasons") or []) or "no check"
            mine.append(f"{rid}: no check ran ({entry['verdict']}: {reasons})")
        for check in entry["checks"]:
            outcome, message, node = check["outcome"], _message(check), check["nodeid"]
            if outcome == "skipped":
                mine.append(f"{rid}: {node} skipped: {message}")
            elif outcome not in {"passed", "failed"}:
                mine.append(f"{rid}: {node} could not judge ({outcome}): {message}")
            elif outcome == "failed" and (name := exception_named(message)):
                mine.append(f"{rid}: {node} crashed ({name}), its assertion never ran: {message}")
        if not mine and entry["verdict"] != "failed":
            mine.append(f"{rid}: verdict {entry['verdict']}, the mutant survived")
        problems += mine
    return problems


def assert_killed(run: SuiteRun, mutant: str, description: str, ids: Iterable[str]) -> None:
    """Fail (in CI and locally alike) unless ``run`` killed ``mutant`` on every one of ``ids``."""
    __tracebackhide__ = True
    problems = kill_problems(run, ids)
    if problems:
        pytest.fail(
            f"mutant {mutant} ({description}) is not proven killed:\n  "
            + "\n  ".join(problems)
            + f"\n{run.output[-4000:]}"
        )
    assert run.returncode == 1, f"mutant {mutant}: the run exited {run.returncode}, not 1"
