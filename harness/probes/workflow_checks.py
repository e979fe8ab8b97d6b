"""The DEP-CI checks on a parsed workflow: stages by what their steps do, order by ``needs``."""

from __future__ import annotations

from collections.abc import Callable

from harness.probes import workflow_steps as st
from harness.probes.repo_findings import RepoFinding, finding
from harness.probes.workflow_model import Job, Scenario, Step, Workflow

StepKind = Callable[[Step], object]


def has(job: Job, kind: StepKind) -> bool:
    return any(kind(step) for step in job.steps)


def jobs(workflow: Workflow, kind: StepKind) -> list[Job]:
    return [job for job in workflow.jobs.values() if has(job, kind)]


def _labels(workflow: Workflow, kind: StepKind) -> list[str]:
    return [f"{j.id}: {s.label}" for j in workflow.jobs.values() for s in j.steps if kind(s)]


def builds(step: Step) -> bool:
    return bool(st.image_tags(step) or st.pushed_images(step))


def deploy_jobs(workflow: Workflow) -> list[Job]:
    return [j for j in workflow.jobs.values() if j.environment or has(j, st.deploys)]


def staging_jobs(workflow: Workflow) -> list[Job]:
    return [j for j in deploy_jobs(workflow) if "staging" in j.words()]


def production_jobs(workflow: Workflow) -> list[Job]:
    return [j for j in deploy_jobs(workflow) if "prod" in j.words() and "staging" not in j.words()]


def _security_step(threshold: str) -> StepKind:
    def kind(step: Step) -> bool:
        scan = st.trivy(step)
        found = (scan and scan.fails_from(threshold)) or st.sast(step) or st.audits(step, threshold)
        return bool(found) and st.gates(step)

    return kind


def check_order(workflow: Workflow, threshold: str = "high") -> list[RepoFinding]:
    tests = jobs(workflow, st.any_test)
    security = jobs(workflow, _security_step(threshold))
    builders = jobs(workflow, builds)
    deployers = deploy_jobs(workflow)
    problems = [
        f"no {stage} job"
        for stage, found in (
            ("test", tests),
            ("security scan", security),
            ("image build", builders),
            ("deploy", deployers),
        )
        if not found
    ]
    for build in builders:
        before = workflow.ancestors(build.id)
        for job in tests + security:
            if (
                job.id != build.id
                and job.id not in before
                and build.id not in workflow.ancestors(job.id)
            ):
                problems.append(f"job {build.id!r} builds images without needing {job.id!r}")
    build_ids = {job.id for job in builders}
    for deploy in deployers:
        if deploy.id not in build_ids and not build_ids & workflow.ancestors(deploy.id):
            problems.append(f"job {deploy.id!r} deploys without needing an image build job")
    evidence = [
        f"{job.id} needs {sorted(workflow.ancestors(job.id))}" for job in builders + deployers
    ]
    return [finding("DEP-CI-ORDER", problems, evidence)]


def _runs_on(workflow: Workflow, scenario: Scenario, job: Job) -> bool:
    return workflow.state(scenario, job.id) is True


def check_tests(workflow: Workflow, production_branch: str = "main") -> list[RepoFinding]:
    push = Scenario("push", production_branch)
    problems, evidence = [], []
    for what, kind in (
        ("backend unit tests", st.backend_unit_test),
        ("frontend unit tests", st.frontend_unit_test),
        ("integration tests", st.integration_test),
    ):
        gating = [
            f"{job.id}: {step.label}"
            for job in workflow.jobs.values()
            if _runs_on(workflow, push, job)
            for step in job.steps
            if kind(step) and st.gates(step)
        ]
        evidence += gating
        if not gating:
            problems.append(f"no step that can fail the pipeline runs the {what} on {push}")
    coverage_problems = []
    for job in jobs(workflow, st.measures_coverage):
        first = min(s.index for s in job.steps if st.measures_coverage(s))
        if not any(st.keeps_coverage(s) and s.index > first for s in job.steps):
            coverage_problems.append(f"job {job.id!r} measures coverage but keeps no report")
    measured = _labels(workflow, st.measures_coverage)
    if not measured:
        coverage_problems.append("no test step measures coverage (--cov, coverage run, --coverage)")
    kept = _labels(workflow, st.keeps_coverage)
    return [
        finding("DEP-CI-TESTS", problems, evidence),
        finding("DEP-CI-COVERAGE", coverage_problems, measured + kept),
    ]


