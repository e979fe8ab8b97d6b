"""The Compose services judged from the model `docker compose config` prints: health checks,
Redis persistence, ports and dependencies, Prometheus' mounted configuration, MLflow's server
and Grafana's provisioning read from the mounted files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.probes.compose_services import (
    check_backend,
    check_frontend,
    check_mlflow,
    check_postgres,
    check_prometheus,
    check_redis,
    host_path,
)
from harness.probes.grafana import check_grafana


def _port(published: int, target: int) -> dict[str, Any]:
    return {"target": target, "published": str(published), "protocol": "tcp", "mode": "ingress"}


def _volume(source: str, target: str, kind: str = "volume") -> dict[str, str]:
    return {"type": kind, "source": source, "target": target}


@pytest.mark.parametrize(
    ("healthcheck", "ok"),
    [
        ({"test": ["CMD-SHELL", "pg_isready"]}, True),
        ({"test": ["CMD-SHELL", "pg_isready"], "disable": True}, False),
        ({"test": ["NONE"]}, False),
        (None, False),
    ],
)
def test_postgres_health_check(healthcheck: dict[str, Any] | None, ok: bool) -> None:
    assert check_postgres("db", {"healthcheck": healthcheck}).ok is ok


@pytest.mark.parametrize(
    ("command", "volumes", "problem"),
    [
        (["redis-server", "--appendonly", "yes"], [_volume("redis-data", "/data")], None),
        (["redis-server", "--save", "60 1"], [_volume("redis-data", "/data/")], None),
        (None, [_volume("redis-data", "/data")], None),
        (["redis-server", "--dir", "/var/redis"], [_volume("r", "/data")], "keeps /var/redis"),
        (["redis-server", "--appendonly", "yes"], [], "no named volume"),
        (["redis-server", "--appendonly", "yes"], [_volume("./d", "/data", "bind")], "no named"),
        (["redis-server", "--appendonly", "no", "--save", ""], [_volume("r", "/data")], "off"),
    ],
)
def test_redis_persistence(
    command: list[str] | None, volumes: list[dict[str, str]], problem: str | None
) -> None:
    found = check_redis("redis", {"command": command, "volumes": volumes})
    if problem is None:
        assert found.ok, found.problems
    else:
        assert problem in found.summary()


def test_backend_ports_and_dependencies() -> None:
    healthy = {"condition": "service_healthy"}
    good = {"ports": [_port(8000, 8000)], "depends_on": {"db": healthy, "redis": {}}}
    assert check_backend("backend", good, "db", "redis").ok
    started = {**good, "depends_on": {"db": {"condition": "service_started"}}}
    assert check_backend("backend", started, "db", "redis").problems == (
        "backend does not wait for db to be healthy (depends_on db: service_started)",
        "backend does not depend on redis",
    )
    moved = {**good, "ports": [_port(8001, 8000)]}
    assert (
        "does not publish port 8000 (published: 8001:8000)"
        in check_backend("backend", moved, "db", "redis").summary()
    )


def test_frontend_ports_and_dependency() -> None:
    assert check_frontend(
        "frontend", {"ports": [_port(8080, 80)], "depends_on": {"backend": {}}}, "backend"
    ).ok
    assert not check_frontend("frontend", {"ports": [_port(8080, 80)]}, "backend").ok


def test_prometheus_loads_the_mounted_file(tmp_path: Path) -> None:
    config = tmp_path / "monitoring" / "prometheus.yml"
    mounted = _volume(str(config), "/etc/prometheus/prometheus.yml", "bind")
    service = {"ports": [_port(9090, 9090)], "volumes": [mounted]}
    assert check_prometheus("prometheus", service, config).ok
    elsewhere = {**service, "command": ["--config.file=/etc/prometheus/other.yml"]}
    assert (
        "loads /etc/prometheus/other.yml from"
        in check_prometheus("prometheus", elsewhere, config).summary()
    )
    folder = {**elsewhere, "volumes": [_volume(str(config.parent), "/etc/prometheus", "bind")]}
    assert not check_prometheus("prometheus", folder, config).ok  # other.yml is not the file
    folder["command"] = ["--config.file=/etc/prometheus/prometheus.yml"]
    assert check_prometheus("prometheus", folder, config).ok


def test_host_path_takes_the_deepest_mount() -> None:
    service = {"volumes": [_volume("/r/a", "/x", "bind"), _volume("/r/b", "/x/y", "bind")]}
    assert host_path(service, "/x/y/z") == Path("/r/b/z")
    assert host_path(service, "/x/q") == Path("/r/a/q")
    assert host_path(service, "/elsewhere") is None


@pytest.mark.parametrize(
    ("command", "ok"),
    [
        (["mlflow", "server", "--host=0.0.0.0"], True),
        (["/usr/local/bin/mlflow", "server"], True),
        (["mlflow", "ui"], False),
        (None, False),
    ],
)
def test_mlflow_runs_a_tracking_server(command: list[str] | None, ok: bool) -> None:
    assert check_mlflow("mlflow", {"command": command, "ports": [_port(5000, 5000)]}).ok is ok


def _grafana_tree(root: Path, url: str = "http://prometheus:9090") -> dict[str, Any]:
    provisioning = root / "provisioning"
    (provisioning / "datasources").mkdir(parents=True)
    (provisioning / "dashboards").mkdir()
    (root / "boards").mkdir()
    (provisioning / "datasources" / "ds.yml").write_text(
        f"apiVersion: 1\ndatasources:\n  - name: P\n    type: prometheus\n    url: {url}\n"
    )
    (provisioning / "dashboards" / "p.yml").write_text(
        "apiVersion: 1\nproviders:\n  - name: p\n    options:\n      path: /var/lib/grafana/d\n"
    )
    (root / "boards" / "b.json").write_text(json.dumps({"title": "B", "panels": [{"id": 1}]}))
    return {
        "ports": [_port(3000, 3000)],
        "volumes": [
            _volume(str(provisioning), "/etc/grafana/provisioning", "bind"),
            _volume(str(root / "boards"), "/var/lib/grafana/d", "bind"),
        ],
    }


def test_grafana_provisioning(tmp_path: Path) -> None:
    service = _grafana_tree(tmp_path)
    assert check_grafana("grafana", service, "prometheus").ok
    (tmp_path / "boards" / "b.json").write_text("{not json")
    summary = check_grafana("grafana", service, "prometheus").summary()
    assert "b.json: not a JSON dashboard" in summary
    assert "hold no dashboard with panels" in summary


def test_grafana_without_its_mounts(tmp_path: Path) -> None:
    service = _grafana_tree(tmp_path, url="http://localhost:9090")
    assert (
        "points at http://localhost:9090, not the prometheus service"
        in check_grafana("grafana", service, "prometheus").summary()
    )
    service["volumes"] = service["volumes"][:1]
    assert (
        "which no bind mount brings from the repository"
        in check_grafana("grafana", service, "prometheus").summary()
    )
    service["volumes"] = []
    assert (
        "mounts no provisioning folder" in check_grafana("grafana", service, "prometheus").summary()
    )


def test_ill_shaped_provisioning_is_read_as_nothing(tmp_path: Path) -> None:
    service = _grafana_tree(tmp_path)
    (tmp_path / "provisioning" / "datasources" / "ds.yml").write_text("datasources: 5\n")
    (tmp_path / "provisioning" / "dashboards" / "p.yml").write_text(
        "providers: [x, {options: 1}]\n"
    )
    summary = check_grafana("grafana", service, "prometheus").summary()
    assert "provisions no data source of type prometheus" in summary
    assert "reads no path" in summary
