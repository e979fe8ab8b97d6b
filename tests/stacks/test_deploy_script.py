"""The reference repository's scripts/deploy.sh and scripts/backup.sh, run as a user runs them
on a throwaway Compose project of the local images: a good deploy, and rollbacks that bring
back the previous image and the database as it was."""

from __future__ import annotations

import io
import os
import shlex
import shutil
import signal
import subprocess
import time
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
    "prodready-local/nginx:1.22",
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
        FRONTEND_IMAGE=f"{name}/frontend", HEALTH_TIMEOUT="40",
        COMPOSE_FILE="docker-compose.yml:docker-compose.local.yml",
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


def _deaf_base(drill: Drill, docker_client: docker.DockerClient) -> str:
    """A backend base image that serves on another port than the one its health check asks."""
    tag = f"{drill.name}/deaf:1"
    docker_client.images.build(
        fileobj=io.BytesIO(
            b"FROM prodready/reference-backend:1.0.0\n"
            b'CMD ["python", "-m", "reference_app", "serve", "--host", "0.0.0.0",'
            b' "--port", "8001", "--no-migrate"]\n'
        ),
        tag=tag,
        labels={"com.docker.compose.project": drill.name},
        rm=True,  # docker-py keeps the intermediate containers otherwise
        forcerm=True,
    )
    return tag


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
    deaf = _deaf_base(drill, docker_client)
    done = drill.run("deploy.sh", VERSION="v2", BACKEND_BASE=deaf, HEALTH_TIMEOUT="15")
    assert done.returncode == 1, done.stderr[-3000:]
    assert "deploy failed at step health; rolled back to v1" in done.stderr
    assert drill.backend_image() == f"{drill.name}/backend:v1"
    assert drill.sql("SELECT count(*) FROM users") == str(SEED_ROWS)


# the real migration, then a column and a revision of its own, then a crash: half-way
HALF_MIGRATION = """python -m reference_app migrate && python -c '
import asyncio, os, asyncpg
async def main():
    url = os.environ["DATABASE_URL"].replace("+asyncpg", "")
    db = await asyncpg.connect(url.replace("?ssl=", "?sslmode="))  # libpq spelling for asyncpg
    await db.execute("ALTER TABLE users ADD COLUMN v2_only text")
    await db.execute("UPDATE alembic_version SET version_num = $1", "v2half")
asyncio.run(main())' && exit 3"""


def test_a_migration_that_fails_half_way_leaves_the_schema_of_v1(drill: Drill) -> None:
    _deployed(drill, "v1")
    _seed(drill)
    revision = drill.sql("SELECT version_num FROM alembic_version")
    done = drill.run("deploy.sh", VERSION="v2", MIGRATE_COMMAND=HALF_MIGRATION)
    assert done.returncode == 1, done.stderr[-3000:]
    assert "deploy failed at step migrate; rolled back to v1" in done.stderr
    assert "Traceback" not in done.stderr, "the half migration itself broke, not at its end"
    assert drill.sql("SELECT version_num FROM alembic_version") == revision
    columns = drill.sql(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'users'"
    )
    assert "v2_only" not in columns.split()
    assert drill.sql("SELECT count(*) FROM users") == str(SEED_ROWS)
    assert drill.backend_image() == f"{drill.name}/backend:v1"


def test_an_interrupted_deploy_leaves_v1_serving_and_the_next_deploy_succeeds(
    drill: Drill, docker_client: docker.DockerClient
) -> None:
    _deployed(drill, "v1")
    log = drill.root / "deploy-v2.log"
    with log.open("w") as sink:
        deploy = subprocess.Popen(
            ["./scripts/deploy.sh"], cwd=drill.root, stdout=sink, stderr=sink,
            env={**drill.env, "VERSION": "v2", "BACKEND_BASE": _deaf_base(drill, docker_client),
                 "HEALTH_TIMEOUT": "120"},
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 120
            while "step 6/7 health" not in log.read_text() and time.monotonic() < deadline:
                time.sleep(0.5)
            deploy.send_signal(signal.SIGTERM)
            code = deploy.wait(timeout=120)
        finally:
            deploy.kill()
    stderr = log.read_text()
    assert code == 1, stderr[-3000:]
    assert "interrupted during step health" in stderr
    assert drill.backend_image() == f"{drill.name}/backend:v1"
    _deployed(drill, "v3")


def test_the_specs_compose_commands_run_on_the_reference_file(drill: Drill) -> None:
    """up -d, logs, down (data volumes survive), up -d --build, with the local override."""
    drill.bash("compose up -d --wait")
    assert drill.backend_image() == f"{drill.name}/backend:latest"
    drill.bash("compose run --rm --no-deps -T backend python -m reference_app migrate")
    _seed(drill)
    logs = drill.bash("compose logs --no-color")
    assert "backend-1" in logs
    assert "Uvicorn running" in logs
    drill.bash("compose down")
    assert drill.bash("compose ps -a -q").strip() == ""
    drill.bash("compose up -d --build --wait")
    assert drill.sql("SELECT count(*) FROM users") == str(SEED_ROWS)
