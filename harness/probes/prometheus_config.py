"""The backend's scrape job in a Prometheus configuration, judged against the Compose file: the
job must reach the backend's service on the port the backend listens on, at its metrics path.
Pure functions over parsed YAML (no I/O), so every form is tested with tables."""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness.probes.service_settings import flag_values

# discovery by DNS answers the service's name itself, or Swarm's tasks.NAME (every replica)
_DNS_TYPES = (None, "A", "AAAA")


@dataclass(frozen=True)
class ScrapeTarget:
    """Where one job scrapes the backend: ``host:port`` (port None: the discovery gives it)."""

    job: str
    how: str  # "static" or "dns_sd"
    host: str
    port: int | None
    metrics_path: str


def _argv(value: Any) -> list[str]:
    """A Compose command or entrypoint, list or shell string, as words."""
    if isinstance(value, str):
        try:
            return shlex.split(value)
        except ValueError:
            return value.split()
    return [str(w) for w in value or []]


def _port_of(text: str) -> int | None:
    tail = text.rsplit(":", 1)[-1].split("/", 1)[0]
    return int(tail) if tail.isdigit() else None


def listen_port(service: Mapping[str, Any]) -> tuple[int | None, str]:
    """The port the backend's server listens on inside its container, and where it was read:
    the command's ``--port`` (uvicorn) or ``--bind``/``-b`` (gunicorn), else ``expose``, else
    the container side of ``ports``. ``(None, why)`` when the file does not say."""
    argv = _argv(service.get("entrypoint")) + _argv(service.get("command"))
    for flag in ("--port", "--bind", "-b"):
        values = flag_values(argv, flag)
        port = _port_of(values[-1]) if values else None
        if port is not None:
            return port, f"command {flag} {values[-1]}"
    for entry in service.get("expose") or []:
        port = _port_of(str(entry))
        if port is not None:
            return port, f"expose {entry}"
    for entry in service.get("ports") or []:
        raw = entry.get("target") if isinstance(entry, Mapping) else entry
        port = _port_of(str(raw))
        if port is not None:
            return port, f"ports {raw}"
    return None, "neither its command (--port, --bind), expose nor ports names a port"


def _targets_of(job: Mapping[str, Any], backend: str) -> list[ScrapeTarget]:
    name = str(job.get("job_name", "?"))
    path = str(job.get("metrics_path") or "/metrics")
    found = []
    for config in job.get("static_configs") or []:
        for target in (config or {}).get("targets") or []:
            host, _, port = str(target).rpartition(":")
            if (host or str(target)) == backend:
                number = int(port) if host and port.isdigit() else None
                found.append(ScrapeTarget(name, "static", backend, number, path))
    for discovery in job.get("dns_sd_configs") or []:
        sd: Mapping[str, Any] = discovery or {}
        names = {str(n) for n in sd.get("names") or []}
        if sd.get("type") in _DNS_TYPES and {backend, f"tasks.{backend}"} & names:
            given = sd.get("port")
            number = given if isinstance(given, int) else None
            found.append(ScrapeTarget(name, "dns_sd", backend, number, path))
    return found


def backend_targets(config: Mapping[str, Any] | None, backend: str) -> list[ScrapeTarget]:
    """Every scrape of the ``backend`` service: a static target on its host or DNS discovery
    of its name (a static target without a port gets the scheme's default: never the app's)."""
    jobs = (config or {}).get("scrape_configs") or []
    return [t for job in jobs if isinstance(job, Mapping) for t in _targets_of(job, backend)]


def job_lines(config: Mapping[str, Any] | None) -> list[str]:
    """``job NAME: how it finds targets, path`` for every job, for evidence."""
    lines = []
    for job in (config or {}).get("scrape_configs") or []:
        if not isinstance(job, Mapping):
            continue
        sources = [key for key in job if str(key).endswith(("_sd_configs", "static_configs"))]
        statics = [
            t for c in job.get("static_configs") or [] for t in (c or {}).get("targets") or []
        ]
        names = [n for c in job.get("dns_sd_configs") or [] for n in (c or {}).get("names") or []]
        seen = ", ".join([*map(str, statics), *(f"dns {n}" for n in names)]) or ", ".join(sources)
        path = job.get("metrics_path") or "/metrics"
        lines.append(f"job {job.get('job_name')}: {seen or 'no targets'} {path}")
    return lines


def scrape_job_problems(
    targets: Sequence[ScrapeTarget], backend: str, port: int | None, metrics_path: str
) -> list[str]:
    """What is wrong with the backend's scrapes: none at all, a wrong port, a wrong path."""
    if not targets:
        return [f"no scrape job reaches the backend service {backend!r} (static target or DNS)"]
    problems = []
    for target in targets:
        where = f"job {target.job} ({target.how} {target.host})"
        if target.port is None:
            problems.append(f"{where} names no port: Prometheus would scrape port 80")
        elif port is not None and target.port != port:
            problems.append(f"{where} scrapes port {target.port}; the backend listens on {port}")
        if target.metrics_path != metrics_path:
            problems.append(
                f"{where} scrapes {target.metrics_path}; the metrics are at {metrics_path}"
            )
    return problems
