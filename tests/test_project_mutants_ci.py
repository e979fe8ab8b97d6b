"""Every mutant of the reference workflow and manifests fails exactly the requirement it breaks."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.probes.k8s import K8S_REQUIREMENTS, check_manifests
from harness.probes.workflow import CI_REQUIREMENTS, check_workflow
from reference_app.project_mutants_ci import CI_MUTANTS, MutantEditError, write_mutant


@pytest.mark.parametrize("name", sorted(CI_MUTANTS))
def test_mutant_fails_its_requirement_only(name: str, tmp_path: Path) -> None:
    root = write_mutant(name, tmp_path / "repo")
    findings = {**check_workflow(root, actionlint=None), **check_manifests(root)}
    failed = sorted(rid for rid, found in findings.items() if not found.ok)
    assert failed == list(CI_MUTANTS[name].breaks)


def test_every_requirement_has_a_mutant() -> None:
    broken = {rid for mutant in CI_MUTANTS.values() for rid in mutant.breaks}
    assert broken == set(CI_REQUIREMENTS) | set(K8S_REQUIREMENTS)


def test_the_issue_mutants_are_there() -> None:
    assert CI_MUTANTS["ci-production-any-branch"].breaks == ("DEP-CI-PRODUCTION",)
    assert CI_MUTANTS["k8s-no-probes"].breaks == ("DEP-K8S-PROBES",)


def test_an_edit_that_no_longer_applies_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mutant = CI_MUTANTS["ci-no-dispatch"]
    stale = type(mutant)(
        mutant.name, mutant.breaks, mutant.description, mutant.path, (("gone", ""),)
    )
    monkeypatch.setitem(CI_MUTANTS, "ci-no-dispatch", stale)
    with pytest.raises(MutantEditError, match="occurs 0 times"):
        write_mutant("ci-no-dispatch", tmp_path / "repo")
