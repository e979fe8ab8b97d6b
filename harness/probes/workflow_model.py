"""A GitHub Actions workflow as data: jobs, steps, the ``needs`` graph, and which jobs run when.

"When" is a scenario (an event on a ref). A job runs in a scenario when the workflow's triggers
fire for it, its ``if:`` holds and, unless the condition calls a status function, every job it
needs ran: GitHub's own rules, so a condition spelled any way is judged by what it does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import yaml

from harness.probes.workflow_expr import (
    UNKNOWN,
    ExpressionError,
    condition_text,
    evaluate,
    truthy,
    uses_status_function,
)


class WorkflowError(ValueError):
    """The file is not a workflow this module can read."""


class _WorkflowLoader(yaml.SafeLoader):
    """YAML 1.2 booleans: ``on:`` stays the key ``on`` instead of turning into ``True``."""


_WorkflowLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.copy().items()
}
_WorkflowLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


@dataclass(frozen=True)
class Step:
    index: int
    name: str
    uses: str
    run: str
    with_: Mapping[str, Any]
    continue_on_error: bool
    condition: str = ""

    @property
    def label(self) -> str:
        first_line = self.run.strip().splitlines()[0] if self.run.strip() else ""
        return self.name or self.uses or first_line or f"step {self.index + 1}"

    @property
    def action(self) -> str:
        """The action's name without its version: ``aquasecurity/trivy-action``."""
        return self.uses.split("@", 1)[0].lower()


@dataclass(frozen=True)
class Job:
    id: str
    name: str
    needs: tuple[str, ...]
    condition: str
    environment: str
    steps: tuple[Step, ...]

    def words(self) -> str:
        """What names the job, for recognising staging and production."""
        return f"{self.id} {self.name} {self.environment}".lower()


@dataclass(frozen=True)
class Scenario:
    event: str
    branch: str
    base: str = ""

    @property
    def ref(self) -> str:
        return "refs/pull/1/merge" if self.event.startswith("pull_request") else self.ref_of_branch

    @property
    def ref_of_branch(self) -> str:
        return f"refs/heads/{self.branch}"

    def context(self) -> dict[str, Any]:
        pull = self.event.startswith("pull_request")
        github = {
            "event_name": self.event,
            "ref": self.ref,
            "ref_name": "1/merge" if pull else self.branch,
            "ref_type": "branch",
            "head_ref": self.branch if pull else "",
            "base_ref": self.base if pull else "",
        }
        return {"github": github}

    def __str__(self) -> str:
        if self.event.startswith("pull_request"):
            return f"a {self.event} from {self.branch} into {self.base}"
        return f"a {self.event} on {self.branch}"


@dataclass
class Workflow:
    triggers: dict[str, Any]
    jobs: dict[str, Job]
    _states: dict[Scenario, dict[str, Any]] = field(default_factory=dict)

    def ancestors(self, job_id: str) -> set[str]:
        """Every job ``job_id`` needs, directly or through others."""
        seen: set[str] = set()
        todo = list(self.jobs[job_id].needs)
        while todo:
            current = todo.pop()
            if current not in seen and current in self.jobs:
                seen.add(current)
                todo.extend(self.jobs[current].needs)
        return seen

    def fires(self, scenario: Scenario) -> bool:
        """Whether the triggers start the workflow in ``scenario``."""
        if scenario.event not in self.triggers:
            return False
        spec = self.triggers[scenario.event]
        if scenario.event == "workflow_dispatch":
            return True
        branch = scenario.base if scenario.event.startswith("pull_request") else scenario.branch
        return branch_filter_matches(spec if isinstance(spec, Mapping) else {}, branch)

    def state(self, scenario: Scenario, job_id: str) -> Any:
        """True (runs), False (cannot run) or UNKNOWN (depends on values unknown here)."""
        if scenario not in self._states:
            self._states[scenario] = {}
        states = self._states[scenario]
        if job_id not in states:
            states[job_id] = self._evaluate(scenario, self.jobs[job_id])
        return states[job_id]

    def _evaluate(self, scenario: Scenario, job: Job) -> Any:
        if not self.fires(scenario):
            return False
        needs = _all([self.state(scenario, need) for need in job.needs if need in self.jobs])
        return _condition(job.condition, scenario, needs)

    def step_state(self, scenario: Scenario, job_id: str, step: Step) -> Any:
        """Whether ``step`` runs: its job runs, the steps before it succeeded, its ``if:`` holds."""
        return _and(self.state(scenario, job_id), _condition(step.condition, scenario, True))


