"""reference_app/deploy/docker-compose.yml: valid Compose, the spec's seven services, and the
promises of the spec (database health check, Redis persistence, ports on loopback only)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.conftest import REPO

DEPLOY = REPO / "reference_app" / "deploy"
SCHEMA = REPO / "fixtures" / "schemas" / "compose-spec.json"
SERVICES = {"db", "redis", "mlflow", "backend", "frontend", "prometheus", "grafana"}
_INTERPOLATION = re.compile(r"\$\{(\w+)(?::?[-?])([^}]*)\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    services = compose["services"]
    assert isinstance(services, dict)
    return services


def test_the_file_is_valid_against_the_compose_specification(compose: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(compose), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def test_a_broken_file_is_caught_by_the_schema(compose: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    broken = json.loads(json.dumps(compose))
    broken["services"]["db"]["healthcheck"]["intervall"] = "5s"
    assert not jsonschema.Draft7Validator(schema).is_valid(broken)


def test_the_seven_services_of_the_spec(compose: dict[str, Any]) -> None:
    assert set(_services(compose)) == SERVICES


def test_images_are_configurable_with_public_defaults(compose: dict[str, Any]) -> None:
    defaults = {}
    for name, service in _services(compose).items():
        match = _INTERPOLATION.fullmatch(service["image"])
        assert match, f"{name}: the image name must come from a HARNESS_IMAGE_* variable"
        assert match.group(1).startswith("HARNESS_IMAGE_"), name
        defaults[name] = match.group(2)
    assert defaults["db"] == "postgres:16-alpine"
    assert defaults["redis"] == "redis:7-alpine"
    assert defaults["mlflow"] == "ghcr.io/mlflow/mlflow:v2.17.2"
    assert defaults["grafana"] == "grafana/grafana:11.3.0"
    assert defaults["prometheus"] == "prom/prometheus:v2.55.1"


def test_postgres_has_a_health_check_the_backend_waits_for(compose: dict[str, Any]) -> None:
    services = _services(compose)
    check = services["db"]["healthcheck"]
    assert check["test"][0] == "CMD-SHELL"
    assert "pg_isready" in check["test"][1]
    assert services["backend"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert services["backend"]["depends_on"]["redis"]["condition"] == "service_healthy"


def test_redis_persists_to_a_named_volume(compose: dict[str, Any]) -> None:
    redis = _services(compose)["redis"]
    command = redis["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--dir") + 1] == "/data"
    volume, target = redis["volumes"][0].split(":")[:2]
    assert (volume, target) == ("redis-data", "/data")
    assert "redis-data" in compose["volumes"]
    assert "healthcheck" in redis


def test_published_ports_bind_to_loopback_and_the_stores_are_not_published(
    compose: dict[str, Any],
) -> None:
    published: dict[str, set[str]] = {}
    for name, service in _services(compose).items():
        for port in service.get("ports", []):
            host_ip, host_port, container_port = str(port).split(":")
            assert host_ip == "127.0.0.1", f"{name} publishes {port} beyond loopback"
            assert host_port == container_port, port
            published.setdefault(name, set()).add(container_port)
    assert "db" not in published
    assert "redis" not in published
    assert published["frontend"] == {"8080", "8443"}
    assert published["backend"] == {"8000"}
    assert published["prometheus"] == {"9090"}
    assert published["grafana"] == {"3000"}


def test_secrets_have_no_defaults(compose: dict[str, Any]) -> None:
    text = (DEPLOY / "docker-compose.yml").read_text(encoding="utf-8")
    for variable in ("POSTGRES_PASSWORD", "SECRET_KEY", "GRAFANA_ADMIN_PASSWORD"):
        uses = re.findall(rf"\$\{{{variable}(:?[-?])", text)
        assert uses, variable
        assert set(uses) == {":?"}, f"{variable} must be required, not defaulted"
    backend = _services(compose)["backend"]["environment"]
    assert set(backend) >= {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "ENVIRONMENT"}


def test_builds_point_at_the_reference_dockerfiles(compose: dict[str, Any]) -> None:
    for name in ("backend", "frontend"):
        build = _services(compose)[name]["build"]
        dockerfile = (DEPLOY / build["context"] / build["dockerfile"]).resolve()
        assert dockerfile.is_file(), dockerfile
        arg = next(iter(build["args"]))
        assert f"ARG {arg}" in dockerfile.read_text(encoding="utf-8")


def test_prometheus_runs_the_reference_repositorys_configuration(compose: dict[str, Any]) -> None:
    volumes = _services(compose)["prometheus"]["volumes"]
    monitoring = "../project/monitoring"
    assert f"{monitoring}/prometheus.yml:/etc/prometheus/prometheus.yml:ro" in volumes
    assert f"{monitoring}/alerts:/etc/prometheus/alerts:ro" in volumes
    config = yaml.safe_load((DEPLOY / monitoring / "prometheus.yml").read_text(encoding="utf-8"))
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert jobs["backend"]["dns_sd_configs"] == [
        {"names": ["backend"], "type": "A", "port": 8000, "refresh_interval": "30s"}
    ]
    assert jobs["frontend"]["static_configs"] == [{"targets": ["frontend:8080"]}]


def test_relative_mounts_exist(compose: dict[str, Any]) -> None:
    for name, service in _services(compose).items():
        for volume in service.get("volumes", []):
            source = str(volume).split(":")[0]
            if source.startswith(("./", "../")):
                assert Path(DEPLOY / source).exists(), f"{name}: {source}"
