"""Fixtures of the container tests: a Docker client, or one clear reason to skip.

Without a Docker engine the tests skip with the one-line reason of `DockerUnavailable`; with
``HARNESS_REQUIRE_DOCKER=1`` (CI) they fail instead. Tests use only images built beforehand by
``make images``: building here would race between xdist workers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

from harness.stacks.compose import ComposeUnavailable, compose_command
from harness.stacks.docker_env import DockerUnavailable, docker_required
from harness.stacks.docker_env import docker_client as _docker_client
from tests.conftest import SuiteRun, suite_runner

if TYPE_CHECKING:
    import docker


def skip_or_fail(reason: str) -> NoReturn:
    """Skip with ``reason``, or fail when HARNESS_REQUIRE_DOCKER asks for a real run."""
    __tracebackhide__ = True
    if docker_required():
        pytest.fail(f"{reason} (HARNESS_REQUIRE_DOCKER is set)", pytrace=False)
    pytest.skip(reason)


def connect() -> docker.DockerClient:
    """A client for the engine, or skip/fail with the one-line reason."""
    __tracebackhide__ = True
    try:
        return _docker_client()
    except DockerUnavailable as exc:
        skip_or_fail(str(exc))


def require_image(client: docker.DockerClient, role: str) -> str:
    """The image of ``role`` (as the stacks resolve it) if it exists, else skip/fail."""
    __tracebackhide__ = True
    from harness.stacks.images import image_exists, resolve_image

    image = resolve_image(role, client=client)
    if not image_exists(client, image):
        skip_or_fail(f"the {role} image {image} is missing; run make images")
    return image


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    """One client per test process; skips (or fails) when no engine answers."""
    client = connect()
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def run_labels() -> dict[str, str]:
    """Labels for what one test creates: a sweep by label finds the leftovers of a crash."""
    import uuid

    from harness.stacks.docker_env import LABEL, LABEL_RUN

    return {LABEL: "1", LABEL_RUN: f"test-images-{uuid.uuid4().hex[:12]}"}


def run_once(
    client: docker.DockerClient,
    image: str,
    command: list[str],
    entrypoint: list[str] | None = None,
    user: str | None = None,
) -> tuple[int, str]:
    """Run ``command`` in a throwaway container; its exit code and output.

    ``containers.run(remove=True)`` can return before the output is readable; waiting first
    and removing after is reliable.
    """
    from harness.stacks.docker_env import LABEL, LABEL_KIND

    container = client.containers.create(
        image,
        command,
        entrypoint=entrypoint,
        user=user,
        labels={LABEL: "1", LABEL_KIND: "test-probe"},
    )
    try:
        container.start()
        code = int(container.wait(timeout=60)["StatusCode"])
        return code, container.logs().decode(errors="replace")
    finally:
        container.remove(force=True, v=True)


# the images the reference repository's local stand-ins (docker-compose.local.yml) start
LOCAL_IMAGES = (
    "prodready-local/postgres:15",
    "prodready-local/redis:7",
    "prodready-local/nginx:1.22",
    "prodready-local/python:3.11",
    "prodready-local/prometheus:2",
    "prodready/reference-backend:1.0.0",
)

# the reference tree's local stand-ins: no registry here
DRILL_ARGS = (
    "--stack=containers",
    "--param=drill_compose_files=docker-compose.yml:docker-compose.local.yml",
)


@pytest.fixture
def drill_suite(docker_client: Any, tmp_path: Path) -> Callable[..., SuiteRun]:
    """Runs the suites on a repository (``root``) as a throwaway Compose project with the local
    stand-ins, for the requirements named; skips (or fails) without the images or Compose v2."""
    from harness.stacks.images import image_exists

    missing = [image for image in LOCAL_IMAGES if not image_exists(docker_client, image)]
    if missing:
        skip_or_fail(f"the local images {', '.join(missing)} are missing; run make images")
    try:
        compose_command()
    except ComposeUnavailable as exc:
        skip_or_fail(str(exc))
    run = suite_runner(tmp_path)

    def drills(root: Path, *ids: str) -> SuiteRun:
        selected = [f"--requirement={rid}" for rid in ids]
        if "DEP-DEV-START" in ids:  # a development-profile requirement
            selected.append("--profile=development")
        return run(
            f"--project-root={root}", *DRILL_ARGS, *selected, "-v", timeout=900,
        )  # fmt: skip

    return drills
