"""Judgements of Grafana's provisioning, pure functions over what harness.probes.dashboards
read: a dashboard of a title, the Prometheus data source, the admin password Compose gives
Grafana, the metrics every panel names, and what every panel's query returned."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from harness.errors import UnexpectedAnswer
from harness.probes.config_audit import EnvFile, default_password
from harness.probes.dashboard_queries import (
    QueryError,
    builtins,
    expand,
    missing_names,
    parse_duration,
    placeholders,
    regex_of,
    variable_expr,
)
from harness.probes.dashboards import Dashboard, DataSource, Panel, Provisioning
from harness.probes.repo_findings import RepoFinding, finding
from harness.probes.repofiles import is_placeholder

GRAFANA_DEFAULT_SCRAPE_S = 15.0  # Grafana's timeInterval where the data source sets none
PROMETHEUS_PORT = 9090
# the order of the parameter grafana_dashboards
DASHBOARD_REQUIREMENTS = (
    "MON-GRAFANA-DASH-API",
    "MON-GRAFANA-DASH-SYSTEM",
    "MON-GRAFANA-DASH-DATABASE",
    "MON-GRAFANA-DASH-ERRORS",
    "MON-GRAFANA-DASH-USERS",
)
# judged from the repository's files (all but MON-GRAFANA-ACCESS, which needs a Grafana)
GRAFANA_FILE_REQUIREMENTS = (
    *DASHBOARD_REQUIREMENTS,
    "MON-GRAFANA-PANELS",
    "MON-GRAFANA-DATASOURCE",
    "MON-GRAFANA-DEFAULT-PASSWORD",
)
ALL = "$__all"
# ${VAR}, ${VAR:?message}, ${VAR?message}, $VAR: the value comes from the environment alone
_FROM_ENVIRONMENT = re.compile(r"^\$\{(\w+)(?::?\?[^}]*)?\}$|^\$(\w+)$")
_WITH_DEFAULT = re.compile(r"^\$\{(\w+):?-([^}]*)\}$")


@dataclass(frozen=True)
class Evaluated:
    """One panel query as sent to Prometheus and how many series (or values) came back."""

    dashboard: str
    panel: str
    ref_id: str
    expr: str
    count: int
    error: str = ""

    def line(self) -> str:
        got = self.error or f"{self.count} series"
        return f"{self.dashboard} / {self.panel} ({self.ref_id}): {self.expr} -> {got}"


def scrape_interval(source: DataSource | None) -> float:
    """The data source's timeInterval (Grafana's name for the scrape interval), else 15 s."""
    given = str((source.json_data if source else {}).get("timeInterval") or "")
    return parse_duration(given) if given else GRAFANA_DEFAULT_SCRAPE_S


def by_title(found: Provisioning, titles: Iterable[str]) -> list[Dashboard]:
    wanted = set(titles)
    return [board for board in found.dashboards if board.title in wanted]


def check_dashboard(rid: str, found: Provisioning, title: str) -> RepoFinding:
    """A provisioned dashboard titled ``title`` whose panels query a provisioned data source."""
    problems = list(found.problems)
    boards = by_title(found, [title])
    if not boards:
        titles = ", ".join(sorted(b.title for b in found.dashboards)) or "none"
        return finding(
            rid, [*problems, f"no provisioned dashboard titled {title!r} ({titles})"], []
        )
    uids = {source.uid for source in found.datasources}
    evidence = []
    for board in boards:
        queried = [panel for panel in board.panels if panel.queries]
        evidence.append(f"{board.label}: {title!r} (uid {board.uid}), {len(queried)} panels")
        if not queried:
            problems.append(f"{board.label}: {title!r} has no panel with a query")
        for panel in queried:
            unknown = [uid for uid in panel.datasources if uid and uid not in uids]
            if unknown:
                problems.append(
                    f"{board.label}: panel {panel.title!r} queries data source uid "
                    f"{', '.join(unknown)}, which is not provisioned ({', '.join(sorted(uids))})"
                )
    return finding(rid, problems, evidence)


def prometheus_source(found: Provisioning) -> DataSource | None:
    return next((s for s in found.datasources if s.kind == "prometheus"), None)


def check_datasource(rid: str, found: Provisioning, service: str, port: int) -> RepoFinding:
    """The provisioned Prometheus data source points at the Compose service and its port."""
    sources = [s for s in found.datasources if s.kind == "prometheus"]
    if not sources:
        return finding(rid, [*found.problems, "no provisioned data source of type prometheus"], [])
    problems, evidence = list(found.problems), []
    for source in sources:
        parts = urlsplit(source.url)
        evidence.append(f"{source.label}: {source.name} (uid {source.uid}) -> {source.url}")
        try:
            at = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            at = -1
        if parts.hostname != service or at != port:
            problems.append(
                f"{source.label}: data source {source.name} points at {source.url}, not the "
                f"Compose service {service} on port {port}"
            )
    return finding(rid, problems, evidence)


def listen_port(prometheus: Mapping[str, Any]) -> int:
    """The port Prometheus listens on: ``--web.listen-address`` of its command, else 9090."""
    command = prometheus.get("command") or []
    argv = command.split() if isinstance(command, str) else [str(w) for w in command]
    for index, word in enumerate(argv):
        value = word.partition("=")[2] if word.startswith("--web.listen-address=") else None
        if word == "--web.listen-address" and index + 1 < len(argv):
            value = argv[index + 1]
        if value and value.rpartition(":")[2].isdigit():
            return int(value.rpartition(":")[2])
    return PROMETHEUS_PORT


def check_admin_password(
    rid: str, raw: str | None, where: str, production: EnvFile | None, known: Iterable[str]
) -> RepoFinding:
    """``raw``: the GF_SECURITY_ADMIN_PASSWORD Compose gives Grafana, as written (``$GF_FILE``
    for the __FILE form, a secret file); ``production``: the production env file, if any;
    ``known``: user:password pairs no production service may accept."""
    if raw is None:
        return finding(rid, [f"{where}: Grafana gets no admin password: it keeps admin/admin"], [])
    defaulted = _WITH_DEFAULT.match(raw)
    if defaulted:
        return finding(rid, [f"{where}: the admin password defaults to {defaulted[2]!r}"], [])
    taken = _FROM_ENVIRONMENT.match(raw)
    if taken is None:
        return finding(rid, [f"{where}: the admin password is written in the Compose file"], [])
    variable = taken[1] or taken[2]
    evidence = [f"{where}: the admin password comes from {variable}, without a default"]
    setting = production.get(variable) if production else None
    if production is None:
        evidence.append("no production env file (audit_env_file): its value is not judged")
    elif setting is None:
        evidence.append(f"{production.label} does not set {variable}: Compose refuses to start")
    elif not setting.value or is_placeholder(setting.value):
        return finding(rid, [f"{setting.where}: {variable} holds a placeholder"], evidence)
    elif setting.value == "admin" or default_password(setting.value, known):
        return finding(rid, [f"{setting.where}: {variable} is a well-known default"], evidence)
    else:
        evidence.append(f"{setting.where}: {variable} is set (value not shown)")
    return finding(rid, [], evidence)


def unexported(
    boards: Iterable[Dashboard], exported: Iterable[str], values: Mapping[str, str]
) -> tuple[list[str], list[str]]:
    """Problems (a panel or variable naming a metric nobody exports) and what was read."""
    have = frozenset(exported)
    problems, evidence = [], []
    for board in boards:
        named = [(f"variable ${v.name}", "A", variable_expr(v.query)) for v in board.variables]
        named += [(f"panel {p.title!r}", q.ref_id, q.expr) for p in board.panels for q in p.queries]
        for what, ref_id, expr in named:
            if expr is None:
                continue
            try:
                missing = missing_names(placeholders(expr, values), have)
            except QueryError as exc:
                problems.append(f"{board.title} / {what} ({ref_id}): {exc}")
                continue
            evidence.append(f"{board.title} / {what} ({ref_id}): {expr}")
            if missing:
                problems.append(
                    f"{board.title} / {what} ({ref_id}) queries {', '.join(missing)}, which "
                    f"the backend's metrics do not export: {expr}"
                )
    return problems, evidence


Query = Callable[[str], list[dict[str, Any]]]


def variable_values(board: Dashboard, query: Query) -> dict[str, str]:
    """Each variable as Grafana sends it: the current value, and for All the variable's
    allValue or the regex of every value its query finds."""
    values: dict[str, str] = {}
    for variable in board.variables:
        current = [v for v in variable.current if v != ALL]
        if current and ALL not in variable.current:
            values[variable.name] = regex_of(current)
        elif variable.all_value is not None:
            values[variable.name] = variable.all_value
        elif variable.kind == "query" and variable_expr(variable.query):
            selector = expand(str(variable_expr(variable.query)), values)
            label = variable.query.rsplit(",", 1)[-1].strip(" )")
            found = sorted({str(r.get("metric", {}).get(label, "")) for r in query(selector)})
            values[variable.name] = regex_of([v for v in found if v]) if found else ".*"
        else:
            values[variable.name] = ".*"
    return values


def panel_queries(
    board: Dashboard, panel: Panel, values: Mapping[str, str], scrape_s: float
) -> list[tuple[str, str]]:
    """(refId, PromQL as Grafana sends it) of every query of ``panel``."""
    minimum = parse_duration(panel.interval) if panel.interval else None
    macros = builtins(board.range_s, scrape_s, panel.max_data_points, minimum)
    return [(q.ref_id, expand(q.expr, {**values, **macros})) for q in panel.queries]


class Scraped(Protocol):
    """What the evaluation needs of Prometheus (harness.probes.prometheus.PrometheusApi)."""

    def query(self, promql: str) -> list[dict[str, Any]]: ...
    def wait_scraped_after(self, moment: float, job: str = ..., timeout: float = ...) -> None: ...


def _ask(api: Scraped, board: Dashboard, panel: Panel, ref_id: str, expr: str) -> Evaluated:
    try:
        return Evaluated(board.title, panel.title, ref_id, expr, len(api.query(expr)))
    except UnexpectedAnswer as exc:
        return Evaluated(board.title, panel.title, ref_id, expr, 0, str(exc))


def evaluate_panels(
    boards: Iterable[Dashboard],
    api: Scraped,
    scrape_s: float,
    since: float,
    bound_s: float,
    *,
    job: str = "backend",
) -> tuple[list[Evaluated], float]:
    """Every panel query as Grafana sends it, evaluated once ``job`` was scraped after
    ``since`` (the end of the traffic) and again at each scrape until every query has data
    or ``bound_s`` passed; the results and the seconds waited."""
    start = time.monotonic()
    api.wait_scraped_after(since, job, timeout=bound_s)
    sent = []
    for board in boards:
        values = variable_values(board, api.query)
        sent += [
            (board, panel, ref_id, expr)
            for panel in board.panels
            for ref_id, expr in panel_queries(board, panel, values, scrape_s)
        ]
    results = [_ask(api, *query) for query in sent]
    # a rate() over a window needs two samples after the traffic: the first scrape may
    # leave a panel empty that the next one fills, as a live dashboard would show
    while any(not r.count for r in results) and time.monotonic() - start < bound_s:
        time.sleep(min(scrape_s / 3, max(0.0, bound_s - (time.monotonic() - start))))
        results = [r if r.count else _ask(api, *q) for r, q in zip(results, sent, strict=True)]
    return results, time.monotonic() - start
