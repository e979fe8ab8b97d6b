"""Every image check can fail: each mutant image fails its requirement on a container stack,
and every check that runs on the reference stack has a mutant."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reference_app.mutants import MUTANTS
from tests.conftest import LIGHT_LOAD, SuiteRun, suite_runner
from tests.stacks.stack_helpers import require_stack_images
from tests.verdicts import assert_killed, ran_ids

# checks of a service beside the app, proven to fail by stopping that service on a stack
# rather than by a mutant of the app (tests/stacks/test_prometheus_stack.py)
PROVEN_BY_STOPPING = {"MON-PROM-ACCESS", "MON-PROM-TARGETS"}
IMAGE_MUTANTS = sorted(name for name, mutant in MUTANTS.items() if mutant.image)


@pytest.fixture(scope="module")
def clean_stack_run(tmp_path_factory: pytest.TempPathFactory) -> SuiteRun:
    from tests.stacks.conftest import connect

    client = connect()
    try:
        require_stack_images(client)
    finally:
        client.close()
    return suite_runner(tmp_path_factory.mktemp("clean-stack"))(
        "--stack", "containers", *LIGHT_LOAD, timeout=900
    )  # fmt: skip


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
    unproven = sorted(ran_ids(clean_stack_run.matrix) - broken - PROVEN_BY_STOPPING)
    assert not unproven, f"checks without a mutant that makes them fail: {unproven}"


@pytest.mark.parametrize("name", IMAGE_MUTANTS)
def test_mutant_image_fails_its_requirement(name: str, docker_client: Any, tmp_path: Path) -> None:
    require_stack_images(docker_client)
    mutant = MUTANTS[name]
    run = suite_runner(tmp_path)(
        "--stack", "containers", "--mutant", name,
        *(f"--requirement={rid}" for rid in mutant.breaks),
    )  # fmt: skip
    assert_killed(run, name, mutant.description, mutant.breaks)
