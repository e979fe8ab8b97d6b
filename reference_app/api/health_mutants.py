"""Mutants of /health: each replaces one field of the app's HealthService."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from starlette.responses import Response

from reference_app.api.health import (
    HealthReport,
    HealthService,
    health_service_of,
    json_response,
    set_health_service,
    utc_now,
)
from reference_app.core.config import Settings
from reference_app.core.probes import UP, ComponentStatus
from reference_app.mutants import register


def _change(app: FastAPI, change: Callable[[HealthService], HealthService]) -> None:
    set_health_service(app, change(health_service_of(app)))


def _replace(app: FastAPI, **fields: Any) -> None:
    _change(app, lambda service: dataclasses.replace(service, **fields))


async def _up_without_probing() -> ComponentStatus:
    return UP


@register(
    "health-non-iso-timestamp",
    breaks=("MON-HEALTH-003",),
    description="timestamp as day/month/year, e.g. 25/11/2026 23:30:00",
)
def _non_iso_timestamp(app: FastAPI, settings: Settings) -> None:
    def day_first(moment: datetime) -> str:
        return moment.astimezone(UTC).strftime("%d/%m/%Y %H:%M:%S")

    _replace(app, format_timestamp=day_first)


@register(
    "health-stale-timestamp",
    breaks=("MON-HEALTH-003",),
    description="timestamp frozen at one hour before the app started",
)
def _stale_timestamp(app: FastAPI, settings: Settings) -> None:
    frozen = utc_now() - timedelta(hours=1)
    _replace(app, clock=lambda: frozen)


@register(
    "health-missing-mlflow",
    breaks=("MON-HEALTH-002",),
    description="components has no mlflow entry",
)
def _missing_mlflow(app: FastAPI, settings: Settings) -> None:
    _change(app, lambda service: service.without_component("mlflow"))


@register(
    "health-text-content-type",
    breaks=("MON-HEALTH-001",),
    description="the same JSON body served as text/plain",
)
def _text_content_type(app: FastAPI, settings: Settings) -> None:
    def as_text(report: HealthReport) -> Response:
        return Response(
            json.dumps(report.as_json()),
            status_code=report.http_status,
            media_type="text/plain",
            headers={"Cache-Control": "no-store"},
        )

    _replace(app, render=as_text)


@register(
    "health-always-503",
    breaks=("MON-HEALTH-001",),
    description="status code 503 even when every component is up",
)
def _always_503(app: FastAPI, settings: Settings) -> None:
    def unavailable(report: HealthReport) -> Response:
        response = json_response(report)
        response.status_code = 503
        return response

    _replace(app, render=unavailable)


@register(
    "health-bad-version",
    breaks=("MON-HEALTH-004",),
    description='version "latest" instead of the release number',
)
def _bad_version(app: FastAPI, settings: Settings) -> None:
    _replace(app, version="latest")


@register(
    "health-ignores-database",
    breaks=("MON-HEALTH-005",),
    description="database reported up without being probed",
)
def _ignores_database(app: FastAPI, settings: Settings) -> None:
    _change(app, lambda service: service.replace_component("database", probe=_up_without_probing))


@register(
    "health-ignores-redis",
    breaks=("MON-HEALTH-006",),
    description="redis reported up without being probed",
)
def _ignores_redis(app: FastAPI, settings: Settings) -> None:
    _change(app, lambda service: service.replace_component("redis", probe=_up_without_probing))


# longer than the harness's default detection bound (health_detection_timeout_s, 10 s)
_RETRY_FOR_S = 12.0


@register(
    "health-late-database-outage",
    breaks=("MON-HEALTH-005",),
    description=f"the database probe retries for {_RETRY_FOR_S:g} s before reporting down",
)
def _late_database_outage(app: FastAPI, settings: Settings) -> None:
    service = health_service_of(app)
    probe = next(c.probe for c in service.components if c.name == "database")

    async def patient_probe() -> ComponentStatus:
        deadline = time.monotonic() + _RETRY_FOR_S
        while True:
            try:
                return await probe()
            except Exception:
                if time.monotonic() >= deadline:
                    raise
                await asyncio.sleep(0.5)

    patient = service.replace_component("database", probe=patient_probe)
    # the per-probe timeout would cut the retries short
    set_health_service(app, dataclasses.replace(patient, timeout_s=_RETRY_FOR_S + 5))
