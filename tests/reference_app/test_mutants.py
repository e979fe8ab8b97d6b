"""Mutants: the registry, and each health mutant breaking exactly the claims it names."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI

from reference_app.app import create_app
from reference_app.core.config import Settings
from reference_app.mutants import (
    MUTANT_ENV_VAR,
    MUTANTS,
    Mutant,
    UnknownMutantError,
    apply_mutant_from_env,
    get_mutant,
    register,
)
from tests.reference_app.conftest import Serve, free_port

HEALTH_MUTANTS = {
    "health-non-iso-timestamp": "MON-HEALTH-003",
    "health-stale-timestamp": "MON-HEALTH-003",
    "health-missing-mlflow": "MON-HEALTH-002",
    "health-text-content-type": "MON-HEALTH-001",
    "health-always-503": "MON-HEALTH-001",
    "health-bad-version": "MON-HEALTH-004",
    "health-ignores-database": "MON-HEALTH-005",
    "health-ignores-redis": "MON-HEALTH-006",
}
ISO_SECONDS_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")


def test_health_mutants_are_registered() -> None:
    for name, requirement in HEALTH_MUTANTS.items():
        mutant = get_mutant(name)
        assert mutant.name == name
        assert mutant.breaks == (requirement,)
        assert mutant.description


def test_unknown_mutant_lists_the_known_ones() -> None:
    with pytest.raises(KeyError) as caught:
        get_mutant("no-such-mutant")

    assert isinstance(caught.value, UnknownMutantError)
    assert str(caught.value).startswith("unknown mutant 'no-such-mutant'; known mutants: ")
    assert "health-bad-version" in str(caught.value)


def test_register_refuses_bad_entries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("reference_app.mutants.MUTANTS", dict(MUTANTS))

    def noop(app: FastAPI, settings: Settings) -> None:
        pass

    with pytest.raises(ValueError, match="already registered"):
        register("health-bad-version", breaks=("X-1",), description="twice")(noop)
    with pytest.raises(ValueError, match="kebab-case"):
        register("Bad Name", breaks=("X-1",), description="d")(noop)
    with pytest.raises(ValueError, match="requirement ids"):
        register("breaks-nothing", breaks=(), description="d")(noop)


def test_env_selects_the_mutant(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings()
    app = create_app(settings)

    clean = apply_mutant_from_env(app, settings, {MUTANT_ENV_VAR: ""})
    clean_marker = app.state.mutant
    chosen = apply_mutant_from_env(app, settings, {MUTANT_ENV_VAR: " health-bad-version "})

    assert clean is None
    assert clean_marker is None
    assert isinstance(chosen, Mutant)
    assert app.state.mutant == "health-bad-version"
    with pytest.raises(UnknownMutantError):
        apply_mutant_from_env(app, settings, {MUTANT_ENV_VAR: "typo"})


# --- each health claim as the harness checks it, on a fresh app per claim ---


@dataclass
class Scene:
    settings: Callable[..., Settings]
    serve: Serve
    db_path: Path


async def _get(scene: Scene, **settings: object) -> tuple[int, str, dict[str, object]]:
    client = await scene.serve(create_app(scene.settings(**settings)))
    response = await client.get("/health")
    try:
        body = response.json()
    except ValueError:
        body = {}
    return response.status_code, response.headers.get("content-type", ""), body


async def claim_status_and_content_type(scene: Scene) -> bool:
    status, content_type, body = await _get(scene)
    return status == 200 and content_type == "application/json" and body["status"] == "healthy"


async def claim_components(scene: Scene) -> bool:
    _, _, body = await _get(scene)
    components = body["components"]
    return isinstance(components, dict) and {"database", "redis", "mlflow"} <= set(components)


async def claim_timestamp(scene: Scene) -> bool:
    _, _, body = await _get(scene)
    stamp = str(body["timestamp"])
    if not ISO_SECONDS_UTC.match(stamp):
        return False
    return abs(datetime.now(UTC) - datetime.fromisoformat(stamp)) < timedelta(minutes=5)


async def claim_version(scene: Scene) -> bool:
    _, _, body = await _get(scene)
    return body["version"] == "1.0.0"


async def claim_database_probed(scene: Scene) -> bool:
    moved = scene.db_path.with_suffix(".db.stopped")
    scene.db_path.rename(moved)
    scene.db_path.mkdir()
    try:
        status, _, body = await _get(scene)
    finally:
        scene.db_path.rmdir()
        moved.rename(scene.db_path)
    components = body["components"]
    assert isinstance(components, dict)
    return status == 503 and components["database"]["status"] == "down"


async def claim_redis_probed(scene: Scene) -> bool:
    status, _, body = await _get(scene, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    components = body["components"]
    assert isinstance(components, dict)
    return status == 503 and components["redis"]["status"] == "down"


CLAIMS: dict[str, Callable[[Scene], Awaitable[bool]]] = {
    "MON-HEALTH-001": claim_status_and_content_type,
    "MON-HEALTH-002": claim_components,
    "MON-HEALTH-003": claim_timestamp,
    "MON-HEALTH-004": claim_version,
    "MON-HEALTH-005": claim_database_probed,
    "MON-HEALTH-006": claim_redis_probed,
}


@pytest.mark.anyio
@pytest.mark.parametrize("mutant", ["", *HEALTH_MUTANTS])
async def test_mutant_breaks_exactly_its_claims(
    mutant: str,
    monkeypatch: pytest.MonkeyPatch,
    make_settings: Callable[..., Settings],
    serve: Serve,
    db_path: Path,
) -> None:
    monkeypatch.setenv(MUTANT_ENV_VAR, mutant)
    scene = Scene(make_settings, serve, db_path)

    broken = {requirement for requirement, claim in CLAIMS.items() if not await claim(scene)}

    expected = set(get_mutant(mutant).breaks) if mutant else set()
    assert broken == expected


@pytest.mark.anyio
async def test_mutant_outputs_look_as_described(
    monkeypatch: pytest.MonkeyPatch, make_settings: Callable[..., Settings], serve: Serve
) -> None:
    async def body_with(mutant: str) -> tuple[str, dict[str, object]]:
        monkeypatch.setenv(MUTANT_ENV_VAR, mutant)
        _, content_type, body = await _get(Scene(make_settings, serve, Path()))
        return content_type, body

    _, body = await body_with("health-non-iso-timestamp")
    assert re.match(r"^\d\d/\d\d/\d{4} \d\d:\d\d:\d\d$", str(body["timestamp"]))
    _, body = await body_with("health-stale-timestamp")
    age = datetime.now(UTC) - datetime.fromisoformat(str(body["timestamp"]))
    assert timedelta(minutes=59) < age < timedelta(minutes=61)
    content_type, body = await body_with("health-text-content-type")
    assert content_type.startswith("text/plain")
    assert body["status"] == "healthy"
    _, body = await body_with("health-bad-version")
    assert body["version"] == "latest"
