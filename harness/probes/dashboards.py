"""Grafana's provisioned dashboards and data sources as Grafana loads them: the Compose file's
Grafana service mounts its provisioning folder from the repository, each dashboard provider
names a folder inside the container, and a bind mount says which folder of the repository
that is. Only reading and parsing: the PromQL of the panels is judged in dashboard_queries."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from harness.probes.compose_services import GRAFANA_PROVISIONING
from harness.probes.config_audit_files import Document, bind_mounts, mounted_from
from harness.probes.grafana import entries, yaml_documents

# Grafana's default time range, used where a dashboard states none
DEFAULT_RANGE_S = 6 * 3600.0
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "M": 2592000, "y": 31536000}
_RELATIVE = re.compile(r"^now-(\d+)([smhdwMy])$")
ADMIN_PASSWORD = ("GF_SECURITY_ADMIN_PASSWORD", "GF_SECURITY_ADMIN_PASSWORD__FILE")


@dataclass(frozen=True)
class Query:
    ref_id: str
    expr: str


@dataclass(frozen=True)
class Panel:
    title: str
    queries: tuple[Query, ...]
    datasources: tuple[str, ...]  # the uids the panel and its targets name ("" for none)
    max_data_points: int | None = None
    interval: str | None = None  # the panel's minimum interval, overriding the data source's


@dataclass(frozen=True)
class Variable:
    name: str
    kind: str  # query, custom, constant, interval, ...
    query: str
    include_all: bool
    all_value: str | None
    current: tuple[str, ...]


@dataclass(frozen=True)
class Dashboard:
    title: str
    uid: str
    label: str  # the file, relative to the repository
    panels: tuple[Panel, ...]
    variables: tuple[Variable, ...]
    range_s: float


@dataclass(frozen=True)
class DataSource:
    name: str
    kind: str
    uid: str
    url: str
    label: str
    json_data: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Provisioning:
    """What the provisioning folder loads, and why something could not be read."""

    dashboards: list[Dashboard] = field(default_factory=list)
    datasources: list[DataSource] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)


def range_seconds(time: Any) -> float:
    """Seconds of a dashboard's relative time range (``now-1h`` to ``now``)."""
    start = str(time.get("from", "")) if isinstance(time, Mapping) else ""
    found = _RELATIVE.match(start)
    return float(int(found.group(1)) * _UNITS[found.group(2)]) if found else DEFAULT_RANGE_S


def _uid(datasource: Any) -> str:
    if isinstance(datasource, Mapping):
        return str(datasource.get("uid") or "")
    return str(datasource or "")  # the old form: the data source's name as a string


def _panels(items: Any) -> list[dict[str, Any]]:
    """Panels, those inside rows (collapsed rows keep theirs in ``panels``) included."""
    found = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        if item.get("type") == "row":
            found += _panels(item.get("panels"))
        else:
            found.append(item)
    return found


def _panel(body: dict[str, Any]) -> Panel:
    targets = [t for t in body.get("targets") or [] if isinstance(t, dict)]
    queries = tuple(
        Query(str(t.get("refId") or "A"), str(t["expr"]))
        for t in targets
        if t.get("expr") and not t.get("hide")
    )
    uids = {_uid(body.get("datasource"))} | {_uid(t.get("datasource")) for t in targets}
    points = body.get("maxDataPoints")
    return Panel(
        str(body.get("title") or f"panel {body.get('id', '?')}"),
        queries,
        tuple(sorted(uids)),
        int(points) if isinstance(points, int | float) else None,
        str(body["interval"]) if body.get("interval") else None,
    )


def _variable(body: dict[str, Any]) -> Variable:
    query = body.get("query")
    text = query.get("query", "") if isinstance(query, Mapping) else query
    current = (body.get("current") or {}).get("value")
    values = current if isinstance(current, list) else [current] if current else []
    all_value = body.get("allValue")
    return Variable(
        str(body.get("name", "")),
        str(body.get("type", "query")),
        str(text or body.get("definition") or ""),
        bool(body.get("includeAll")),
        str(all_value) if all_value else None,
        tuple(str(v) for v in values),
    )


