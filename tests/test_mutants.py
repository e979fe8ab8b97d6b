"""Every check can fail: each mutant of the reference app fails the requirements it breaks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from harness.spec import load_catalogue
from reference_app.mutants import MUTANTS
from reference_app.project_mutants import PROJECT
from reference_app.project_mutants_audit import write_production_env
from tests.conftest import LIGHT_LOAD, SuiteRun, suite_runner
from tests.verdicts import assert_killed, ran_ids


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory: pytest.TempPathFactory) -> SuiteRun:
    """The compliance suites against the clean embedded reference app, once per module."""
    return suite_runner(tmp_path_factory.mktemp("clean"))(*LIGHT_LOAD, timeout=900)


def test_clean_reference_app_passes(clean_run: SuiteRun) -> None:
    assert clean_run.matrix is not None, clean_run.output
    failed = [
        e["id"] for e in clean_run.matrix["requirements"] if e["verdict"] in {"failed", "error"}
    ]
    assert not failed, f"the clean reference app fails {failed}:\n{clean_run.output}"
    assert clean_run.returncode == 0, clean_run.output


def test_mutants_name_known_requirements() -> None:
    catalogue = load_catalogue()
    for mutant in MUTANTS.values():
        assert mutant.breaks, f"mutant {mutant.name} breaks nothing"
        unknown = [rid for rid in mutant.breaks if rid not in catalogue]
        assert not unknown, f"mutant {mutant.name} names unknown requirements {unknown}"


def test_every_check_that_runs_has_a_mutant(clean_run: SuiteRun) -> None:
    """A check that ran on the embedded app (not skipped, not errored) must be proven able to
    fail there."""
    assert clean_run.matrix is not None, clean_run.output
    broken = {rid for name in EMBEDDED_MUTANTS for rid in MUTANTS[name].breaks}
    ran = ran_ids(clean_run.matrix)
    assert ran, "no check ran"
    unproven = sorted(ran - broken)
    assert not unproven, f"checks without a mutant that makes them fail: {unproven}"


# mutant images need a container stack: tests/stacks/test_image_mutants.py runs those
EMBEDDED_MUTANTS = sorted(name for name, mutant in MUTANTS.items() if not mutant.image)


@pytest.mark.parametrize("name", EMBEDDED_MUTANTS)
def test_mutant_fails_its_requirements(
    name: str, run_suites: Callable[..., SuiteRun], tmp_path: Path
) -> None:
    mutant = MUTANTS[name]
    # the production env file, as the repository writes it at deploy time: every check of a
    # requirement runs (CFG-CHECK-* read it beside the running app's own checks)
    env_file = write_production_env(PROJECT, tmp_path / "production.env")
    catalogue = load_catalogue()
    # a development-only requirement (relaxed CORS, ...) is proven on the development profile
    by_profile: dict[str, list[str]] = {}
    for rid in mutant.breaks:
        profile = "production" if catalogue[rid].applies_to("production") else "development"
        by_profile.setdefault(profile, []).append(rid)
    for profile, ids in sorted(by_profile.items()):
        # the clean repository beside the mutated app: a requirement checked in both (the
        # frontend's proxy) is judged by all its checks, and only the app is broken
        run = run_suites(
            "--mutant", name, f"--profile={profile}", f"--project-root={PROJECT}",
            f"--param=audit_env_file={env_file}",
            *(f"--requirement={rid}" for rid in ids),
        )  # fmt: skip
        assert_killed(run, name, mutant.description, ids)
