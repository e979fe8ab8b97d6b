"""Deployment Automation > CI/CD Pipeline and Kubernetes, read as the repository's files
(``--project-root``): the workflow with GitHub Actions' own semantics, the manifests against
the Kubernetes schemas offline (harness/probes/workflow.py, harness/probes/k8s.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.probes.k8s import K8S_REQUIREMENTS, check_manifests
from harness.probes.repo_findings import RepoFinding
from harness.probes.workflow import CI_REQUIREMENTS, check_workflow
from harness.report.evidence import Evidence
from harness.targets.project import Project

requirement = pytest.mark.requirement
# one reading of the files serves every requirement of a family: the workflow is parsed and
# the manifests validated once per repository and settings, not once per requirement
_READ: dict[tuple[object, ...], dict[str, RepoFinding]] = {}


def _workflow(root: Path, params: dict[str, Any]) -> dict[str, RepoFinding]:
    settings = (
        params["ci_workflow"],
        tuple(params["ci_branches"]),
        params["production_branch"],
        params["dependency_audit_fail_severity"],
    )
    key = ("ci", root, *settings)
    if key not in _READ:
        workflow, branches, production, severity = settings
        _READ[key] = check_workflow(
            root, workflow=workflow, branches=branches, production_branch=production,
            fail_severity=severity,
        )  # fmt: skip
    return _READ[key]


def _manifests(root: Path, params: dict[str, Any]) -> dict[str, RepoFinding]:
    settings = (params["k8s_dir"], params["health_path"], int(params["k8s_scale_replicas"]))
    key = ("k8s", root, *settings)
    if key not in _READ:
        k8s_dir, health, replicas = settings
        _READ[key] = check_manifests(
            root, k8s_dir=k8s_dir, health_path=health, scale_replicas=replicas
        )
    return _READ[key]


def _judge(found: RepoFinding, evidence: Evidence) -> None:
    __tracebackhide__ = True
    evidence.note("found", list(found.evidence))
    evidence.note("problems", list(found.problems))
    assert found.ok, found.summary()


@pytest.mark.parametrize(
    "rid",
    [
        pytest.param(rid, marks=requirement(rid), id=rid)
        for rid in CI_REQUIREMENTS + K8S_REQUIREMENTS
    ],
)
def test_ci_workflow_and_kubernetes_manifests(
    rid: str, project: Project, params: dict[str, Any], evidence: Evidence
) -> None:
    read = _workflow if rid in CI_REQUIREMENTS else _manifests
    _judge(read(project.root, params)[rid], evidence)
