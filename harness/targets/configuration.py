"""Where the configuration audit reads a deployment from: the production env file (given, or
the repository's, or its example with a note), the Compose file, the Kubernetes manifests and
the entry point's nginx files; and a backend setting as the backend would get it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.probes.config_audit import EnvFile, Setting, parse_env
from harness.probes.config_audit_files import (
    Document,
    k8s_environment,
    manifests,
    read_documents,
    service_environment,
)
from harness.probes.nginxconf import copied_configs
from harness.targets.project import MissingProjectFile, Project

# the order of the parameter compose_services, whose names may differ from the spec's
ROLES = ("db", "redis", "mlflow", "backend", "frontend", "prometheus", "grafana")
ENV_FILE_DEFAULT = ".env.production"


def service_name(params: Mapping[str, Any], role: str) -> str:
    names = list(params["compose_services"])
    index = ROLES.index(role)
    return str(names[index]) if index < len(names) else role


def env_file(project: Project, params: Mapping[str, Any]) -> EnvFile:
    """The env file the audit judges: ``audit_env_file`` (an absolute path may lie outside
    the repository: the file on the server), else the example, marked as such."""
    given = str(params["audit_env_file"] or ENV_FILE_DEFAULT)
    path = Path(given) if Path(given).is_absolute() else project.path(given)
    if path.is_file():
        root = project.root.resolve()
        label = str(path.relative_to(root)) if root in path.parents else given
        return parse_env(path.read_text(encoding="utf-8", errors="replace"), label)
    if given != ENV_FILE_DEFAULT:
        raise MissingProjectFile(f"{given}: no such env file; set --param audit_env_file=PATH")
    example = params["env_example"]
    return parse_env(project.read_text(example, "env_example"), example, is_example=True)


def example_file(project: Project, params: Mapping[str, Any]) -> EnvFile | None:
    path = project.path(params["env_example"])
    if not path.is_file():
        return None
    return parse_env(path.read_text(encoding="utf-8", errors="replace"), params["env_example"])


def nginx_configs(project: Project, params: Mapping[str, Any]) -> list[Path]:
    """The entry point's nginx files: ``nginx_config``, else what the frontend Dockerfile
    copies into /etc/nginx."""
    if params["nginx_config"]:
        return [project.file(params["nginx_config"], "nginx_config")]
    dockerfile = project.file(params["frontend_dockerfile"], "frontend_dockerfile")
    found = copied_configs(
        dockerfile.read_text(encoding="utf-8", errors="replace"), dockerfile.parent
    )
    if not found:
        raise MissingProjectFile(
            f"{params['frontend_dockerfile']} copies no nginx configuration into /etc/nginx; "
            "set --param nginx_config=PATH to name it"
        )
    return found


@dataclass
class Deployment:
    """The configuration of one deployment, read once per check."""

    project: Project
    params: Mapping[str, Any]
    env: EnvFile
    example: EnvFile | None
    compose: Document | None
    k8s: list[Document] = field(default_factory=list)

    def values(self) -> dict[str, str]:
        return {name: s.value for name, s in self.env.settings.items()}

    def backend_setting(self, *names: str) -> Setting | None:
        """The first of ``names`` the backend gets: from the env file, else its Compose
        environment (interpolated from the env file), else its Kubernetes ``env``."""
        found = self.env.get(*names)
        if found is not None:
            return found
        backend = service_name(self.params, "backend")
        sources = [k8s_environment(self.k8s, backend)]
        if self.compose is not None:
            sources.insert(0, service_environment(self.compose, backend, self.values()))
        for source in sources:
            setting = next((source[n] for n in names if n in source), None)
            if setting is not None:
                return setting
        return None

    def compose_service(self, role: str) -> tuple[str, Mapping[str, Any]] | None:
        name = service_name(self.params, role)
        services = ((self.compose.body or {}).get("services") or {}) if self.compose else {}
        service = services.get(name)
        return (name, service) if isinstance(service, Mapping) else None


def open_deployment(project: Project, params: Mapping[str, Any]) -> Deployment:
    compose_path = project.path(params["compose_file"])
    compose = None
    if compose_path.is_file():
        documents = read_documents(compose_path, params["compose_file"])
        compose = documents[0] if documents else None
    return Deployment(
        project,
        params,
        env_file(project, params),
        example_file(project, params),
        compose,
        manifests(project.root, params["k8s_dir"]),
    )
