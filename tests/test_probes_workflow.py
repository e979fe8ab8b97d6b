"""The CI/CD workflow checks: GitHub's expression and trigger semantics, and the reference file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.probes.workflow import CI_REQUIREMENTS, check_workflow
from harness.probes.workflow_expr import UNKNOWN, condition_text, evaluate, uses_status_function
from harness.probes.workflow_model import (
    Scenario,
    Step,
    branch_filter_matches,
    load_document,
    parse_workflow,
)
from harness.probes.workflow_steps import audits, gates, sast, smoke_test, trivy, version_tagged
from reference_app.project_mutants_ci import REFERENCE_PROJECT, WORKFLOW, write_mutant

PUSH_MAIN = Scenario("push", "main").context()
PUSH_DEVELOP = Scenario("push", "develop").context()
PR_FROM_MAIN = Scenario("pull_request", "main", "develop").context()


@pytest.mark.parametrize(
    ("expression", "context", "expected"),
    [
        ("github.ref == 'refs/heads/main'", PUSH_MAIN, True),
        ("github.ref == 'refs/heads/main'", PUSH_DEVELOP, False),
        ("github.ref == 'REFS/HEADS/MAIN'", PUSH_MAIN, True),  # GitHub compares case-insensitively
        ("github.ref_name == 'main'", PR_FROM_MAIN, False),
        ("github.head_ref == 'main'", PR_FROM_MAIN, True),
        ("startsWith(github.ref, 'refs/heads/ma')", PUSH_MAIN, True),
        ("!(github.event_name == 'push')", PUSH_MAIN, False),
        ("github.event_name != 'pull_request' && github.ref == 'refs/heads/main'", PUSH_MAIN, True),
        ("contains(fromJSON('[\"main\"]'), github.ref_name)", PUSH_MAIN, UNKNOWN),
        ("secrets.DEPLOY_KEY != ''", PUSH_MAIN, UNKNOWN),
        ("secrets.DEPLOY_KEY != '' && github.ref == 'refs/heads/main'", PUSH_DEVELOP, False),
        ("secrets.DEPLOY_KEY != '' || github.ref == 'refs/heads/main'", PUSH_MAIN, True),
        ("vars.X || false", PUSH_MAIN, UNKNOWN),
        ("github.event.inputs['environment'] == 'production'", PUSH_MAIN, UNKNOWN),
        ("1 < 2 && 'it''s' == 'IT''S'", {}, True),
    ],
)
def test_expressions(expression: str, context: dict[str, Any], expected: Any) -> None:
    assert evaluate(expression, context) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("${{ github.ref == 'refs/heads/main' }}", "github.ref == 'refs/heads/main'"),
        (False, "false"),
        # text around ${{ }} makes a string template: a non-empty string, always true
        ("${{ github.ref }} == 'refs/heads/main'", "'${{ github.ref }} == ''refs/heads/main'''"),
    ],
)
def test_condition_text(raw: object, expected: str) -> None:
    assert condition_text(raw) == expected


def test_template_condition_is_always_true() -> None:
    text = condition_text("${{ github.ref }} == 'refs/heads/main'")
    assert evaluate(text, PUSH_DEVELOP) == "${{ github.ref }} == 'refs/heads/main'"
    assert uses_status_function("always() && x")
    assert not uses_status_function("github.ref == 'success'")


@pytest.mark.parametrize(
    ("spec", "branch", "expected"),
    [
        ({"branches": ["main", "develop"]}, "develop", True),
        ({"branches": ["main"]}, "main-hotfix", False),
        ({"branches": ["release/*"]}, "release/1.2", True),
        ({"branches": ["release/*"]}, "release/1/2", False),
        ({"branches": ["release/**"]}, "release/1/2", True),
        ({"branches": ["**", "!feature/*"]}, "feature/x", False),
        ({"branches-ignore": ["develop"]}, "develop", False),
        ({"tags": ["v*"]}, "main", False),
        ({}, "anything", True),
    ],
)
def test_branch_filters(spec: dict[str, Any], branch: str, expected: bool) -> None:
    assert branch_filter_matches(spec, branch) is expected


JOBS = """
on:
  push: {branches: [main, develop]}
  workflow_dispatch:
jobs:
  test: {runs-on: x, steps: [{run: pytest}]}
  deploy: {runs-on: x, needs: test, if: "%s", steps: [{run: kubectl apply -f k8s/}]}
  notify: {runs-on: x, needs: deploy, if: always(), steps: [{run: echo}]}
  after: {runs-on: x, needs: deploy, steps: [{run: echo}]}
