"""The images of the container stacks: which image each role uses, and `make images`.

A role's image is ``HARNESS_IMAGE_<ROLE>`` when set, else the local tag when that image
exists, else the public default (see docs/docs/stacks.md).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from harness.stacks import contexts
from harness.stacks.builder import (
    ContextFile,
    ImageBuildError,
    Progress,
    stderr_progress,
    stream_build,
)
from harness.stacks.docker_env import DockerUnavailable, docker_client, local_image_labels
from harness.stacks.rootfs import build_base_image, fresh_workdir, remove_workdir
from harness.stacks.sources import LABEL_SOURCES, source_digest

if TYPE_CHECKING:
    import docker

__all__ = [
    "IMAGES",
    "BuildOutcome",
    "ImageBuildError",
    "ImageSpec",
    "build_derived_image",
    "build_images",
    "image_exists",
    "resolve_image",
]


@dataclass(frozen=True)
class ImageSpec:
    """One role of the stacks: its configurable name, local tag, public default and recipe."""

    role: str
    local_tag: str
    public_default: str | None
    recipe: str
    """``debootstrap`` (base), ``fixture`` (fixtures/images/<role>), ``backend``, ``frontend``"""
    build_args: Mapping[str, str] = field(default_factory=dict)
    """Build ARG name -> the role whose resolved image it receives."""

    @property
    def env_var(self) -> str:
        return f"HARNESS_IMAGE_{self.role.upper()}"

    @property
    def depends_on(self) -> tuple[str, ...]:
        return tuple(self.build_args.values())


def _spec(role: str, tag: str, public: str | None, recipe: str, **args: str) -> ImageSpec:
    return ImageSpec(role, tag, public, recipe, args)


IMAGES: dict[str, ImageSpec] = {
    spec.role: spec
    for spec in (
        _spec("base", "prodready-local/debian:bookworm", "debian:bookworm-slim", "debootstrap"),
        _spec("postgres", "prodready-local/postgres:15", "postgres:16-alpine", "fixture",
              BASE_IMAGE="base"),
        _spec("redis", "prodready-local/redis:7", "redis:7-alpine", "fixture",
              BASE_IMAGE="base"),
        _spec("python", "prodready-local/python:3.11", "python:3.12-slim", "fixture",
              BASE_IMAGE="base"),
        _spec("nginx", "prodready-local/nginx:1.22", "nginx:1.27-alpine", "fixture",
              BASE_IMAGE="base"),
        _spec("prometheus", "prodready-local/prometheus:2", "prom/prometheus:v2.55.1", "fixture",
              BASE_IMAGE="base"),
        _spec("backend", "prodready/reference-backend:1.0.0", None, "backend",
              PYTHON_IMAGE="python"),
        _spec("frontend", "prodready/reference-frontend:1.0.0", None, "frontend",
              NGINX_IMAGE="nginx"),
    )
}  # fmt: skip


def _spec_of(role: str) -> ImageSpec:
    try:
        return IMAGES[role]
    except KeyError:
        raise ImageBuildError(
            f"unknown image role {role!r}; choose from {', '.join(IMAGES)}"
        ) from None


def image_exists(client: docker.DockerClient, tag: str) -> bool:
    import docker.errors

    try:
        client.images.get(tag)
    except docker.errors.ImageNotFound:
        return False
    return True


def resolve_image(
    role: str,
    env: Mapping[str, str] | None = None,
    client: docker.DockerClient | None = None,
) -> str:
    """The image for ``role``: its env var, else the local tag if present, else the default."""
    spec = _spec_of(role)
    chosen = (os.environ if env is None else env).get(spec.env_var, "").strip()
    if chosen:
        return chosen
    if spec.public_default is None:
        return spec.local_tag
    if client is None:
        try:
            client = docker_client()
        except DockerUnavailable:
            return spec.public_default
        try:
            return resolve_image(role, env, client)
        finally:
            client.close()
    return spec.local_tag if image_exists(client, spec.local_tag) else spec.public_default


@dataclass(frozen=True)
class BuildOutcome:
    """What `build_images` did for one role."""

    role: str
    image: str
    status: str  # "built", "present" or "configured" (HARNESS_IMAGE_<ROLE> names another)
    seconds: float = 0.0
    size_bytes: int = 0


def _closure(roles: Iterable[str]) -> list[str]:
    """The roles with their dependencies, dependencies first."""
    ordered: list[str] = []

    def visit(role: str) -> None:
        for dependency in _spec_of(role).depends_on:
            visit(dependency)
        if role not in ordered:
            ordered.append(role)

    for role in roles:
        visit(role)
    return ordered


def build_images(
    roles: Sequence[str] | None = None,
    force: bool = False,
    progress: Progress = stderr_progress,
    client: docker.DockerClient | None = None,
) -> list[BuildOutcome]:
    """Build the local images of ``roles`` (all by default) and what they are built from.

    Idempotent: an image is kept while its sources (see harness/stacks/sources.py) and the
    images it is built from are unchanged; ``force`` rebuilds the roles asked for (not their
    dependencies). A role whose ``HARNESS_IMAGE_<ROLE>`` is set is not built: that image is
    used instead, also as the base of the images built from it.
    """
    own_client = client is None
    client = client or docker_client()
    requested = list(roles) if roles else list(IMAGES)
    order = _closure(requested)
    outcomes: list[BuildOutcome] = []
    started = time.monotonic()
    try:
        for number, role in enumerate(order, 1):
            prefix = f"[{number}/{len(order)}] {role:<10} "
            outcome = _ensure(client, _spec_of(role), force and role in requested, progress, prefix)
            outcomes.append(outcome)
    finally:
        if own_client:
            client.close()
    built = sum(1 for outcome in outcomes if outcome.status == "built")
    progress(
        f"images: {len(outcomes)} ready in {time.monotonic() - started:.1f}s "
        f"({built} built, {len(outcomes) - built} already there)"
    )
    return outcomes


def _ensure(
    client: docker.DockerClient, spec: ImageSpec, force: bool, progress: Progress, prefix: str
) -> BuildOutcome:
    configured = os.environ.get(spec.env_var, "").strip()
    if configured:
        progress(f"{prefix}{spec.env_var}={configured}: not building")
        return BuildOutcome(spec.role, configured, "configured")
    args = {name: resolve_image(role, client=client) for name, role in spec.build_args.items()}
    digest = source_digest(
        spec.role, {name: _image_id(client, image) for name, image in args.items()}
    )
    present = image_exists(client, spec.local_tag)
    if present and not force:
        built_from = client.images.get(spec.local_tag).labels.get(LABEL_SOURCES)
        if built_from == digest:
            progress(f"{prefix}{spec.local_tag} is there")
            return BuildOutcome(spec.role, spec.local_tag, "present", 0.0, _size(client, spec))
        progress(f"{prefix}{spec.local_tag} is out of date with its sources: rebuilding")
    previous = client.images.get(spec.local_tag).id if present else None
    labels = {**local_image_labels(spec.role), LABEL_SOURCES: digest}
    source = ", ".join(f"{name}={value}" for name, value in args.items()) or "debootstrap"
    progress(f"{prefix}building {spec.local_tag} ({source})")
    started = time.monotonic()
    step = f"{' ' * len(prefix)}"
    if spec.recipe == "debootstrap":
        build_base_image(client, spec.local_tag, labels, progress=progress, prefix=step)
    else:
        workdir = fresh_workdir(f"harness-build-{spec.role}-")
        try:
            files, dockerfile = contexts.build_context(
                client, spec.role, spec.recipe, args, workdir
            )
            stream_build(
                client,
                files=files,
                dockerfile=dockerfile,
                tag=spec.local_tag,
                buildargs=args,
                labels=labels,
                progress=progress,
                prefix=step,
            )
        finally:
            remove_workdir(workdir)
    seconds = time.monotonic() - started
    if previous is not None:
        _drop_if_untagged(client, previous)
    size = _size(client, spec)
    progress(f"{prefix}built {spec.local_tag} in {seconds:.1f}s ({size / 1e6:.0f} MB)")
    return BuildOutcome(spec.role, spec.local_tag, "built", seconds, size)


def _image_id(client: docker.DockerClient, image: str) -> str:
    """The id of ``image``, or its name when it is not here (a public image to be pulled)."""
    import docker.errors

    try:
        return str(client.images.get(image).id)
    except docker.errors.ImageNotFound:
        return image


def _drop_if_untagged(client: docker.DockerClient, image_id: str) -> None:
    # a forced rebuild would otherwise leave the old image behind as <none>
    try:
        if not client.images.get(image_id).tags:
            client.images.remove(image_id)
    except Exception:  # noqa: S110 - still used by a container or an image built from it
        pass


def _size(client: docker.DockerClient, spec: ImageSpec) -> int:
    return int(client.images.get(spec.local_tag).attrs.get("Size", 0))


def build_derived_image(
    base_tag: str,
    dockerfile_text: str,
    tag: str,
    labels: dict[str, str],
    files: dict[str, bytes] | None = None,
    *,
    client: docker.DockerClient | None = None,
    progress: Progress | None = None,
) -> str:
    """Build ``tag`` from an in-memory Dockerfile (``ARG BASE_IMAGE`` receives ``base_tag``)
    and ``files``; return the image id. Used for mutant images."""
    own_client = client is None
    client = client or docker_client()
    context: dict[str, ContextFile] = dict(files or {})
    context["Dockerfile"] = dockerfile_text.encode()
    try:
        return stream_build(
            client,
            files=context,
            tag=tag,
            labels=labels,
            buildargs={"BASE_IMAGE": base_tag},
            progress=progress or (lambda line: None),
        )
    finally:
        if own_client:
            client.close()