def _condition(expression: str, scenario: Scenario, before: Any) -> Any:
    """An ``if:`` in ``scenario``, where ``before`` says whether what it depends on succeeded."""

    def status(name: str) -> Any:
        if name == "always":
            return True
        # the happy path: what runs when nothing fails
        return False if name in ("failure", "cancelled") else before

    try:
        value = truthy(evaluate(expression, scenario.context(), status)) if expression else True
    except ExpressionError:
        value = UNKNOWN
    if expression and uses_status_function(expression):
        return value
    return _and(before, value)


def _all(values: Sequence[Any]) -> Any:
    if any(value is False for value in values):
        return False
    return UNKNOWN if any(value is UNKNOWN for value in values) else True


def _and(left: Any, right: Any) -> Any:
    return _all([left, right])


@cache
def _glob(pattern: str) -> re.Pattern[str]:
    """GitHub's filter patterns: ``*`` stops at ``/``, ``**`` does not, ``?``/``+`` repeat."""
    out, i = "", 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**", i):
            out, i = out + ".*", i + 2
            continue
        if char == "*":
            out += "[^/]*"
        elif char in "?+":
            out += char
        elif char == "[":
            end = pattern.find("]", i)
            out += pattern[i : end + 1] if end > i else re.escape(char)
            i = end if end > i else i
        else:
            out += re.escape(char)
        i += 1
    return re.compile(out + r"\Z")


def branch_filter_matches(spec: Mapping[str, Any], branch: str) -> bool:
    """Whether a ``branches`` / ``branches-ignore`` filter lets ``branch`` through."""
    if "branches-ignore" in spec:
        return not any(_glob(str(p)).match(branch) for p in _as_list(spec["branches-ignore"]))
    if "branches" not in spec:
        # only tags given: branch pushes do not trigger
        return "tags" not in spec
    allowed = False
    for pattern in _as_list(spec["branches"]):
        text = str(pattern)
        negated = text.startswith("!")
        if _glob(text[1:] if negated else text).match(branch):
            allowed = not negated
    return allowed


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _triggers(raw: Any) -> dict[str, Any]:
    if isinstance(raw, str):
        return {raw: {}}
    if isinstance(raw, list):
        return {str(event): {} for event in raw}
    if isinstance(raw, Mapping):
        return {str(event): spec or {} for event, spec in raw.items()}
    raise WorkflowError("the workflow has no 'on:' triggers")


def _environment(raw: Any) -> str:
    if isinstance(raw, Mapping):
        return str(raw.get("name") or "")
    return "" if raw is None else str(raw)


def _steps(raw: Any) -> tuple[Step, ...]:
    steps = []
    for index, item in enumerate(_as_list(raw)):
        if not isinstance(item, Mapping):
            continue
        steps.append(
            Step(
                index=index,
                name=str(item.get("name") or ""),
                uses=str(item.get("uses") or ""),
                run=str(item.get("run") or ""),
                with_=with_ if isinstance(with_ := item.get("with"), Mapping) else {},
                continue_on_error=item.get("continue-on-error") not in (None, False, "false"),
                condition=condition_text(item.get("if")),
            )
        )
    return tuple(steps)


def load_document(text: str) -> Any:
    try:
        return yaml.load(text, Loader=_WorkflowLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise WorkflowError(f"not valid YAML: {' '.join(str(exc).split())}") from exc


def parse_workflow(document: Any) -> Workflow:
    """The workflow of a loaded document; :class:`WorkflowError` when it has no jobs."""
    if not isinstance(document, Mapping):
        raise WorkflowError("the file is not a YAML mapping")
    triggers = _triggers(document.get("on"))
    raw_jobs = document.get("jobs")
    if not isinstance(raw_jobs, Mapping) or not raw_jobs:
        raise WorkflowError("the workflow has no jobs")
    jobs = {}
    for job_id, raw in raw_jobs.items():
        spec = raw if isinstance(raw, Mapping) else {}
        jobs[str(job_id)] = Job(
            id=str(job_id),
            name=str(spec.get("name") or ""),
            needs=tuple(str(n) for n in _as_list(spec.get("needs"))),
            condition=condition_text(spec.get("if")),
            environment=_environment(spec.get("environment")),
            steps=_steps(spec.get("steps")),
        )
    return Workflow(triggers, jobs)