"""


@pytest.mark.parametrize(
    ("condition", "on_main", "on_develop"),
    [
        ("github.ref == 'refs/heads/main'", True, False),
        ("${{ github.ref_name == 'main' }}", True, False),
        ("github.ref != 'refs/heads/develop'", True, False),
        ("failure()", False, False),
        ("always() && github.ref == 'refs/heads/main'", True, False),
        ("inputs.go == 'yes'", UNKNOWN, UNKNOWN),
    ],
)
def test_job_states(condition: str, on_main: Any, on_develop: Any) -> None:
    workflow = parse_workflow(load_document(JOBS % condition))
    assert workflow.state(Scenario("push", "main"), "deploy") is on_main
    assert workflow.state(Scenario("push", "develop"), "deploy") is on_develop
    # a job after a skipped one is skipped too, unless its condition says always()
    assert workflow.state(Scenario("push", "develop"), "after") is on_develop
    assert workflow.state(Scenario("push", "develop"), "notify") is True
    assert workflow.state(Scenario("push", "feature/x"), "test") is False


def test_on_key_is_not_a_boolean() -> None:
    document = load_document("on: push\njobs: {a: {runs-on: x, steps: [{run: pytest}]}}")
    assert "on" in document
    assert parse_workflow(document).triggers == {"push": {}}


def _step(**fields: Any) -> Step:
    base: dict[str, Any] = {
        "index": 0,
        "name": "",
        "uses": "",
        "run": "",
        "with_": {},
        "continue_on_error": False,
    }
    return Step(**{**base, **fields})


def test_trivy_defaults_never_fail() -> None:
    scan = trivy(_step(uses="aquasecurity/trivy-action@0.28.0", with_={"image-ref": "x"}))
    assert scan is not None
    assert scan.scans_image
    assert not scan.fails_from("high")
    cli = trivy(_step(run="trivy image --exit-code 1 --severity CRITICAL app:1"))
    assert cli is not None
    assert cli.fails_from("critical")
    assert not cli.fails_from("high")


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("ghcr.io/o/backend:${{ github.sha }}", True),
        ("$IMAGE_PREFIX/backend:$VERSION", True),
        ("ghcr.io/o/backend:1.2.0", True),
        ("ghcr.io/o/backend:latest", False),
        ("ghcr.io/o/backend", False),
        ("localhost:5000/backend", False),
    ],
)
def test_version_tags(image: str, expected: bool) -> None:
    assert version_tagged(image) is expected


def test_smoke_test_must_be_able_to_fail() -> None:
    assert smoke_test(_step(run="curl -fsS https://x/health")) == (True, "")
    assert smoke_test(_step(run="curl -s https://x/health"))[1]
    assert smoke_test(_step(name="Smoke tests", run="pytest -m smoke || true"))[1]
    assert smoke_test(_step(run="echo hi")) == (False, "")


def test_reference_workflow_keeps_every_requirement() -> None:
    findings = check_workflow(REFERENCE_PROJECT, actionlint=None)
    assert list(findings) == list(CI_REQUIREMENTS)
    failed = {rid: f.problems for rid, f in findings.items() if not f.ok}
    assert not failed
    assert "actionlint is not installed" in findings["DEP-CI-WORKFLOW"].summary()


def test_missing_and_broken_files_fail_every_requirement(tmp_path: Path) -> None:
    missing = check_workflow(tmp_path, actionlint=None)
    assert all("does not exist" in f.summary() for f in missing.values())
    (tmp_path / WORKFLOW).parent.mkdir(parents=True)
    (tmp_path / WORKFLOW).write_text("on: [push\njobs: {}", encoding="utf-8")
    broken = check_workflow(tmp_path, actionlint=None)
    assert all("not valid YAML" in f.summary() for f in broken.values())
    (tmp_path / WORKFLOW).write_text("on: push\n", encoding="utf-8")
    assert "no jobs" in check_workflow(tmp_path, actionlint=None)["DEP-CI-ORDER"].summary()


def test_actionlint_findings_fail_the_workflow(tmp_path: Path) -> None:
    fake = tmp_path / "actionlint"
    fake.write_text("#!/bin/sh\necho 'ci-cd.yml:3:1: bad thing [syntax-check]'\nexit 1\n")
    fake.chmod(0o755)
    finding = check_workflow(REFERENCE_PROJECT, actionlint=str(fake))["DEP-CI-WORKFLOW"]
    assert finding.problems == ("actionlint: ci-cd.yml:3:1: bad thing [syntax-check]",)


def test_step_conditions_guard_production_too(tmp_path: Path) -> None:
    """Without a job-level if:, production is still safe when every deploy step is guarded."""
    root = write_mutant("ci-production-any-branch", tmp_path / "repo")
    path = root / WORKFLOW
    text = path.read_text(encoding="utf-8")
    guard = "        if: github.ref == 'refs/heads/main'\n"
    deploy = "      - name: Deploy\n        run: |\n          kubectl --context production"
    migrate = "      - name: Database migrations\n        run: kubectl --context production"
    guarded = text.replace(deploy, deploy.replace("Deploy\n", "Deploy\n" + guard))
    path.write_text(guarded, encoding="utf-8")
    problems = check_workflow(root, actionlint=None)["DEP-CI-PRODUCTION"].problems
    assert guard in guarded
    # the migrations step is not guarded: it still runs against production from develop
    assert any("push on develop" in p for p in problems)
    both = guarded.replace(migrate, migrate.replace("migrations\n", "migrations\n" + guard))
    path.write_text(both, encoding="utf-8")
    assert check_workflow(root, actionlint=None)["DEP-CI-PRODUCTION"].ok


@pytest.mark.parametrize(
    ("run", "expected"),
    [
        ("npm audit --audit-level=high", {"javascript"}),
        ("npm audit --audit-level=critical", set()),  # lets high findings through
        ("pip install pip-audit", set()),  # installing the tool scans nothing
        ("pip-audit -r requirements.txt && npm audit", {"python", "javascript"}),
    ],
)
def test_dependency_audits(run: str, expected: set[str]) -> None:
    assert audits(_step(run=run), "high") == expected


def test_steps_that_cannot_fail_do_not_gate() -> None:
    assert not gates(_step(run="bandit -r app || true"))
    assert not gates(_step(run="bandit -r app", continue_on_error=True))
    assert gates(_step(run="bandit -r app"))
    assert not sast(_step(run="bandit -r app --exit-zero"))
