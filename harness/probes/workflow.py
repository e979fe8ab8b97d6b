"""The CI/CD workflow of a repository judged against the DEP-CI requirements.

:func:`check_workflow` reads ``.github/workflows/ci-cd.yml`` (or the configured path) under a
repository root and returns one :class:`RepoFinding` per DEP-CI requirement. Stages are
recognised by what their steps do, the order by the ``needs`` graph, and "runs only on main"
by evaluating each job's ``if:`` in scenarios (a push to another branch, a manual run on a
feature branch, a pull request whose head branch is called main ...).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from harness.probes.repo_findings import RepoFinding, failed_all, finding
from harness.probes.workflow_branches import check_production, check_triggers
from harness.probes.workflow_checks import (
    check_images,
    check_order,
    check_security,
    check_staging_and_migrations,
    check_tests,
)
from harness.probes.workflow_model import (
    Workflow,
    WorkflowError,
    load_document,
    parse_workflow,
)

CI_REQUIREMENTS = (
    "DEP-CI-WORKFLOW",
    "DEP-CI-ORDER",
    "DEP-CI-TESTS",
    "DEP-CI-COVERAGE",
    "DEP-CI-TRIVY",
    "DEP-CI-SAST",
    "DEP-CI-DEPENDENCY-SCAN",
    "DEP-CI-IMAGES",
    "DEP-CI-STAGING",
    "DEP-CI-PRODUCTION",
    "DEP-CI-MIGRATIONS",
    "DEP-CI-TRIGGER-PUSH",
    "DEP-CI-TRIGGER-MANUAL",
    "DEP-CI-TRIGGER-PR",
)
ACTIONLINT_TIMEOUT_S = 60
# SchemaStore's workflow schema, as check-jsonschema vendors it (no network at gate time)
_SCHEMA_PACKAGE = "check_jsonschema.builtin_schemas.vendor"
_SCHEMA_FILE = "github-workflows.json"


def actionlint_path() -> str | None:
    """The actionlint binary on PATH, or None (the checks then say it did not run)."""
    return shutil.which("actionlint")


def schema_problems(document: Any) -> list[str]:
    """Where the document breaks the GitHub workflow schema, one line each."""
    schema = json.loads(resources.files(_SCHEMA_PACKAGE).joinpath(_SCHEMA_FILE).read_text("utf-8"))
    validator = jsonschema.Draft7Validator(schema)
    problems = []
    for error in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(part) for part in error.absolute_path) or "(top level)"
        # a oneOf failure's own message repeats the whole job; its branches say what is wrong
        reasons = dict.fromkeys(c.message[:150] for c in error.context) or [error.message[:200]]
        problems.append(f"schema: at {where}: {' or '.join(list(reasons)[:3])}")
    return problems


def actionlint_problems(path: Path, binary: str) -> list[str]:
    """actionlint's findings on the file, one line each."""
    try:
        result = subprocess.run(
            [binary, "-no-color", "-oneline", str(path)],
            capture_output=True,
            text=True,
            timeout=ACTIONLINT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return [f"actionlint could not run: {exc}"]
    if result.returncode not in (0, 1):
        return [f"actionlint failed (exit {result.returncode}): {result.stderr.strip()[:300]}"]
    return [f"actionlint: {line}" for line in result.stdout.splitlines() if line.strip()]


def _graph_problems(workflow: Workflow) -> list[str]:
    problems = [
        f"job {job.id!r} needs {need!r}, which is not a job of this workflow"
        for job in workflow.jobs.values()
        for need in job.needs
        if need not in workflow.jobs
    ]
    problems += [
        f"job {job_id!r} needs itself through its needs chain"
        for job_id in workflow.jobs
        if job_id in workflow.ancestors(job_id)
    ]
    return problems


def _check_file(
    path: Path, document: Any, workflow: Workflow, actionlint: str | None
) -> RepoFinding:
    problems = schema_problems(document) + _graph_problems(workflow)
    evidence = [f"{path.name}: {len(workflow.jobs)} jobs, triggers {sorted(workflow.triggers)}"]
    if actionlint:
        problems += actionlint_problems(path, actionlint)
        evidence.append(f"actionlint ({actionlint}) found nothing")
    else:
        evidence.append("actionlint is not installed: schema and structure checked only")
    return finding("DEP-CI-WORKFLOW", problems, evidence)


def check_workflow(
    root: Path,
    *,
    workflow: str = ".github/workflows/ci-cd.yml",
    branches: Sequence[str] = ("main", "develop"),
    production_branch: str = "main",
    fail_severity: str = "high",
    actionlint: str | Callable[[], str | None] | None = actionlint_path,
) -> dict[str, RepoFinding]:
    """One finding per DEP-CI requirement for the workflow at ``root / workflow``."""
    path = root / workflow
    if not path.is_file():
        return failed_all(CI_REQUIREMENTS, f"{workflow} does not exist under {root}")
    try:
        document = load_document(path.read_text(encoding="utf-8"))
        parsed = parse_workflow(document)
    except (OSError, UnicodeDecodeError, WorkflowError) as exc:
        return failed_all(CI_REQUIREMENTS, f"{workflow}: {exc}")
    binary = actionlint() if callable(actionlint) else actionlint
    found = [_check_file(path, document, parsed, binary)]
    found += check_order(parsed, fail_severity)
    found += check_tests(parsed, production_branch)
    found += check_security(parsed, production_branch, fail_severity)
    found += check_images(parsed)
    found += check_staging_and_migrations(parsed, production_branch)
    found += check_production(parsed, branches, production_branch)
    found += check_triggers(parsed, branches)
    results = {item.requirement: item for item in found}
    missing = set(CI_REQUIREMENTS) - set(results)
    assert not missing, f"no check produced {missing}"
    return {rid: results[rid] for rid in CI_REQUIREMENTS}
