"""Grafana's provisioning as a Compose service mounts it from the repository: a Prometheus
data source and a dashboard provider whose folder holds dashboards. Grafana cannot run here,
so the files it would load are read the way it reads them (YAML providers, JSON dashboards)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from harness.probes.compose_services import (
    GRAFANA_PROVISIONING,
    Service,
    host_path,
    port_problems,
)
from harness.probes.repo_findings import RepoFinding, finding

_YAML = (".yml", ".yaml")


def _documents(folder: Path, problems: list[str]) -> list[tuple[Path, dict[str, Any]]]:
    found = []
    for path in sorted(p for p in folder.glob("*") if p.suffix in _YAML and p.is_file()):
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            problems.append(f"{path.name}: not valid YAML: {' '.join(str(exc).split())[:160]}")
            continue
        if isinstance(loaded, dict):
            found.append((path, loaded))
    return found


def _entries(loaded: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """The mappings listed under ``key``; anything else there is not an entry Grafana reads."""
    found = loaded.get(key)
    return [entry for entry in found if isinstance(entry, dict)] if isinstance(found, list) else []


def _datasources(folder: Path, prometheus: str, problems: list[str]) -> list[str]:
    found = []
    for path, loaded in _documents(folder, problems):
        for source in _entries(loaded, "datasources"):
            if source.get("type") == "prometheus":
                host = urlsplit(str(source.get("url", ""))).hostname
                found.append(f"{path.name}: {source.get('name')} -> {source.get('url')}")
                if host != prometheus:
                    problems.append(
                        f"{path.name}: data source {source.get('name')} points at "
                        f"{source.get('url')}, not the {prometheus} service"
                    )
    return found


def _dashboards(service: Service, folder: Path, problems: list[str]) -> tuple[list[str], list[str]]:
    """Providers found, and the dashboards their folders hold."""
    providers, boards = [], []
    for path, loaded in _documents(folder, problems):
        for provider in _entries(loaded, "providers"):
            options = provider.get("options")
            inside = str(options.get("path", "")) if isinstance(options, dict) else ""
            providers.append(f"{path.name}: {provider.get('name')} <- {inside}")
            source = host_path(service, inside.rstrip("/")) if inside else None
            if source is None or not source.is_dir():
                problems.append(
                    f"{path.name}: provider {provider.get('name')} reads {inside or 'no path'}, "
                    "which no bind mount brings from the repository"
                )
                continue
            for board in sorted(source.rglob("*.json")):
                try:
                    body = json.loads(board.read_text(encoding="utf-8"))
                except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                    problems.append(f"{board.name}: not a JSON dashboard ({exc})")
                    continue
                if isinstance(body, dict) and body.get("panels"):
                    boards.append(f"{board.name}: {body.get('title')}")
    return providers, boards


def check_grafana(
    name: str,
    grafana: Service,
    prometheus: str,
    rid: str = "DEP-COMPOSE-GRAFANA",
) -> RepoFinding:
    """Publishes 3000; mounts provisioning with a Prometheus data source and dashboards."""
    problems = port_problems(name, grafana, 3000)
    environment = grafana.get("environment") or {}
    inside = str(environment.get("GF_PATHS_PROVISIONING") or GRAFANA_PROVISIONING)
    root = host_path(grafana, inside)
    if root is None or not root.is_dir():
        problems.append(f"{name} mounts no provisioning folder from the repository at {inside}")
        return finding(rid, problems, [])
    sources = _datasources(root / "datasources", prometheus, problems)
    if not sources:
        problems.append(f"{root.name}/datasources/ provisions no data source of type prometheus")
    providers, boards = _dashboards(grafana, root / "dashboards", problems)
    if not providers:
        problems.append(f"{root.name}/dashboards/ provisions no dashboard provider")
    elif not boards:
        problems.append("the dashboard providers' folders hold no dashboard with panels")
    return finding(rid, problems, [*sources, *providers, *boards])
