"""The Kubernetes manifest checks: offline schema validation and the pod template rules."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.probes.k8s import K8S_REQUIREMENTS, check_manifests
from harness.probes.k8s_pods import quantity
from reference_app.project_mutants_ci import REFERENCE_PROJECT


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(REFERENCE_PROJECT / "k8s", root / "k8s")
    return root


def _edit(root: Path, name: str, old: str, new: str) -> None:
    path = root / "k8s" / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_reference_manifests_keep_every_requirement() -> None:
    findings = check_manifests(REFERENCE_PROJECT)
    assert list(findings) == list(K8S_REQUIREMENTS)
    assert not {rid: f.problems for rid, f in findings.items() if not f.ok}
    assert "6 objects validated" in findings["DEP-K8S-MANIFESTS"].summary()


@pytest.mark.parametrize(
    ("text", "expected"),
    [("250m", 0.25), ("1", 1.0), ("512Mi", 512 * 2**20), ("1G", 1e9), ("1e3", 1000.0), ("x", None)],
)
def test_quantities(text: str, expected: float | None) -> None:
    assert quantity(text) == expected


def test_missing_directory_and_empty_directory(tmp_path: Path) -> None:
    assert all("does not exist" in f.summary() for f in check_manifests(tmp_path).values())
    (tmp_path / "k8s").mkdir()
    assert all("holds no manifest" in f.summary() for f in check_manifests(tmp_path).values())


def test_broken_yaml_and_subfolders(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    (root / "k8s" / "extra").mkdir()
    # kubectl apply -f k8s/ does not descend: a broken file in a subfolder is never applied
    (root / "k8s" / "extra" / "broken.yaml").write_text("kind: [", encoding="utf-8")
    assert check_manifests(root)["DEP-K8S-MANIFESTS"].ok
    (root / "k8s" / "broken.yaml").write_text("kind: [", encoding="utf-8")
    assert "broken.yaml: not valid YAML" in check_manifests(root)["DEP-K8S-MANIFESTS"].summary()


def test_unknown_api_version_and_duplicates(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    _edit(root, "backend-hpa.yaml", "autoscaling/v2", "autoscaling/v9")
    shutil.copy(root / "k8s" / "frontend.yaml", root / "k8s" / "frontend-copy.yaml")
    problems = check_manifests(root)["DEP-K8S-MANIFESTS"].problems
    assert any("no Kubernetes" in p and "autoscaling/v9" in p for p in problems)
    assert "frontend.yaml#1 repeats frontend-copy.yaml#1" in problems


def test_probe_on_another_path_or_port(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    _edit(
        root,
        "frontend.yaml",
        "path: /health\n              port: http\n            periodSeconds: 10",
        "path: /\n              port: http\n            periodSeconds: 10",
    )
    _edit(
        root,
        "backend.yaml",
        "path: /health\n              port: http\n            initialDelaySeconds",
        "path: /health\n              port: 9000\n            initialDelaySeconds",
    )
    problems = check_manifests(root)["DEP-K8S-PROBES"].problems
    assert problems == (
        "Deployment backend, container backend livenessProbe asks port 9000, "
        "which the container does not expose",
        "Deployment frontend, container frontend readinessProbe asks '/', not /health",
    )


def test_pod_level_root_and_container_override(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    _edit(root, "frontend.yaml", "runAsNonRoot: true\n        runAsUser: 101", "runAsUser: 0")
    problems = check_manifests(root)["DEP-K8S-NONROOT"].problems
    assert problems == (
        "Deployment frontend, container frontend may run as root (runAsNonRoot None, uid 0)",
    )


def test_requests_above_limits(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    _edit(root, "backend.yaml", "cpu: 250m", "cpu: 1500m")
    assert check_manifests(root)["DEP-K8S-RESOURCES"].problems == (
        "Deployment backend, container backend requests more cpu than its limit",
    )


def test_scale_ceiling_and_single_node_claim(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    _edit(root, "backend-hpa.yaml", "maxReplicas: 6", "maxReplicas: 2")
    _edit(
        root,
        "backend.yaml",
        "- name: tmp\n          emptyDir: {}",
        "- name: tmp\n          persistentVolumeClaim:\n            claimName: data",
    )
    (root / "k8s" / "claim.yaml").write_text(
        "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data}\n"
        "spec:\n  accessModes: [ReadWriteOnce]\n  resources: {requests: {storage: 1Gi}}\n",
        encoding="utf-8",
    )
    findings = check_manifests(root)
    assert findings["DEP-K8S-MANIFESTS"].ok
    assert findings["DEP-K8S-SCALE"].problems == (
        "volume tmp mounts claim data ['ReadWriteOnce']",
        "HorizontalPodAutoscaler backend caps the backend at 2 replicas and undoes a scale to 3",
    )


def test_service_that_selects_nothing(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    _edit(
        root,
        "backend.yaml",
        "spec:\n  selector:\n    app.kubernetes.io/name: backend\n",
        "spec:\n  selector:\n    app.kubernetes.io/name: api\n",
    )
    assert check_manifests(root)["DEP-K8S-OBJECTS"].problems == (
        "no Service selects the pods of Deployment backend",
    )
