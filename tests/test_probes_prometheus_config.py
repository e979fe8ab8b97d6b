"""The backend's scrape job against the Compose file's backend: tables of both."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from harness.probes.prometheus_config import (
    ScrapeTarget,
    backend_targets,
    job_lines,
    listen_port,
    scrape_job_problems,
)


@pytest.mark.parametrize(
    ("service", "port", "source"),
    [
        ({"command": ["uvicorn", "app:app", "--port", "8000"], "ports": ["9:9"]}, 8000, "--port"),
        ({"command": "uvicorn app:app --host 0.0.0.0 --port=8001"}, 8001, "--port 8001"),
        ({"command": ["gunicorn", "-b", "0.0.0.0:8002", "app:app"]}, 8002, "-b 0.0.0.0:8002"),
        ({"entrypoint": ["gunicorn"], "command": ["--bind", ":8003"]}, 8003, "--bind :8003"),
        ({"command": ["serve"], "expose": ["8004"]}, 8004, "expose 8004"),
        ({"ports": ["127.0.0.1:18000:8005/tcp"]}, 8005, "ports 127.0.0.1:18000:8005/tcp"),
        ({"ports": [{"target": 8006, "published": 80}]}, 8006, "ports 8006"),
    ],
)
def test_listen_port_reads_command_expose_and_ports(
    service: dict[str, Any], port: int, source: str
) -> None:
    found, where = listen_port(service)
    assert found == port
    assert source in where


def test_listen_port_unknown_says_so() -> None:
    port, where = listen_port({"image": "backend"})
    assert port is None
    assert "names a port" in where


_CONFIG = yaml.safe_load(
    """
scrape_configs:
  - job_name: backend
    dns_sd_configs:
      - names: [backend]
        type: A
        port: 8000
  - job_name: api-static
    metrics_path: /internal/metrics
    static_configs:
      - targets: ["backend:8000", "other:8000"]
  - job_name: swarm
    dns_sd_configs:
      - names: [tasks.backend]
        type: A
        port: 9000
  - job_name: srv
    dns_sd_configs:
      - names: [_http._tcp.backend]
        type: SRV
  - job_name: frontend
    static_configs:
      - targets: ["frontend:8080"]
"""
)


def test_backend_targets_are_static_targets_and_dns_discovery_of_the_service() -> None:
    assert backend_targets(_CONFIG, "backend") == [
        ScrapeTarget("backend", "dns_sd", "backend", 8000, "/metrics"),
        ScrapeTarget("api-static", "static", "backend", 8000, "/internal/metrics"),
        ScrapeTarget("swarm", "dns_sd", "backend", 9000, "/metrics"),
    ]
    assert backend_targets(_CONFIG, "api") == []
    assert backend_targets(None, "backend") == []


def test_job_lines_name_every_job() -> None:
    assert job_lines(_CONFIG)[0] == "job backend: dns backend /metrics"
    assert job_lines(_CONFIG)[1] == "job api-static: backend:8000, other:8000 /internal/metrics"


def test_problems_name_the_wrong_port_and_path() -> None:
    targets = backend_targets(_CONFIG, "backend")
    problems = scrape_job_problems(targets, "backend", 8000, "/metrics")
    assert problems == [
        "job api-static (static backend) scrapes /internal/metrics; the metrics are at /metrics",
        "job swarm (dns_sd backend) scrapes port 9000; the backend listens on 8000",
    ]
    assert scrape_job_problems(targets[:1], "backend", 8000, "/metrics") == []
    # a port the Compose file does not state is not compared
    assert scrape_job_problems(targets[2:], "backend", None, "/metrics") == []


def test_no_job_and_a_target_without_port_are_problems() -> None:
    assert (
        "no scrape job reaches the backend service 'api'"
        in scrape_job_problems([], "api", 8000, "/metrics")[0]
    )
    bare = backend_targets({"scrape_configs": [{"job_name": "b", "static_configs": [
        {"targets": ["backend"]}]}]}, "backend")  # fmt: skip
    assert scrape_job_problems(bare, "backend", 8000, "/metrics") == [
        "job b (static backend) names no port: Prometheus would scrape port 80"
    ]
