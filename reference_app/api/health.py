"""GET/HEAD /health: every dependency probed concurrently, in the spec's JSON format."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from time import perf_counter
from typing import Any, Literal

from fastapi import APIRouter, Request
from starlette.applications import Starlette
from starlette.responses import JSONResponse, Response

from reference_app import __version__
from reference_app.core.config import Settings
from reference_app.core.database import Database
from reference_app.core.probes import (
    ComponentStatus,
    Probe,
    database_probe,
    describe_failure,
    mlflow_probe,
    redis_probe,
    url_secrets,
)

OverallStatus = Literal["healthy", "degraded", "unhealthy"]


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso_seconds(moment: datetime) -> str:
    """ISO-8601 in UTC with an explicit offset and whole seconds: 2026-11-25T23:30:00+00:00."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class Component:
    """A dependency shown under `components`; a required one being down makes the app unhealthy."""

    name: str
    probe: Probe
    required: bool


@dataclass(frozen=True)
class HealthReport:
    status: OverallStatus
    timestamp: str
    version: str
    components: Mapping[str, ComponentStatus]

    @property
    def http_status(self) -> int:
        # Load balancers act on the code, not the body: only "unhealthy" takes us out.
        return 503 if self.status == "unhealthy" else 200

    def as_json(self) -> dict[str, object]:
        return {
            "status": self.status,
            "timestamp": self.timestamp,
            "version": self.version,
            "components": {name: status.as_json() for name, status in self.components.items()},
        }


def overall_status(results: Sequence[tuple[Component, ComponentStatus]]) -> OverallStatus:
    down = [component for component, result in results if result.status == "down"]
    if any(component.required for component in down):
        return "unhealthy"
    return "degraded" if down else "healthy"


def json_response(report: HealthReport) -> Response:
    return JSONResponse(
        report.as_json(),
        status_code=report.http_status,
        headers={"Cache-Control": "no-store"},
    )


@dataclass(frozen=True)
class HealthService:
    """How /health is computed and rendered; mutants replace single fields of it."""

    version: str
    components: tuple[Component, ...]
    timeout_s: float
    secrets: tuple[str, ...] = ()
    clock: Callable[[], datetime] = utc_now
    format_timestamp: Callable[[datetime], str] = iso_seconds
    render: Callable[[HealthReport], Response] = json_response

    async def check(self) -> HealthReport:
        results = await asyncio.gather(*(self._run(component) for component in self.components))
        pairs = list(zip(self.components, results, strict=True))
        return HealthReport(
            status=overall_status(pairs),
            timestamp=self.format_timestamp(self.clock()),
            version=self.version,
            components={component.name: result for component, result in pairs},
        )

    async def _run(self, component: Component) -> ComponentStatus:
        started = perf_counter()
        try:
            result = await asyncio.wait_for(component.probe(), self.timeout_s)
        except TimeoutError:
            result = ComponentStatus("down", error=f"no answer within {self.timeout_s:g} s")
        except Exception as exc:
            result = ComponentStatus("down", error=describe_failure(exc, self.secrets))
        if result.status in ("up", "down"):
            latency_ms = round((perf_counter() - started) * 1000, 1)
            result = dataclasses.replace(result, latency_ms=latency_ms)
        return result

    def replace_component(self, name: str, **changes: Any) -> HealthService:
        """A copy where component `name` has the given fields changed."""
        if name not in {component.name for component in self.components}:
            raise KeyError(f"no health component named {name!r}")
        components = tuple(
            dataclasses.replace(component, **changes) if component.name == name else component
            for component in self.components
        )
        return dataclasses.replace(self, components=components)

    def without_component(self, name: str) -> HealthService:
        components = tuple(c for c in self.components if c.name != name)
        return dataclasses.replace(self, components=components)


def build_health_service(settings: Settings, database: Database) -> HealthService:
    timeout = settings.health_probe_timeout_s
    return HealthService(
        version=__version__,
        components=(
            Component("database", database_probe(database), required=True),
            Component(
                "redis",
                redis_probe(settings.redis_url, timeout),
                required=settings.redis_url is not None,
            ),
            Component(
                "mlflow", mlflow_probe(settings.mlflow_tracking_uri, timeout), required=False
            ),
        ),
        timeout_s=timeout,
        secrets=url_secrets(
            settings.database_url, settings.redis_url, settings.mlflow_tracking_uri
        ),
    )


def health_service_of(app: Starlette) -> HealthService:
    """The HealthService that create_app stored on `app.state`."""
    service = getattr(app.state, "health", None)
    if not isinstance(service, HealthService):
        raise RuntimeError("app.state.health is not set; build the app with create_app()")
    return service


def set_health_service(app: Starlette, service: HealthService) -> None:
    app.state.health = service


router = APIRouter(tags=["health"])


async def health(request: Request) -> Response:
    service = health_service_of(request.app)
    return service.render(await service.check())


# Left out of the OpenAPI schema: it is an operations endpoint whose format the spec fixes,
# and one route serving GET and HEAD would give both operations the same operation id.
router.add_api_route(
    "/health", health, methods=["GET", "HEAD"], include_in_schema=False, name="health"
)
