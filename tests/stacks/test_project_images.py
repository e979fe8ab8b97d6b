"""Before a throwaway project starts, the images its Compose files name but neither build nor
find on the engine are named in one line, with the parameter that selects local stand-ins:
Docker itself only says which registry it could not reach."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.stacks.project_stack import ThrowawayProject

COMPOSE = """services:
  db:
    image: prodready-local/postgres:15
  mlflow:
    image: registry.invalid/example/mlflow:v0
  backend:
    image: harness-test/built-here:1
    build:
      context: .
"""


def test_images_up_would_pull_are_named_with_the_remedy(docker_client: Any, tmp_path: Path) -> None:
    source = tmp_path / "repo"
    source.mkdir()
    (source / "docker-compose.yml").write_text(COMPOSE)
    with ThrowawayProject.create(source, tmp_path, "docker-compose.yml", "") as project:
        missing = project.unavailable_images()
        reason = project.unavailable_reason()
    # the local base image is here and the backend is built: only the registry image is named
    assert missing == ["registry.invalid/example/mlflow:v0 (mlflow)"]
    assert reason is not None
    assert "registry.invalid/example/mlflow:v0 (mlflow)" in reason
    assert "--param drill_compose_files=" in reason
    assert "\n" not in reason
