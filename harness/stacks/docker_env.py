"""The Docker engine as the harness sees it: a client, the labels, the testcontainers settings."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from harness.errors import HarnessError

if TYPE_CHECKING:
    import docker

LABEL = "org.prodready.harness"
"""Carried (with the value ``"1"``) by every image, container, network and volume we make."""
LABEL_KIND = "org.prodready.harness.kind"
"""What an object is: ``local-image`` for the images of `make images`, kept as a cache."""
LABEL_RUN = "org.prodready.harness.run"
"""The run that made an object; everything with this label is removed at the end of the run."""
LABEL_ROLE = "org.prodready.harness.role"
"""The role of a local image (``postgres``, ``backend``, ...)."""
KIND_LOCAL_IMAGE = "local-image"

REQUIRE_DOCKER_ENV = "HARNESS_REQUIRE_DOCKER"
DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"
INSTALL_HINT = "install docker.io and start dockerd --ip=127.0.0.1"
_TRUE = frozenset({"1", "true", "yes", "on"})


class DockerUnavailable(HarnessError):
    """No Docker engine answers; the message is one line with the fix."""


def docker_host() -> str:
    """The engine address the client will use (``DOCKER_HOST`` or the default socket)."""
    return os.environ.get("DOCKER_HOST", "").strip() or DEFAULT_DOCKER_HOST


def docker_required() -> bool:
    """True when ``HARNESS_REQUIRE_DOCKER`` asks that missing Docker fail instead of skip."""
    return os.environ.get(REQUIRE_DOCKER_ENV, "").strip().lower() in _TRUE


def _reason(exc: BaseException) -> str:
    text = str(exc).lower()
    if "permission denied" in text:
        return "permission denied on"
    return "cannot connect to"


def docker_client(timeout: int = 120) -> docker.DockerClient:
    """A client for the engine of ``DOCKER_HOST`` with the API version negotiated.

    Raises `DockerUnavailable` when the SDK is missing or no engine answers.
    """
    host = docker_host()
    try:
        import docker
    except ImportError:  # pragma: no cover - docker is a dependency of the harness
        raise DockerUnavailable(
            "the Python package 'docker' is not installed; pip install docker"
        ) from None
    try:
        client = docker.from_env(version="auto", timeout=timeout)
        client.ping()
    except Exception as exc:  # the SDK raises DockerException, requests and OS errors
        raise DockerUnavailable(
            f"Docker is not available ({_reason(exc)} {host}); {INSTALL_HINT}"
        ) from None
    return client


def docker_available() -> bool:
    """True when an engine answers (the client is closed again)."""
    try:
        docker_client(timeout=10).close()
    except DockerUnavailable:
        return False
    return True


def testcontainers_env() -> dict[str, str]:
    """Settings testcontainers needs here; set them before importing testcontainers.

    Ryuk's image cannot be pulled without a registry, and with ``/.dockerenv`` present
    testcontainers would otherwise pick a bridge address instead of loopback.
    """
    return {
        "TESTCONTAINERS_RYUK_DISABLED": "true",
        "TESTCONTAINERS_CONNECTION_MODE": "docker_host",
        "TC_HOST": "127.0.0.1",
    }


def local_image_labels(role: str) -> dict[str, str]:
    """The labels of an image built by `make images` (kept between runs)."""
    return {LABEL: "1", LABEL_KIND: KIND_LOCAL_IMAGE, LABEL_ROLE: role}
