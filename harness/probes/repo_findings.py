"""The verdict on one requirement from reading repository files (workflow, manifests)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


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