def read_dashboard(path: Path, label: str) -> Dashboard:
    """One dashboard file; ValueError in one line when it is not a dashboard."""
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{label}: not a JSON dashboard ({' '.join(str(exc).split())})") from None
    if not isinstance(body, dict) or not body.get("title"):
        raise ValueError(f"{label}: a JSON document without a dashboard title")
    variables = (body.get("templating") or {}).get("list") or []
    return Dashboard(
        str(body["title"]),
        str(body.get("uid") or ""),
        label,
        tuple(_panel(p) for p in _panels(body.get("panels"))),
        tuple(_variable(v) for v in variables if isinstance(v, dict)),
        range_seconds(body.get("time")),
    )


def _datasources(folder: Path, label: Callable[[Path], str], found: Provisioning) -> None:
    for path, loaded in yaml_documents(folder, found.problems):
        for source in entries(loaded, "datasources"):
            json_data = source.get("jsonData")
            found.datasources.append(
                DataSource(
                    str(source.get("name", "")),
                    str(source.get("type", "")),
                    str(source.get("uid", "")),
                    str(source.get("url", "")),
                    label(path),
                    json_data if isinstance(json_data, Mapping) else {},
                )
            )


def read_provisioning(
    folder: Path, resolve: Callable[[str], Path | None], label: Callable[[Path], str]
) -> Provisioning:
    """The data sources and the dashboards of every provider under ``folder`` (Grafana's
    provisioning folder); ``resolve`` maps a provider's path inside the container to the
    repository's folder it is mounted from."""
    found = Provisioning()
    _datasources(folder / "datasources", label, found)
    for path, loaded in yaml_documents(folder / "dashboards", found.problems):
        for provider in entries(loaded, "providers"):
            options = provider.get("options")
            inside = str(options.get("path", "")) if isinstance(options, Mapping) else ""
            source = resolve(inside.rstrip("/")) if inside else None
            if source is None or not source.is_dir():
                found.problems.append(
                    f"{label(path)}: provider {provider.get('name')} reads {inside or 'no path'}, "
                    "which no bind mount brings from the repository"
                )
                continue
            found.evidence.append(f"{label(path)}: provider {provider.get('name')} <- {inside}")
            for board in sorted(source.rglob("*.json")):
                try:
                    found.dashboards.append(read_dashboard(board, label(board)))
                except ValueError as exc:
                    found.problems.append(str(exc))
    return found


def mounted_provisioning(
    compose: Document, service: Mapping[str, Any], compose_dir: Path
) -> tuple[Path | None, Callable[[str], Path | None]]:
    """The repository folder Grafana's provisioning comes from (``GF_PATHS_PROVISIONING``
    or the image's default), and how a path inside the container maps to the repository."""
    mounts = bind_mounts(compose, service)

    def resolve(inside: str) -> Path | None:
        found = mounted_from(mounts, inside)
        if found is None:
            return None
        return (compose_dir / Path(found[1]).expanduser()).resolve()

    environment = service.get("environment")
    inside = GRAFANA_PROVISIONING
    if isinstance(environment, Mapping) and environment.get("GF_PATHS_PROVISIONING"):
        inside = str(environment["GF_PATHS_PROVISIONING"])
    return resolve(str(PurePosixPath(inside))), resolve


def admin_password_setting(
    compose: Document, name: str, service: Mapping[str, Any]
) -> tuple[str | None, str]:
    """GF_SECURITY_ADMIN_PASSWORD as the Compose file writes it (``$GF_FILE`` for the
    __FILE form: a secret file), and where; None where Grafana gets none."""
    environment = service.get("environment") or {}
    if isinstance(environment, Mapping):
        pairs = [(str(k), str(v), k) for k, v in environment.items()]
    else:
        pairs = [(*str(item).partition("=")[::2], i) for i, item in enumerate(environment)]
    for key, value, at in pairs:
        if key in ADMIN_PASSWORD:
            raw = "$GF_FILE" if key.endswith("__FILE") else value
            return raw, compose.at(environment, at)
    return None, compose.at(compose.body["services"], name)
