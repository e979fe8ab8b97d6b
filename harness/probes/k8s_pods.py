"""Pod templates of Kubernetes workloads: health probes, resources and security contexts."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness.probes.repo_findings import RepoFinding, finding

WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job")
_SUFFIX = {
    "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
}  # fmt: skip
_QUANTITY = re.compile(r"^([+-]?\d+(?:\.\d*)?(?:[eE][+-]?\d+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")


@dataclass(frozen=True)
class Manifest:
    label: str  # file#document
    body: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.body.get("kind", ""))

    @property
    def name(self) -> str:
        return str((self.body.get("metadata") or {}).get("name", ""))

    @property
    def namespace(self) -> str:
        return str((self.body.get("metadata") or {}).get("namespace", ""))


def pod_spec(manifest: Manifest) -> Mapping[str, Any]:
    spec = manifest.body.get("spec") or {}
    return (spec.get("template") or {}).get("spec") or {}


def _workloads(manifests: Sequence[Manifest]) -> Iterator[Manifest]:
    return (m for m in manifests if m.kind in WORKLOADS)


def _containers(pod: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return list(pod.get("initContainers") or []) + list(pod.get("containers") or [])


def quantity(text: object) -> float | None:
    """A Kubernetes quantity (``250m``, ``512Mi``, ``1``) as a number, None when malformed."""
    match = _QUANTITY.match(str(text).strip())
    if not match:
        return None
    return float(match.group(1)) * _SUFFIX.get(match.group(2) or "", 1)


def _probe_problem(probe: Any, which: str, health_path: str, ports: set[Any]) -> str:
    if not isinstance(probe, Mapping):
        return f"has no {which}"
    http = probe.get("httpGet")
    if isinstance(http, Mapping):
        if http.get("path") != health_path:
            return f"{which} asks {http.get('path')!r}, not {health_path}"
        if http.get("port") not in ports:
            return f"{which} asks port {http.get('port')!r}, which the container does not expose"
        return ""
    command = " ".join(str(part) for part in (probe.get("exec") or {}).get("command") or [])
    return "" if health_path in command else f"{which} does not ask {health_path}"


def check_probes(
    manifests: Sequence[Manifest], names: Sequence[str], health_path: str
) -> RepoFinding:
    """Readiness and liveness probes of each named Deployment's serving containers ask /health."""
    problems, evidence = [], []
    for name in names:
        deployment = next((m for m in manifests if m.kind == "Deployment" and m.name == name), None)
        if deployment is None:
            problems.append(f"no Deployment named {name}")
            continue
        for container in pod_spec(deployment).get("containers") or []:
            ports: set[Any] = set()
            for port in container.get("ports") or []:
                ports |= {port.get("containerPort"), port.get("name")} - {None}
            for which in ("readinessProbe", "livenessProbe"):
                problem = _probe_problem(container.get(which), which, health_path, ports)
                where = f"Deployment {name}, container {container.get('name')}"
                if problem:
                    problems.append(f"{where} {problem}")
                else:
                    evidence.append(f"{where}: {which} on {health_path}")
    return finding("DEP-K8S-PROBES", problems, evidence)


def check_resources(manifests: Sequence[Manifest]) -> RepoFinding:
    """Every container of every workload requests and is limited in CPU and memory."""
    problems, evidence = [], []
    for workload in _workloads(manifests):
        for container in _containers(pod_spec(workload)):
            where = f"{workload.kind} {workload.name}, container {container.get('name')}"
            resources = container.get("resources") or {}
            for resource in ("cpu", "memory"):
                request = quantity((resources.get("requests") or {}).get(resource))
                limit = quantity((resources.get("limits") or {}).get(resource))
                if request is None or limit is None:
                    problems.append(f"{where} has no {resource} request and limit")
                elif request > limit:
                    problems.append(f"{where} requests more {resource} than its limit")
            evidence.append(f"{where}: {dict(resources)}")
    return finding("DEP-K8S-RESOURCES", problems, evidence or ["no workload"])


def _effective(pod: Mapping[str, Any], container: Mapping[str, Any], key: str) -> Any:
    """A container's security setting, falling back to the pod's (Kubernetes' precedence)."""
    own = container.get("securityContext") or {}
    return own[key] if key in own else (pod.get("securityContext") or {}).get(key)


def check_nonroot(manifests: Sequence[Manifest]) -> RepoFinding:
    """No container of any workload can run as root or gain privileges."""
    problems, evidence = [], []
    for workload in _workloads(manifests):
        pod = pod_spec(workload)
        for container in _containers(pod):
            where = f"{workload.kind} {workload.name}, container {container.get('name')}"
            user = _effective(pod, container, "runAsUser")
            non_root = _effective(pod, container, "runAsNonRoot")
            own = container.get("securityContext") or {}
            if user == 0 or (non_root is not True and not (isinstance(user, int) and user > 0)):
                problems.append(f"{where} may run as root (runAsNonRoot {non_root}, uid {user})")
            if own.get("privileged"):
                problems.append(f"{where} is privileged")
            if own.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{where} does not set allowPrivilegeEscalation: false")
            evidence.append(f"{where}: runAsNonRoot {non_root}, uid {user}")
    return finding("DEP-K8S-NONROOT", problems, evidence or ["no workload"])
