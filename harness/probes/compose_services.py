"""The services of a Compose file judged from the model ``docker compose config`` prints
(harness/stacks/compose.py): ports, health checks, dependencies, volumes and commands as
Compose itself resolved them, so short and long syntax read alike."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.probes.repo_findings import RepoFinding, finding

Service = Mapping[str, Any]
PROMETHEUS_CONFIG = "/etc/prometheus/prometheus.yml"
GRAFANA_PROVISIONING = "/etc/grafana/provisioning"
REDIS_DATA_DIR = "/data"  # the official image's working directory, where it writes by default


def published(service: Service) -> dict[int, int]:
    """Host port -> container port of every published TCP port."""
    ports: dict[int, int] = {}
    for port in service.get("ports") or []:
        if str(port.get("published", "")).isdigit() and port.get("protocol", "tcp") == "tcp":
            ports[int(port["published"])] = int(port.get("target", 0))
    return ports


def port_problems(name: str, service: Service, port: int) -> list[str]:
    ports = published(service)
    if port in ports:
        return []
    shown = ", ".join(f"{h}:{t}" for h, t in sorted(ports.items())) or "none"
    return [f"{name} does not publish port {port} (published: {shown})"]


def depends(service: Service) -> dict[str, str]:
    """Service -> condition of its ``depends_on``."""
    found = service.get("depends_on") or {}
    return {
        dep: str((spec or {}).get("condition", "service_started")) for dep, spec in found.items()
    }


def words(service: Service) -> list[str]:
    """Entrypoint then command, as Compose resolved them."""
    return [str(w) for key in ("entrypoint", "command") for w in service.get(key) or []]


def check_postgres(name: str, db: Service, rid: str = "DEP-COMPOSE-POSTGRES") -> RepoFinding:
    check = db.get("healthcheck") or {}
    test = [str(w) for w in check.get("test") or []]
    if check.get("disable") or not test or test[0] == "NONE":
        return finding(rid, [f"{name} has no health check"], [])
    return finding(rid, [], [f"{name} healthcheck: {' '.join(test)}"])


def _flag(argv: list[str], flag: str) -> list[str]:
    """Values of ``--flag value`` (every occurrence; ``--save`` takes up to three pairs)."""
    return [argv[i + 1] for i, w in enumerate(argv[:-1]) if w == flag]


def check_redis(name: str, redis: Service, rid: str = "DEP-COMPOSE-REDIS") -> RepoFinding:
    """AOF or RDB snapshots on, into a named volume at the data directory."""
    argv = words(redis)
    problems, evidence = [], []
    aof = [v.lower() for v in _flag(argv, "--appendonly")]
    saves = _flag(argv, "--save")
    if aof and aof[-1] == "yes":
        evidence.append("AOF (--appendonly yes)")
    elif saves and all(s.strip() for s in saves):
        evidence.append(f"RDB snapshots (--save {' '.join(saves)})")
    elif saves or aof:
        problems.append(f"{name} turns persistence off: {' '.join(argv)}")
    else:
        evidence.append("the image's default RDB snapshots")
    data_dir = (_flag(argv, "--dir") or [REDIS_DATA_DIR])[-1].rstrip("/") or "/"
    mounts = redis.get("volumes") or []
    named = [m for m in mounts if m.get("type") == "volume" and m.get("source")]
    on_dir = [m for m in named if str(m.get("target", "")).rstrip("/") == data_dir]
    if on_dir:
        evidence.append(f"{data_dir} on volume {on_dir[0]['source']}")
    else:
        problems.append(f"{name} keeps {data_dir} on no named volume: data dies with the container")
    return finding(rid, problems, evidence)


def check_backend(
    name: str, backend: Service, db: str, redis: str, rid: str = "DEP-COMPOSE-BACKEND"
) -> RepoFinding:
    problems = port_problems(name, backend, 8000)
    needs = depends(backend)
    if needs.get(db) != "service_healthy":
        problems.append(
            f"{name} does not wait for {db} to be healthy "
            f"(depends_on {db}: {needs.get(db, 'absent')})"
        )
    if redis not in needs:
        problems.append(f"{name} does not depend on {redis}")
    return finding(rid, problems, [f"depends_on {needs}", f"ports {published(backend)}"])


def check_frontend(
    name: str, frontend: Service, backend: str, rid: str = "DEP-COMPOSE-FRONTEND"
) -> RepoFinding:
    problems = port_problems(name, frontend, 8080)
    needs = depends(frontend)
    if backend not in needs:
        problems.append(f"{name} does not depend on {backend}")
    return finding(rid, problems, [f"depends_on {needs}", f"ports {published(frontend)}"])


def bind_sources(service: Service) -> dict[str, Path]:
    """Container path -> host path of every bind mount."""
    return {
        str(m["target"]).rstrip("/"): Path(str(m["source"]))
        for m in service.get("volumes") or []
        if m.get("type") == "bind" and m.get("source") and m.get("target")
    }


def host_path(service: Service, container_path: str) -> Path | None:
    """Where a path inside the container comes from on the host, through its bind mounts."""
    for target, source in sorted(bind_sources(service).items(), key=lambda t: -len(t[0])):
        if container_path == target or container_path.startswith(target + "/"):
            return source / container_path[len(target) :].lstrip("/")
    return None


def check_prometheus(
    name: str, prometheus: Service, config: Path, rid: str = "DEP-COMPOSE-PROMETHEUS"
) -> RepoFinding:
    """The repository's configuration is what Prometheus loads, and 9090 is published."""
    problems = port_problems(name, prometheus, 9090)
    loads = next(
        (w.split("=", 1)[1] for w in words(prometheus) if w.startswith("--config.file=")),
        PROMETHEUS_CONFIG,
    )
    source = host_path(prometheus, loads)
    if source is None or os.path.normpath(source) != os.path.normpath(config):
        got = str(source) if source else "the image's own file"
        problems.append(f"{name} loads {loads} from {got}, not the repository's {config.name}")
    return finding(rid, problems, [f"{loads} <- {source}"])


def check_mlflow(name: str, mlflow: Service, rid: str = "DEP-COMPOSE-MLFLOW") -> RepoFinding:
    problems = port_problems(name, mlflow, 5000)
    argv = words(mlflow)
    runs = " ".join(argv)
    programs = [w.rsplit("/", 1)[-1] for w in argv]
    if not any(p == "mlflow" and argv[i + 1 : i + 2] == ["server"] for i, p in enumerate(programs)):
        problems.append(
            f"{name} does not run `mlflow server` (runs: {runs or 'the image default'})"
        )
    return finding(rid, problems, [f"runs: {runs}"])
