"""Every image check can fail: each mutant image fails its requirement on a container stack,
and every check that runs on the reference stack has a mutant."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reference_app.mutants import MUTANTS
from tests.conftest import SuiteRun, suite_runner
from tests.stacks.stack_helpers import require_stack_images

IMAGE_MUTANTS = sorted(name for name, mutant in MUTANTS.items() if mutant.image)


@pytest.fixture(scope="module")
def clean_stack_run(tmp_path_factory: pytest.TempPathFactory) -> SuiteRun:
    from tests.stacks.conftest import connect

    client = connect()
    try:
        require_stack_images(client)
    finally:
        client.close()
    return suite_runner(tmp_path_factory.mktemp("clean-stack"))("--stack", "containers")


def test_clean_reference_stack_passes(clean_stack_run: SuiteRun) -> None:
    assert clean_stack_run.matrix is not None, clean_stack_run.output
    failed = [
        e["id"]
        for e in clean_stack_run.matrix["requirements"]
        if e["verdict"] in {"failed", "error"}
    ]
    assert not failed, f"the reference stack fails {failed}:\n{clean_stack_run.output}"


def test_every_check_that_runs_on_the_stack_has_a_mutant(clean_stack_run: SuiteRun) -> None:
    assert clean_stack_run.matrix is not None, clean_stack_run.output
    broken = {rid for mutant in MUTANTS.values() for rid in mutant.breaks}
    proven = {"passed", "scaled", "partial"}
    ran = [e["id"] for e in clean_stack_run.matrix["requirements"] if e["verdict"] in proven]
    unproven = [rid for rid in ran if rid not in broken]
    assert not unproven, f"checks without a mutant that makes them fail: {unproven}"


@pytest.mark.parametrize("name", IMAGE_MUTANTS)
def test_mutant_image_fails_its_requirement(name: str, docker_client: Any, tmp_path: Path) -> None:
    require_stack_images(docker_client)
    mutant = MUTANTS[name]
    run = suite_runner(tmp_path)(
        "--stack", "containers", "--mutant", name,
        *(f"--requirement={rid}" for rid in mutant.breaks),
    )  # fmt: skip
    for rid in mutant.breaks:
        entry = run.entry(rid)
        assert entry["verdict"] == "failed", (
            f"mutant {name} ({mutant.description}) should fail {rid}, got {entry['verdict']}: "
            f"{entry['checks']}\n{run.output}"
        )
    assert run.returncode == 1
