"""Health and resilience under faults on the container stack: PostgreSQL and Redis stopped
for real, /health detecting and recovering within the stated bounds, the API serving while
Redis is down, no acknowledged write lost; and the fault mutants failing there too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SuiteRun, suite_runner
from tests.stacks.conftest import run_once, skip_or_fail
from tests.stacks.stack_helpers import require_stack_images
from tests.verdicts import assert_killed

FAULT_IDS = (
    "MON-HEALTH-005",
    "MON-HEALTH-006",
    "MON-FAULT-REDIS-SERVING",
    "MON-FAULT-NO-LOST-WRITES",
)
# the notes that carry the measured times and counts
MEASURED = (
    "detection of the database outage",
    "recovery after database returned",
    "detection of the redis outage",
    "recovery after redis returned",
    "detection of the Redis outage",
    "recovery after Redis returned",
    "backend instance before and after",
    "outage windows",
    "write load",
)


def _notes(run: SuiteRun, rid: str) -> dict[str, Any]:
    entry = run.entry(rid)
    return {
        item["label"]: item["value"]
        for item in entry.get("evidence", [])
        if item.get("kind") == "note" and item.get("label") in MEASURED
    }


def test_faults_are_detected_and_survived_on_the_stack(docker_client: Any, tmp_path: Path) -> None:
    require_stack_images(docker_client)
    run = suite_runner(tmp_path)(
        "--stack", "containers", *(f"--requirement={rid}" for rid in FAULT_IDS), timeout=900
    )  # fmt: skip
    verdicts = {rid: run.verdict(rid) for rid in FAULT_IDS}
    assert set(verdicts.values()) == {"passed"}, f"{verdicts}\n{run.output[-4000:]}"
    measured = {rid: _notes(run, rid) for rid in FAULT_IDS}
    for rid in ("MON-HEALTH-005", "MON-HEALTH-006"):
        component = "database" if rid == "MON-HEALTH-005" else "redis"
        detection = measured[rid][f"detection of the {component} outage"]
        recovery = measured[rid][f"recovery after {component} returned"]
        assert 0 <= detection["measured_s"] <= detection["bound_s"], detection
        assert 0 <= recovery["measured_s"] <= recovery["bound_s"], recovery
        instance = measured[rid]["backend instance before and after"]
        # a container's start time and restart count, unchanged: recovered, not restarted
        assert instance["before"]["started_at"], instance
        assert instance["before"] == instance["after"], instance
    load = measured["MON-FAULT-NO-LOST-WRITES"]["write load"]
    windows = measured["MON-FAULT-NO-LOST-WRITES"]["outage windows"]
    assert load["acknowledged"] > 0, load
    assert load["lost"] == 0, load
    assert [w["component"] for w in windows] == ["database", "redis"], windows
    # PostgreSQL stopped for real: the writes meanwhile were refused, not acknowledged
    assert not any(k.startswith("2") for k in windows[0]["writes while down"]), windows


# the fault mutants of the app: the stack's backend gets REFERENCE_APP_MUTANT
STACK_MUTANTS = {
    "redis-loss-takes-app-down": ("MON-FAULT-REDIS-SERVING",),
    "writes-acknowledged-while-database-down": ("MON-FAULT-NO-LOST-WRITES",),
}


@pytest.mark.parametrize("name", sorted(STACK_MUTANTS))
def test_fault_mutant_fails_on_the_stack(name: str, docker_client: Any, tmp_path: Path) -> None:
    images = require_stack_images(docker_client)
    code, listing = run_once(
        docker_client, images["backend"], ["python", "-m", "reference_app", "mutants"]
    )
    if name not in listing:
        skip_or_fail(f"the backend image {images['backend']} has no mutant {name}; run make images")
    ids = STACK_MUTANTS[name]
    run = suite_runner(tmp_path)(
        "--stack", "containers", "--mutant", name, *(f"--requirement={rid}" for rid in ids),
        timeout=900,
    )  # fmt: skip
    assert_killed(run, name, f"on the stack (listing exit {code})", ids)
