"""Verdict semantics: a check's outcome, a requirement's verdict, the gate's headline.

A requirement is ``failed`` when any check failed, ``error`` when none failed but one could not
judge, ``passed`` only when every check ran and passed at full scale, ``scaled`` when every
check passed but a load scenario ran shortened, ``partial`` when some passed and others
skipped, ``skipped`` when every check skipped, ``blocked`` when none failed but a check could
not judge because another requirement (its root cause, ``blocked_by``) fails; ``uncovered``
has no check, ``not_applicable`` does not apply to the profile (or every check found that
what it judges does not exist in this deployment: ``evidence.not_applicable``) and
``waived`` carries a waiver; ``attested`` is a ``kind: attestation`` requirement (a human
process no program can check) with a current attestation, and without one it is
``skipped``; ``deselected`` was left out by the run's ``--requirement`` selection. The gate
says PASS only when every applicable, selected requirement passed, is waived or is attested.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

OUTCOMES = ("passed", "failed", "error", "skipped", "blocked", "not_applicable")
VERDICTS = (
    "passed",
    "scaled",
    "partial",
    "failed",
    "error",
    "blocked",
    "skipped",
    "not_applicable",
    "uncovered",
    "waived",
    "attested",
    "deselected",
)
# applicable, not failed, yet not proven: the gate says INCOMPLETE
NOT_PROVEN = frozenset({"scaled", "partial", "skipped", "uncovered", "blocked"})
HEADLINES = ("PASS", "FAIL", "INCOMPLETE")
# how a verdict reads to a person (Markdown, terminal)
LABELS = {
    "passed": "passed",
    "scaled": "passed (scaled)",
    "partial": "partial",
    "failed": "FAILED",
    "error": "ERROR",
    "blocked": "blocked",
    "skipped": "skipped",
    "not_applicable": "not applicable",
    "uncovered": "uncovered",
    "waived": "waived",
    "attested": "attested",
    "deselected": "deselected",
}


def fold(outcomes: Iterable[str], scaled: bool = False) -> str:
    """The verdict of an applicable requirement from its checks' outcomes; ``scaled`` when a
    passing check ran a load scenario shortened by the quick profile."""
    seen = set(outcomes)
    if not seen:
        return "uncovered"
    # a check that found nothing to judge in this deployment neither proves nor blocks
    if seen == {"not_applicable"}:
        return "not_applicable"
    seen.discard("not_applicable")
    for worst in ("failed", "error", "blocked"):
        if worst in seen:
            return worst
    if seen == {"passed"}:
        return "scaled" if scaled else "passed"
    if "passed" in seen:
        return "partial"
    return "skipped"


def requirement_verdict(
    outcomes: Iterable[str],
    *,
    applicable: bool,
    waived: bool,
    scaled: bool = False,
    selected: bool = True,
    attested: bool | None = None,
) -> str:
    """``attested`` is None for a requirement checks prove, else whether a current
    attestation answers it: no check can, so without one it is skipped, never uncovered."""
    if not selected:
        return "deselected"
    if not applicable:
        return "not_applicable"
    if waived:
        return "waived"
    if attested is not None:
        return "attested" if attested else "skipped"
    return fold(outcomes, scaled)


def headline(counts: Mapping[str, int]) -> str:
    """PASS, FAIL or INCOMPLETE from the summary's counts of verdicts."""
    if counts.get("failed", 0) or counts.get("error", 0):
        return "FAIL"
    if any(counts.get(verdict, 0) for verdict in NOT_PROVEN):
        return "INCOMPLETE"
    return "PASS"


def counts_line(summary: Mapping[str, Any]) -> str:
    """``3 passed, 1 partial, 0 failed, ...``: passed and failed always, others when present."""
    parts = [
        f"{summary.get(verdict, 0)} {LABELS[verdict].lower()}"
        for verdict in VERDICTS
        if verdict in ("passed", "failed") or summary.get(verdict, 0)
    ]
    return ", ".join(parts)
