"""The DEP-CI checks of when things run: production only from main, the triggers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.probes import workflow_steps as st
from harness.probes.repo_findings import RepoFinding, finding
from harness.probes.workflow_checks import (
    builds,
    deploy_jobs,
    has,
    jobs,
    production_jobs,
    smoke_after,
    staging_jobs,
)
from harness.probes.workflow_expr import UNKNOWN
from harness.probes.workflow_model import Job, Scenario, Step, Workflow


def _ships(step: Step) -> bool:
    return builds(step) or st.deploys(step) or st.migrates(step)


def can_ship(workflow: Workflow, scenario: Scenario, job: Job) -> Any:
    """Whether ``job`` builds, pushes or deploys in ``scenario``, step conditions included."""
    shipping = [s for s in job.steps if _ships(s)]
    if not shipping:
        return workflow.state(scenario, job.id)
    states = [workflow.step_state(scenario, job.id, step) for step in shipping]
    if True in states:
        return True
    return UNKNOWN if any(state is UNKNOWN for state in states) else False


def _other_scenarios(branches: Sequence[str], production: str) -> list[Scenario]:
    others = sorted({*branches, "feature/x", f"{production}-hotfix"} - {production})
    scenarios = [Scenario("push", b) for b in others]
    scenarios += [Scenario("workflow_dispatch", b) for b in others]
    for event in ("pull_request", "pull_request_target"):
        scenarios += [Scenario(event, production, base) for base in sorted({*branches, production})]
    return scenarios


def check_production(
    workflow: Workflow, branches: Sequence[str], production_branch: str
) -> list[RepoFinding]:
    deployers = production_jobs(workflow)
    problems = [] if deployers else ["no job deploys to production"]
    evidence = []
    on_main = Scenario("push", production_branch)
    for job in deployers:
        if can_ship(workflow, on_main, job) is not True:
            problems.append(
                f"job {job.id!r} cannot be shown to run on {on_main} (if: {job.condition or '-'})"
            )
        for scenario in _other_scenarios(branches, production_branch):
            if can_ship(workflow, scenario, job) is not False:
                problems.append(
                    f"job {job.id!r} can deploy production on {scenario} "
                    f"(if: {job.condition or '-'}); an environment's branch rule lives in the "
                    "repository settings, not in this file"
                )
        before = workflow.ancestors(job.id)
        staged = [s for s in staging_jobs(workflow) if s.id in before]
        smoked = [
            s
            for s in staged
            if any(label.split(":")[0] in before | {s.id} for label in smoke_after(workflow, s)[0])
        ]
        if not smoked:
            problems.append(
                f"job {job.id!r} does not wait for a staging deploy and its smoke tests"
            )
        evidence.append(f"{job.id}: if {job.condition or '-'}; needs {sorted(before)}")
    return [finding("DEP-CI-PRODUCTION", problems, evidence)]


def check_triggers(workflow: Workflow, branches: Sequence[str]) -> list[RepoFinding]:
    push_spec = workflow.triggers.get("push")
    push_problems = [
        f"a push to {b} does not start the workflow"
        for b in branches
        if not workflow.fires(Scenario("push", b))
    ]
    if isinstance(push_spec, dict) and ({"paths", "paths-ignore"} & set(push_spec)):
        push_problems.append("the push trigger has a paths filter: some pushes start nothing")
    manual = [] if "workflow_dispatch" in workflow.triggers else ["no workflow_dispatch trigger"]
    pulls = [Scenario("pull_request", "feature/x", base) for base in branches]
    fired = [p for p in pulls if workflow.fires(p)]
    pr_problems = (
        [] if fired else ["pull requests into " + " or ".join(branches) + " start nothing"]
    )
    ships = {j.id for j in jobs(workflow, builds) + deploy_jobs(workflow)}
    for scenario in fired:
        for job in workflow.jobs.values():
            if job.id in ships and can_ship(workflow, scenario, job) is not False:
                pr_problems.append(f"job {job.id!r} builds, pushes or deploys on {scenario}")
            if has(job, st.any_test) and workflow.state(scenario, job.id) is not True:
                pr_problems.append(f"test job {job.id!r} does not run on {scenario}")
    return [
        finding("DEP-CI-TRIGGER-PUSH", push_problems, [f"push: {push_spec}"]),
        finding("DEP-CI-TRIGGER-MANUAL", manual, ["workflow_dispatch"] if not manual else []),
        finding(
            "DEP-CI-TRIGGER-PR",
            pr_problems,
            [f"pull_request: {workflow.triggers.get('pull_request')}"],
        ),
    ]
