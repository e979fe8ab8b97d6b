"""Grafana's provisioning as a Compose service mounts it from the repository: a Prometheus
data source and a dashboard provider whose folder holds dashboards, read the way Grafana reads
them (YAML providers, JSON dashboards); and a running Grafana's HTTP API, where one answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import yaml

from harness.errors import UnexpectedAnswer
from harness.probes.answers import json_value, status_in
from harness.probes.compose_services import (
    GRAFANA_PROVISIONING,
    Service,
    host_path,
    port_problems,
)
from harness.probes.repo_findings import RepoFinding, finding

_YAML = (".yml", ".yaml")


def yaml_documents(folder: Path, problems: list[str]) -> list[tuple[Path, dict[str, Any]]]:
    """The YAML mappings of a provisioning folder, as Grafana reads them (.yml and .yaml)."""
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


def entries(loaded: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """The mappings listed under ``key``; anything else there is not an entry Grafana reads."""
    found = loaded.get(key)
    return [entry for entry in found if isinstance(entry, dict)] if isinstance(found, list) else []


def _datasources(folder: Path, prometheus: str, problems: list[str]) -> list[str]:
    found = []
    for path, loaded in yaml_documents(folder, problems):
        for source in entries(loaded, "datasources"):
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
    for path, loaded in yaml_documents(folder, problems):
        for provider in entries(loaded, "providers"):
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


class GrafanaRefused(Exception):
    """Grafana answered 401 or 403: the harness has no credentials it accepts."""


class GrafanaApi:
    """A running Grafana's HTTP API: health, search, a data source's health test and the
    login form. ``token`` is a service account token (viewer suffices for all but the data
    source test, which needs the data source's query permission)."""

    def __init__(
        self,
        url: str,
        token: str | None = None,
        timeout: float = 5.0,
        *,
        transport: httpx.BaseTransport | None = None,  # tests answer in-process
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.url = url.rstrip("/")
        self._transport = transport
        self._client = httpx.Client(
            base_url=self.url, headers=headers, timeout=timeout, transport=transport
        )

    def close(self) -> None:
        self._client.close()

    def health(self) -> dict[str, Any] | None:
        """``/api/health`` when a Grafana answers there (it names its database), else None."""
        try:
            response = self._client.get("/api/health")
        except httpx.HTTPError:
            return None
        try:
            body = response.json()
        except ValueError:
            return None
        return body if isinstance(body, dict) and "database" in body else None

    def _get(self, path: str, expected: str) -> Any:
        response = self._client.get(path)
        if response.status_code in (401, 403):
            raise GrafanaRefused(
                f"Grafana refuses the harness; {self.url} answered {response.status_code} to "
                f"{path}: set --param grafana_token=TOKEN (a service account token)"
            )
        return json_value(response, expected)

    def dashboard_titles(self) -> list[str]:
        """Titles of the dashboards Grafana's search finds."""
        expected = "a JSON array of dashboards"
        found = self._get("/api/search?type=dash-db&limit=5000", expected)
        if not isinstance(found, list):
            raise UnexpectedAnswer("GET /api/search", expected, str(found)[:120])
        return [str(item.get("title")) for item in found if isinstance(item, dict)]

    def datasource_health(self, uid: str) -> tuple[str, str]:
        """Status and message of Grafana's own health test of the data source ``uid``."""
        path = f"/api/datasources/uid/{uid}/health"
        body = self._get(path, "a JSON object with 'status'")
        if not isinstance(body, dict):
            raise UnexpectedAnswer(f"GET {path}", "a JSON object with 'status'", str(body)[:120])
        return str(body.get("status", "")), str(body.get("message", ""))

    def accepts_login(self, user: str, password: str) -> bool:
        """Whether the login form accepts ``user``/``password`` (200), or refuses it (401)."""
        # a client of its own: the login form must not see the token
        with httpx.Client(transport=self._transport, timeout=5.0) as client:
            response = client.post(f"{self.url}/login", json={"user": user, "password": password})
        status_in(response, (200, 401), "200 (signed in) or 401 (refused)")
        return response.status_code == 200
