"""Whether a CI workflow runs the load tests on a schedule, and how often (``croniter`` reads
the cron expressions as GitHub does: five POSIX fields, UTC)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from harness.probes.repo_findings import RepoFinding, finding
from harness.probes.workflow_model import Scenario, Step, Workflow

RID = "OPS-MAINT-LOAD-TESTS"
# two years from a fixed start: every weekly, monthly and yearly pattern repeats within it
_WINDOW_START = datetime(2025, 1, 1, tzinfo=UTC)
_WINDOW_DAYS = 731
_LOCUST = re.compile(r"(?:^|[;&|(]\s*|\bexec\s+|\bpython3? -m\s+)locust(?=\s|$)", re.M)
_INSTALL = re.compile(r"\b(pip3?|pipx|uv pip|poetry|npm|apt-get)\s+(install|add)\b")


class CronError(ValueError):
    """A cron expression GitHub would not accept."""


def cron_expressions(triggers: Mapping[str, Any]) -> list[str]:
    """The ``cron`` strings of the workflow's ``schedule`` trigger."""
    raw = triggers.get("schedule")
    entries = raw if isinstance(raw, list) else []
    return [str(e["cron"]) for e in entries if isinstance(e, Mapping) and "cron" in e]


def _iterator(expression: str, start: datetime) -> Any:
    from croniter import croniter

    if len(expression.split()) != 5:
        raise CronError(f"{expression!r} is not five fields (minute hour day month weekday)")
    try:
        return croniter(expression, start)
    except (ValueError, KeyError) as exc:  # croniter's errors subclass ValueError
        raise CronError(f"{expression!r}: {exc}") from exc


def longest_gap(expressions: Sequence[str]) -> timedelta:
    """The longest time between two consecutive runs of the union of the expressions.

    At each day of the window the run before and the run after are found; every gap of a day
    or more spans one of those days, so the largest of them is exact."""
    if not expressions:
        raise CronError("no cron expression")
    for expression in expressions:
        _iterator(expression, _WINDOW_START)
    longest = timedelta(0)
    try:
        for day in range(_WINDOW_DAYS):
            at = _WINDOW_START + timedelta(days=day)
            second = at + timedelta(seconds=1)
            before = max(_iterator(e, second).get_prev(datetime) for e in expressions)
            after = min(_iterator(e, at).get_next(datetime) for e in expressions)
            longest = max(longest, after - before)
    except ValueError as exc:  # a date that never comes (30 February): croniter gives up
        raise CronError(f"{expressions}: {exc}") from exc
    return longest


def _span(gap: timedelta) -> str:
    hours = gap.total_seconds() / 3600
    return f"{hours / 24:g} days" if hours >= 24 else f"{hours * 60:g} minutes"


def runs_load_tests(step: Step, load_test_dir: str) -> str | None:
    """Why the step counts as running the load tests (None when it does not): a ``locust``
    command, or a command that names the load test directory."""
    lines = [line for line in step.run.splitlines() if not _INSTALL.search(line)]
    commands = "\n".join(lines)
    if _LOCUST.search(commands):
        return "locust"
    if load_test_dir.rstrip("/") in commands:
        return load_test_dir
    return None


@dataclass(frozen=True)
class LoadTestStep:
    job: str
    step: Step
    how: str

    @property
    def label(self) -> str:
        return f"{self.job}: {self.step.label}"


def load_test_steps(workflow: Workflow, load_test_dir: str) -> list[LoadTestStep]:
    found = []
    for job in workflow.jobs.values():
        for step in job.steps:
            how = runs_load_tests(step, load_test_dir)
            if how:
                found.append(LoadTestStep(job.id, step, how))
    return found


def check_load_test_schedule(
    workflow: Workflow, *, load_test_dir: str, default_branch: str, max_interval_days: float
) -> RepoFinding:
    """OPS-MAINT-LOAD-TESTS: a schedule at most ``max_interval_days`` apart starts the
    workflow, and on it a step runs the load tests headless (a locust that waits for its web UI
    never ends in CI)."""
    expressions = cron_expressions(workflow.triggers)
    if not expressions:
        return finding(RID, ["the workflow has no schedule: trigger with a cron"], [])
    try:
        gap = longest_gap(expressions)
    except CronError as exc:
        return finding(RID, [f"schedule: {exc}"], [])
    evidence = [f"schedule {expressions}: runs at most {_span(gap)} apart"]
    problems = []
    if gap > timedelta(days=max_interval_days):
        problems.append(
            f"the schedule {expressions} leaves up to {_span(gap)} between runs, more than "
            f"{max_interval_days:g} days"
        )
    scheduled = Scenario("schedule", default_branch)
    steps = load_test_steps(workflow, load_test_dir)
    running = [s for s in steps if workflow.step_state(scheduled, s.job, s.step) is True]
    if not steps:
        problems.append(f"no step runs locust or the load tests in {load_test_dir}")
    elif not running:
        labels = ", ".join(s.label for s in steps)
        problems.append(f"no load test step can be shown to run on {scheduled} ({labels})")
    for found in running:
        if found.how == "locust" and "--headless" not in found.step.run:
            problems.append(
                f"step {found.label!r} runs locust without --headless: it waits for its web UI "
                "and the job never finishes"
            )
    evidence += [f"on {scheduled}: {s.label} ({s.how})" for s in running]
    return finding(RID, problems, evidence)
