"""The Compose file and the Kubernetes manifests as written (not as ``docker compose config``
resolves them), with the line of every key, so a finding names ``path:line``: what a service
publishes, the environment the backend gets, who is exposed, where TLS ends."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.probes.config_audit import Setting

_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|\$([A-Za-z_]\w*)")
_ALL_INTERFACES = {"", "0.0.0.0", "::", "[::]"}  # noqa: S104 (recognised, never bound)
_OPEN_TYPES = ("LoadBalancer", "NodePort")
_SSL_REDIRECT = "nginx.ingress.kubernetes.io/ssl-redirect"


class Located(dict[Any, Any]):
    """A YAML mapping that remembers the line of each key."""

    lines: dict[Any, int]


class LocatedList(list[Any]):
    """A YAML sequence that remembers the line of each item."""

    lines: list[int]


class _Loader(yaml.SafeLoader):
    pass


def _mapping(loader: _Loader, node: yaml.MappingNode) -> Located:
    loader.flatten_mapping(node)
    result = Located()
    result.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        result[key] = loader.construct_object(value_node, deep=True)
        result.lines[key] = key_node.start_mark.line + 1
    return result


def _sequence(loader: _Loader, node: yaml.SequenceNode) -> LocatedList:
    result = LocatedList(loader.construct_object(child, deep=True) for child in node.value)
    result.lines = [child.start_mark.line + 1 for child in node.value]
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)


def load_located(text: str) -> list[Any]:
    """Every document of a YAML text, mappings and sequences with their lines."""
    return [doc for doc in yaml.load_all(text, Loader=_Loader) if doc is not None]


def line_of(node: Any, key: Any, default: int = 1) -> int:
    if isinstance(node, Located):
        return node.lines.get(key, default)
    if isinstance(node, LocatedList) and isinstance(key, int) and key < len(node.lines):
        return node.lines[key]
    return default


def interpolate(text: str, values: Mapping[str, str]) -> str:
    """Compose's ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``, ``${VAR:?error}``."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(4)
        operator, default = match.group(2) or "", match.group(3) or ""
        value = values.get(name)
        if operator in (":-", ":?") and not value:
            return default if operator == ":-" else ""
        if operator in ("-", "?") and value is None:
            return default if operator == "-" else ""
        return value or ""

    return _VARIABLE.sub(one, text.replace("$$", "\0")).replace("\0", "$")


@dataclass(frozen=True)
class Document:
    """One YAML document of the repository and the path it is read from."""

    label: str
    body: Any

    def at(self, node: Any, key: Any) -> str:
        return f"{self.label}:{line_of(node, key)}"


def read_documents(path: Path, label: str) -> list[Document]:
    return [
        Document(label, body)
        for body in load_located(path.read_text(encoding="utf-8", errors="replace"))
    ]


def service_environment(
    compose: Document, service: str, values: Mapping[str, str]
) -> dict[str, Setting]:
    """The environment Compose gives ``service`` (mapping or ``KEY=VALUE`` list), each value
    interpolated from ``values``, each with its line."""
    body = ((compose.body.get("services") or {}).get(service) or {}) if compose.body else {}
    env = body.get("environment") or {}
    found: dict[str, Setting] = {}
    if isinstance(env, Mapping):
        for name, value in env.items():
            text = "" if value is None else str(value)
            found[str(name)] = Setting(str(name), interpolate(text, values), compose.at(env, name))
    else:
        for index, item in enumerate(env):
            name, _, value = str(item).partition("=")
            found[name] = Setting(name, interpolate(value, values), compose.at(env, index))
    return found


@dataclass(frozen=True)
class Published:
    service: str
    host_ip: str
    host_port: str
    where: str

    @property
    def everywhere(self) -> bool:
        """Bound to every interface of the host, not to loopback."""
        if self.host_ip in _ALL_INTERFACES:
            return True
        try:
            return not ipaddress.ip_address(self.host_ip.strip("[]")).is_loopback
        except ValueError:
            return True  # a variable or a name: it may be any address


def _short_port(text: str) -> tuple[str, str]:
    """(host IP, host port) of ``[IP:][HOST:]CONTAINER[/proto]``; a lone container port is
    published on a random host port of every interface."""
    text = text.split("/", 1)[0]
    if text.startswith("["):  # [::1]:8080:8080
        address, _, rest = text[1:].partition("]:")
        return address, rest.rsplit(":", 1)[0]
    parts = text.split(":")
    if len(parts) >= 3:
        return ":".join(parts[:-2]), parts[-2]
    return "", parts[0] if len(parts) == 2 else "random"


def published_ports(compose: Document, values: Mapping[str, str]) -> list[Published]:
    found: list[Published] = []
    services = (compose.body or {}).get("services") or {}
    for name, service in services.items():
        if not isinstance(service, Mapping):
            continue
        if service.get("network_mode") == "host":
            found.append(Published(name, "", "every port", compose.at(service, "network_mode")))
        ports = service.get("ports") or []
        for index, port in enumerate(ports):
            where = compose.at(ports, index)
            if isinstance(port, Mapping):
                ip, host = str(port.get("host_ip") or ""), str(port.get("published") or "random")
            else:
                ip, host = _short_port(interpolate(str(port), values))
            found.append(Published(str(name), interpolate(ip, values), host, where))
    return found