def check_security(workflow: Workflow, production_branch: str, threshold: str) -> list[RepoFinding]:
    push = Scenario("push", production_branch)
    live = [job for job in workflow.jobs.values() if _runs_on(workflow, push, job)]
    scans = [(j, s, st.trivy(s)) for j in live for s in j.steps]
    image_scans = [
        (job, step)
        for job, step, scan in scans
        if scan and scan.scans_image and scan.fails_from(threshold) and st.gates(step)
    ]
    trivy_problems = (
        []
        if image_scans
        else [f"no Trivy image scan that fails on {threshold} findings or above runs on {push}"]
    )
    for job in jobs(workflow, st.pushed_images):
        first_push = min(s.index for s in job.steps if st.pushed_images(s))
        scanned_before = any(
            j.id in workflow.ancestors(job.id) or (j.id == job.id and s.index < first_push)
            for j, s in image_scans
        )
        if not scanned_before:
            trivy_problems.append(f"job {job.id!r} pushes images that no Trivy scan checked first")
    weak = [
        f"{j.id}: {s.label} (exit code {scan.exit_code}, severities {sorted(scan.severities)})"
        for j, s, scan in scans
        if scan and not (scan.fails_from(threshold) and st.gates(s))
    ]
    trivy_problems += [f"Trivy step cannot fail the job on {threshold} findings: {w}" for w in weak]
    sast = [f"{j.id}: {s.label}" for j in live for s in j.steps if st.sast(s) and st.gates(s)]
    audited: dict[str, list[str]] = {"python": [], "javascript": []}
    for job in live:
        for step in job.steps:
            if st.gates(step):
                for ecosystem in st.audits(step, threshold):
                    audited[ecosystem].append(f"{job.id}: {step.label}")
    return [
        finding("DEP-CI-TRIVY", trivy_problems, [f"{j.id}: {s.label}" for j, s in image_scans]),
        finding(
            "DEP-CI-SAST",
            [] if sast else [f"no SAST step that can fail the pipeline runs on {push}"],
            sast,
        ),
        finding(
            "DEP-CI-DEPENDENCY-SCAN",
            [
                f"no {eco} dependency scan that can fail the pipeline"
                for eco, at in audited.items()
                if not at
            ],
            [f"{eco}: {at}" for eco, at in audited.items() if at],
        ),
    ]


def check_images(workflow: Workflow) -> list[RepoFinding]:
    problems: list[str] = []
    pushed: list[str] = []
    for job in jobs(workflow, st.pushed_images):
        first_push = min(s.index for s in job.steps if st.pushed_images(s))
        if not any(st.logs_in(s) and s.index < first_push for s in job.steps):
            problems.append(f"job {job.id!r} pushes without logging in to a registry first")
        for step in job.steps:
            images = st.pushed_images(step)
            pushed += images
            problems += [
                f"{job.id}: {i} is pushed without a version tag"
                for i in images
                if not st.version_tagged(i)
            ]
    built = [tag for job in workflow.jobs.values() for s in job.steps for tag in st.image_tags(s)]
    if not pushed:
        problems.append("no step pushes an image to a registry")
    for service in ("backend", "frontend"):
        if not any(service in image for image in pushed):
            problems.append(f"no {service} image is built and pushed")
    return [finding("DEP-CI-IMAGES", problems, [f"built {built}", f"pushed {pushed}"])]


def smoke_after(workflow: Workflow, deploy: Job) -> tuple[list[str], list[str]]:
    """Smoke test steps that run after ``deploy`` deployed, and problems with them."""
    found, problems = [], []
    first_deploy = min((s.index for s in deploy.steps if st.deploys(s)), default=-1)
    for job in workflow.jobs.values():
        later = job.id == deploy.id or deploy.id in workflow.ancestors(job.id)
        for step in job.steps:
            is_smoke, problem = st.smoke_test(step)
            if is_smoke and later and (job.id != deploy.id or step.index > first_deploy):
                found.append(f"{job.id}: {step.label}")
                problems += [problem] if problem else []
    return found, problems


def check_staging_and_migrations(
    workflow: Workflow, production_branch: str = "main"
) -> list[RepoFinding]:
    push = Scenario("push", production_branch)
    staging = staging_jobs(workflow)
    problems: list[str] = [] if staging else ["no job deploys to a staging environment"]
    evidence = []
    for job in staging:
        if not _runs_on(workflow, push, job):
            problems.append(f"job {job.id!r} does not deploy staging on {push}")
        smoke, smoke_problems = smoke_after(workflow, job)
        problems += smoke_problems or ([] if smoke else [f"no smoke test runs after {job.id!r}"])
        evidence.append(f"{job.id} (environment {job.environment or '-'}), smoke tests {smoke}")
    deployers = staging + production_jobs(workflow)
    migration_problems = [
        f"job {j.id!r} deploys without running the migrations"
        for j in deployers
        if not has(j, st.migrates)
    ]
    if not deployers:
        migration_problems.append("no staging or production deploy job")
    return [
        finding("DEP-CI-STAGING", problems, evidence),
        finding("DEP-CI-MIGRATIONS", migration_problems, _labels(workflow, st.migrates)),
    ]
