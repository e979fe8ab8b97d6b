"""GET /health: the spec's format, and real probes of the database, Redis and MLflow."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from reference_app import __version__
from reference_app.app import create_app
from reference_app.core.config import Settings
from tests.reference_app.conftest import Serve, free_port

pytestmark = pytest.mark.anyio

ISO_SECONDS_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")

MakeSettings = Callable[..., Settings]


async def _health(serve: Serve, settings: Settings) -> httpx.Response:
    client = await serve(create_app(settings))
    return await client.get("/health")


def take_database_down(db_path: Path) -> None:
    """What the harness does: move the file away and put a directory in its place."""
    db_path.rename(db_path.with_suffix(".db.stopped"))
    db_path.mkdir()


async def test_healthy_in_the_spec_format(make_settings: MakeSettings, serve: Serve) -> None:
    response = await _health(serve, make_settings())

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert list(body) == ["status", "timestamp", "version", "components"]
    assert body["status"] == "healthy"
    assert body["version"] == __version__ == "1.0.0"
    assert ISO_SECONDS_UTC.match(body["timestamp"]), body["timestamp"]
    age = datetime.now(UTC) - datetime.fromisoformat(body["timestamp"])
    assert timedelta(seconds=-1) <= age < timedelta(seconds=5)
    components = body["components"]
    assert list(components) == ["database", "redis", "mlflow"]
    assert components["database"]["status"] == "up"
    assert components["redis"] == {"status": "not_configured"}
    assert components["mlflow"] == {"status": "assumed_up"}


async def test_head_answers_like_get(make_settings: MakeSettings, serve: Serve) -> None:
    client = await serve(create_app(make_settings()))

    response = await client.head("/health")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"


async def test_database_down_is_unhealthy(
    make_settings: MakeSettings, serve: Serve, db_path: Path
) -> None:
    client = await serve(create_app(make_settings()))
    assert (await client.get("/health")).status_code == 200

    take_database_down(db_path)
    response = await client.get("/health")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy"
    assert body["components"]["database"]["status"] == "down"
    assert body["components"]["database"]["error"]
    assert str(db_path) not in body["components"]["database"]["error"]


async def test_database_recovers(make_settings: MakeSettings, serve: Serve, db_path: Path) -> None:
    client = await serve(create_app(make_settings()))
    take_database_down(db_path)
    assert (await client.get("/health")).status_code == 503

    db_path.rmdir()
    db_path.with_suffix(".db.stopped").rename(db_path)

    assert (await client.get("/health")).json()["status"] == "healthy"


async def test_redis_up(make_settings: MakeSettings, serve: Serve, redis_url: str) -> None:
    response = await _health(serve, make_settings(redis_url=redis_url))

    assert response.status_code == 200
    assert response.json()["components"]["redis"]["status"] == "up"


async def test_configured_redis_down_is_unhealthy(
    make_settings: MakeSettings, serve: Serve
) -> None:
    url = f"redis://:hunter2-password@127.0.0.1:{free_port()}/0"

    response = await _health(serve, make_settings(redis_url=url))

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy"
    assert body["components"]["redis"]["status"] == "down"
    assert "hunter2" not in response.text


async def test_mlflow_up(
    make_settings: MakeSettings, serve: Serve, http_health_server: Callable[..., str]
) -> None:
    response = await _health(serve, make_settings(mlflow_tracking_uri=http_health_server()))

    assert response.json()["status"] == "healthy"
    assert response.json()["components"]["mlflow"]["status"] == "up"


async def test_mlflow_down_is_degraded(
    make_settings: MakeSettings, serve: Serve, http_health_server: Callable[..., str]
) -> None:
    refused = f"http://user:s3cret-token@127.0.0.1:{free_port()}"
    erroring = http_health_server(status=500)

    for uri, reason in ((refused, "Connect"), (erroring, "HTTP 500")):
        response = await _health(serve, make_settings(mlflow_tracking_uri=uri))

        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "degraded"
        assert body["components"]["mlflow"]["status"] == "down"
        assert reason in body["components"]["mlflow"]["error"]
        assert "s3cret" not in response.text


async def test_slow_component_times_out(
    make_settings: MakeSettings, serve: Serve, http_health_server: Callable[..., str]
) -> None:
    slow = http_health_server(delay_s=2.0)
    settings = make_settings(mlflow_tracking_uri=slow, health_probe_timeout_s=0.3)
    started = datetime.now(UTC)

    response = await _health(serve, settings)

    assert datetime.now(UTC) - started < timedelta(seconds=1.5)
    mlflow = response.json()["components"]["mlflow"]
    assert mlflow["status"] == "down"
    assert "0.3 s" in mlflow["error"]
