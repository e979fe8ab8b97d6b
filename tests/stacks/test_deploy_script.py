"""The reference repository's scripts/deploy.sh and scripts/backup.sh, run as a user runs them
on a throwaway Compose project of the local images: a good deploy, and rollbacks that bring
back the previous image and the database as it was."""

from __future__ import annotations

import io
import os
import shlex
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from harness.stacks.compose import ComposeUnavailable, compose_command
from tests.stacks.conftest import skip_or_fail

if TYPE_CHECKING:
    import docker

PROJECT = Path(__file__).resolve().parents[2] / "reference_app" / "project"
LOCAL_IMAGES = (
    "prodready-local/postgres:15",
    "prodready-local/redis:7",
    "prodready/reference-backend:1.0.0",
)
ENV = (
    "POSTGRES_PASSWORD=drill-pw\nSECRET_KEY=drill-0123456789abcdef0123456789abcdef\n"
    "GRAFANA_ADMIN_PASSWORD=drill-admin\n"
)
SEED_ROWS = 40


@dataclass
class Drill:
    """A copy of the reference tree run as its own Compose project."""

    root: Path
    name: str
    env: dict[str, str]

    def run(self, script: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [f"./scripts/{script}"], cwd=self.root, env={**self.env, **extra},
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip

    def bash(self, code: str) -> str:
        """``code`` with scripts/lib.sh sourced, as the scripts see the project."""
        done = subprocess.run(
            ["bash", "-c", f"set -euo pipefail; source scripts/lib.sh; {code}"], cwd=self.root,
            env=self.env, capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip
        return done.stdout

    def sql(self, statement: str) -> str:
        return self.bash(f"db_sql {shlex.quote(statement)}").strip()

    def backend_image(self) -> str:
        return self.bash(
            "docker inspect --format '{{.Config.Image}}' \"$(compose ps -q backend)\""
        ).strip()


@pytest.fixture
def drill(docker_client: docker.DockerClient, tmp_path: Path) -> Iterator[Drill]:
    from harness.stacks.images import image_exists

    missing = [image for image in LOCAL_IMAGES if not image_exists(docker_client, image)]
    if missing:
        skip_or_fail(f"the local images {', '.join(missing)} are missing; run make images")
    try:
        compose = " ".join(compose_command())
    except ComposeUnavailable as exc:
        skip_or_fail(str(exc))
    name = f"drill{uuid.uuid4().hex[:10]}"
    root = tmp_path / "repo"
    shutil.copytree(PROJECT, root)
    (root / ".env").write_text(ENV)
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}
    env.update(
        COMPOSE=compose, COMPOSE_PROJECT_NAME=name, BACKEND_IMAGE=f"{name}/backend",
        COMPOSE_FILE="docker-compose.yml:docker-compose.local.yml", HEALTH_TIMEOUT="40",
        MIGRATE_COMMAND="python -m reference_app migrate",
    )  # fmt: skip
    drill = Drill(root, name, env)
    try:
        yield drill
    finally:
        subprocess.run(
            ["bash", "-c", "source scripts/lib.sh; compose down -v --remove-orphans"],
            cwd=root, env=env, capture_output=True, timeout=120, check=False,
        )  # fmt: skip
        for image in docker_client.images.list(
            filters={"label": f"com.docker.compose.project={name}"}
        ):
            docker_client.images.remove(image.id, force=True)


def _seed(drill: Drill) -> None:
    drill.sql(
        "INSERT INTO users (username, email, hashed_password) SELECT 'u' || g, "
        f"'u' || g || '@example.org', 'h' FROM generate_series(1, {SEED_ROWS}) g"
    )


def _deployed(drill: Drill, version: str, **extra: str) -> None:
    done = drill.run("deploy.sh", VERSION=version, **extra)
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"deployed {version}" in done.stderr


def test_a_good_deploy_serves_v2_and_leaves_a_backup_that_restores(drill: Drill) -> None:
    _deployed(drill, "v1")
    _seed(drill)
    before = drill.bash("table_counts")
    _deployed(drill, "v2")
    assert drill.backend_image() == f"{drill.name}/backend:v2"
    assert drill.sql("SELECT count(*) FROM users") == str(SEED_ROWS)
    dumps = sorted((drill.root / "backups").glob("db-development-*-before-v2.dump"))
    assert len(dumps) == 1
    restored = drill.bash(f"restore_database {dumps[0]} scratch; table_counts scratch")
    assert restored == before
    assert f"users {SEED_ROWS}" in restored
    backup = drill.run("backup.sh")
    assert backup.returncode == 0, backup.stderr[-3000:]
    assert "restore verified" in backup.stderr


def test_a_v2_that_never_turns_healthy_is_rolled_back_with_its_data(
    drill: Drill, docker_client: docker.DockerClient
) -> None:
    _deployed(drill, "v1")
    _seed(drill)
    # v2 serves on another port than the one its health check asks
    docker_client.images.build(
        fileobj=io.BytesIO(
            b'FROM prodready/reference-backend:1.0.0\nCMD ["python", "-m", "reference_app",'
            b' "serve", "--host", "0.0.0.0", "--port", "8001", "--no-migrate"]\n'
        ),
        tag=f"{drill.name}/deaf:1",
        labels={"com.docker.compose.project": drill.name},
    )
    done = drill.run(
        "deploy.sh", VERSION="v2", BACKEND_BASE=f"{drill.name}/deaf:1", HEALTH_TIMEOUT="15"
    )
    assert done.returncode == 1, done.stderr[-3000:]
    assert "deploy failed at step health; rolled back to v1" in done.stderr
    assert drill.backend_image() == f"{drill.name}/backend:v1"
    assert drill.sql("SELECT count(*) FROM users") == str(SEED_ROWS)
