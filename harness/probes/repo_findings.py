"""The verdict on one requirement from reading repository files (workflow, manifests)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from harness.report.evidence import Evidence


@dataclass(frozen=True)
class RepoFinding:
    """``problems`` empty means the requirement holds; ``evidence`` says what was found."""

    requirement: str
    problems: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        """One line for a report: the problems when it fails, else the evidence."""
        return "; ".join(self.problems or self.evidence)


def finding(requirement: str, problems: Iterable[str], evidence: Iterable[str]) -> RepoFinding:
    return RepoFinding(requirement, tuple(problems), tuple(evidence))


def failed_all(requirements: Iterable[str], problem: str) -> dict[str, RepoFinding]:
    """The same problem for every requirement: the file is missing or cannot be read."""
    return {rid: RepoFinding(rid, (problem,)) for rid in requirements}


def judge(found: RepoFinding, evidence: Evidence, where: str) -> None:
    """A check's verdict on ``found``: what was found and the problems go into the evidence,
    and the check fails with the problems in one line."""
    __tracebackhide__ = True
    evidence.note("found", list(found.evidence))
    evidence.note("problems", list(found.problems))
    assert found.ok, f"{where}: {found.summary()}"
