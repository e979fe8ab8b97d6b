"""The Kubernetes manifests of a repository judged against the DEP-K8S requirements.

:func:`check_manifests` reads every manifest ``kubectl apply -f k8s/`` would apply (the
directory's ``.yaml``, ``.yml`` and ``.json`` files, not its subfolders), validates each object
against the Kubernetes OpenAPI schemas offline (``kubernetes-validate``, strict: unknown fields
are errors, as the API server's field validation makes them) and returns one
:class:`RepoFinding` per DEP-K8S requirement.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import yaml

from harness.probes.k8s_pods import (
    Manifest,
    check_nonroot,
    check_probes,
    check_resources,
    pod_spec,
)
from harness.probes.repo_findings import RepoFinding, failed_all, finding

K8S_REQUIREMENTS = (
    "DEP-K8S-MANIFESTS",
    "DEP-K8S-OBJECTS",
    "DEP-K8S-SCALE",
    "DEP-K8S-PROBES",
    "DEP-K8S-RESOURCES",
    "DEP-K8S-NONROOT",
)
SERVICES = ("backend", "frontend")
_SUFFIXES = (".yaml", ".yml", ".json")
_SINGLE_NODE_ACCESS = {"ReadWriteOnce", "ReadWriteOncePod"}


def load_manifests(directory: Path) -> tuple[list[Manifest], list[str]]:
    """The objects of every manifest `kubectl apply -f DIR` reads, and the files that do not
    parse (one line each)."""
    manifests, problems = [], []
    for path in sorted(p for p in directory.iterdir() if p.suffix in _SUFFIXES and p.is_file()):
        try:
            documents = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            problems.append(f"{path.name}: not valid YAML: {' '.join(str(exc).split())}")
            continue
        for index, document in enumerate(documents):
            if document is None:
                continue
            where = f"{path.name}#{index + 1}"
            if not isinstance(document, Mapping) or not document.get("kind"):
                problems.append(f"{where}: not a Kubernetes object (no kind)")
                continue
            manifests.append(Manifest(where, dict(document)))
    return manifests, problems


def _schema_problems(manifests: list[Manifest], version: str) -> list[str]:
    problems = []
    seen: dict[tuple[str, str, str], str] = {}
    for manifest in manifests:
        key = (manifest.kind, manifest.namespace, manifest.name)
        if key in seen:
            problems.append(f"{manifest.label} repeats {seen[key]}")
        seen[key] = manifest.label
        try:
            kubernetes_validate.validate(manifest.body, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            where = "/".join(str(p) for p in exc.path) or "(top level)"
            problems.append(f"{manifest.label}: at {where}: {exc.message[:200]}")
        except kubernetes_validate.SchemaNotFoundError:
            problems.append(
                f"{manifest.label}: no Kubernetes {version} schema for "
                f"{manifest.body.get('apiVersion')} {manifest.kind}"
            )
    return problems


def _ports(pod: Mapping[str, Any]) -> dict[str | int, int]:
    """Container ports by number and by name."""
    ports: dict[str | int, int] = {}
    for container in pod.get("containers") or []:
        for port in container.get("ports") or []:
            number = int(port.get("containerPort", 0))
            ports[number] = number
            if port.get("name"):
                ports[str(port["name"])] = number
    return ports


def _labels_match(selector: Mapping[str, Any] | None, labels: Mapping[str, Any]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in (selector or {}).items())


def _check_objects(manifests: list[Manifest]) -> RepoFinding:
    problems, evidence = [], []
    services = [m for m in manifests if m.kind == "Service"]
    for name in SERVICES:
        deployment = _deployment(manifests, name)
        if deployment is None:
            problems.append(f"no Deployment named {name}")
            continue
        template = deployment.body.get("spec", {}).get("template", {})
        labels = template.get("metadata", {}).get("labels") or {}
        selector = deployment.body.get("spec", {}).get("selector", {}).get("matchLabels")
        if not _labels_match(selector, labels):
            problems.append(f"Deployment {name}: its selector does not match its pod labels")
        ports = _ports(pod_spec(deployment))
        matching = [
            s for s in services if _labels_match(s.body.get("spec", {}).get("selector"), labels)
        ]
        if not matching:
            problems.append(f"no Service selects the pods of Deployment {name}")
        for service in matching:
            for port in service.body.get("spec", {}).get("ports") or []:
                target = port.get("targetPort", port.get("port"))
                if target not in ports:
                    problems.append(
                        f"Service {service.name} sends port {port.get('port')} to {target!r}, "
                        f"which no container of {name} exposes"
                    )
        evidence.append(f"Deployment {name} <- Service {[s.name for s in matching]}")
    return finding("DEP-K8S-OBJECTS", problems, evidence)


def _deployment(manifests: list[Manifest], name: str) -> Manifest | None:
    return next((m for m in manifests if m.kind == "Deployment" and m.name == name), None)


def _check_scale(manifests: list[Manifest], replicas: int) -> RepoFinding:
    backend = _deployment(manifests, "backend")
    if backend is None:
        return finding("DEP-K8S-SCALE", ["no Deployment named backend"], [])
    pod = pod_spec(backend)
    problems = []
    if pod.get("hostNetwork"):
        problems.append("backend pods use the host network: two cannot share a node's ports")
    if pod.get("nodeName"):
        problems.append(f"backend pods are pinned to node {pod['nodeName']!r}")
    for container in pod.get("containers") or []:
        problems += [
            f"container {container.get('name')} binds hostPort {p['hostPort']}: one pod per node"
            for p in container.get("ports") or []
            if p.get("hostPort")
        ]
    claims = {m.name: m for m in manifests if m.kind == "PersistentVolumeClaim"}
    for volume in pod.get("volumes") or []:
        if "hostPath" in volume:
            problems.append(f"volume {volume.get('name')} keeps state on one node (hostPath)")
        claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
        if claim:
            modes = (
                set(claims[claim].body["spec"].get("accessModes", [])) if claim in claims else set()
            )
            if not modes or modes & _SINGLE_NODE_ACCESS:
                problems.append(f"volume {volume.get('name')} mounts claim {claim} {sorted(modes)}")
    evidence = [f"backend replicas {backend.body.get('spec', {}).get('replicas', 1)}"]
    for hpa in (m for m in manifests if m.kind == "HorizontalPodAutoscaler"):
        target = hpa.body.get("spec", {}).get("scaleTargetRef", {})
        if (target.get("kind"), target.get("name")) == ("Deployment", "backend"):
            ceiling = int(hpa.body["spec"].get("maxReplicas", 0))
            evidence.append(f"HorizontalPodAutoscaler {hpa.name}: max {ceiling}")
            if ceiling < replicas:
                problems.append(
                    f"HorizontalPodAutoscaler {hpa.name} caps the backend at {ceiling} replicas "
                    f"and undoes a scale to {replicas}"
                )
    return finding("DEP-K8S-SCALE", problems, evidence)


def check_manifests(
    root: Path,
    *,
    k8s_dir: str = "k8s",
    health_path: str = "/health",
    scale_replicas: int = 3,
    kubernetes_version: str | None = None,
) -> dict[str, RepoFinding]:
    """One finding per DEP-K8S requirement for the manifests in ``root / k8s_dir``."""
    directory = root / k8s_dir
    if not directory.is_dir():
        return failed_all(K8S_REQUIREMENTS, f"{k8s_dir}/ does not exist under {root}")
    manifests, problems = load_manifests(directory)
    if not manifests and not problems:
        return failed_all(K8S_REQUIREMENTS, f"{k8s_dir}/ holds no manifest")
    version = kubernetes_version or kubernetes_validate.latest_version()
    problems += _schema_problems(manifests, version)
    counted = f"{len(manifests)} objects validated against Kubernetes {version}"
    found = [
        finding("DEP-K8S-MANIFESTS", problems, [counted]),
        _check_objects(manifests),
        _check_scale(manifests, scale_replicas),
        check_probes(manifests, SERVICES, health_path),
        check_resources(manifests),
        check_nonroot(manifests),
    ]
    return {item.requirement: item for item in found}