def manifests(root: Path, k8s_dir: str) -> list[Document]:
    """The Kubernetes documents of ``k8s_dir`` (none when it does not exist)."""
    directory = root / k8s_dir
    if not directory.is_dir():
        return []
    found: list[Document] = []
    for path in sorted([*directory.rglob("*.yaml"), *directory.rglob("*.yml")]):
        found += read_documents(path, str(path.relative_to(root)))
    return [doc for doc in found if isinstance(doc.body, Mapping) and doc.body.get("kind")]


def _name(doc: Document) -> str:
    return str((doc.body.get("metadata") or {}).get("name", ""))


def _pod_spec(doc: Document) -> Mapping[str, Any]:
    spec = doc.body.get("spec") or {}
    if doc.body.get("kind") == "CronJob":
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    return ((spec.get("template") or {}).get("spec") or {}) if "template" in spec else {}


def k8s_exposure(documents: Iterable[Document], entry: str) -> list[Published]:
    """What the manifests open to the outside: Services of type LoadBalancer or NodePort and
    containers' hostPorts, of any workload but ``entry``'s."""
    found: list[Published] = []
    for doc in documents:
        spec = doc.body.get("spec") or {}
        if doc.body.get("kind") == "Service" and spec.get("type") in _OPEN_TYPES:
            found.append(Published(_name(doc), "", str(spec.get("type")), doc.at(spec, "type")))
        for container in _pod_spec(doc).get("containers") or []:
            ports = container.get("ports") or []
            for index, port in enumerate(ports):
                if isinstance(port, Mapping) and port.get("hostPort"):
                    found.append(
                        Published(_name(doc), "", str(port["hostPort"]), doc.at(ports, index))
                    )
    return [item for item in found if item.service != entry]


def k8s_environment(documents: Iterable[Document], workload: str) -> dict[str, Setting]:
    """Literal ``env`` values of the containers of the workload named ``workload``."""
    found: dict[str, Setting] = {}
    for doc in documents:
        if _name(doc) != workload:
            continue
        for container in _pod_spec(doc).get("containers") or []:
            env = container.get("env") or []
            for index, item in enumerate(env):
                if isinstance(item, Mapping) and "value" in item:
                    name = str(item.get("name"))
                    found[name] = Setting(name, str(item["value"]), doc.at(env, index))
    return found


def ingress_tls(documents: Iterable[Document]) -> tuple[list[str], list[str]]:
    """(problems, evidence) of the Ingresses: each serves its hosts with TLS and does not turn
    ingress-nginx's redirect to HTTPS off."""
    problems, evidence = [], []
    for doc in documents:
        if doc.body.get("kind") != "Ingress":
            continue
        spec = doc.body.get("spec") or {}
        covered = {h for tls in spec.get("tls") or [] for h in tls.get("hosts") or []}
        hosts = [rule.get("host") for rule in spec.get("rules") or [] if rule.get("host")]
        where = doc.at(doc.body, "spec")
        if not spec.get("tls"):
            problems.append(f"{where}: Ingress {_name(doc)} has no tls section")
        elif missing := [h for h in hosts if h not in covered]:
            problems.append(f"{where}: Ingress {_name(doc)} serves {missing} without TLS")
        notes = (doc.body.get("metadata") or {}).get("annotations") or {}
        if str(notes.get(_SSL_REDIRECT, "")).lower() == "false":
            problems.append(
                f"{doc.at(notes, _SSL_REDIRECT)}: Ingress {_name(doc)} turns the redirect to "
                "HTTPS off"
            )
        if spec.get("tls"):
            evidence.append(
                f"{where}: Ingress {_name(doc)} serves {hosts or 'every host'} with TLS"
            )
    return problems, evidence


@dataclass(frozen=True)
class Mount:
    source: str  # relative to the Compose file's folder, as written
    target: str
    where: str


def bind_mounts(compose: Document, service: Mapping[str, Any]) -> list[Mount]:
    """The bind mounts of a service (``./src:/dst[:mode]`` or ``type: bind``)."""
    found = []
    volumes = service.get("volumes") or []
    for index, volume in enumerate(volumes):
        if isinstance(volume, Mapping):
            if volume.get("type") == "bind":
                source, target = str(volume.get("source", "")), str(volume.get("target", ""))
                found.append(Mount(source, target, compose.at(volumes, index)))
            continue
        source, _, rest = str(volume).partition(":")
        if source.startswith((".", "/", "~")):
            found.append(Mount(source, rest.split(":", 1)[0], compose.at(volumes, index)))
    return found


def mounted_from(mounts: Iterable[Mount], inside: str) -> tuple[Mount, str] | None:
    """The mount that covers ``inside`` and the host path (as written) it comes from."""
    for mount in sorted(mounts, key=lambda m: -len(m.target.rstrip("/"))):
        target = mount.target.rstrip("/")
        if inside == target or inside.startswith(target + "/"):
            return mount, mount.source.rstrip("/") + inside[len(target) :]
    return None
