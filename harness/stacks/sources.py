"""What each local image is built from, as a digest: ``make images`` rebuilds an image whose
sources changed since it was built, not only a missing one."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from importlib.resources import files
from pathlib import Path

from harness.resources import fixture_path
from harness.stacks.contexts import runtime_requirements
from harness.stacks.reference import app_paths

LABEL_SOURCES = "org.prodready.harness.sources"
FIXTURE_ROLES = ("base", "postgres", "redis", "python", "nginx", "prometheus")
# not part of what the backend image runs
_BACKEND_IGNORES = ("reference_app/frontend", "reference_app/deploy")


def _harness_module(name: str) -> tuple[str, Path]:
    return f"harness/stacks/{name}", Path(str(files("harness.stacks") / name))


def role_sources(role: str) -> list[tuple[str, Path]]:
    """``(name, file or folder)`` pairs ``role`` is built from; names are stable across
    installs (a checkout, a wheel), so an image's digest does not depend on where it lives."""
    if role in FIXTURE_ROLES:
        found = [(f"fixtures/images/{role}", fixture_path("images", role))]
        return [*found, _harness_module("rootfs.py")] if role == "base" else found
    build = [_harness_module("builder.py"), _harness_module("contexts.py")]
    app = app_paths()
    if role == "backend":
        return [("reference_app", app.package), *build]
    if role == "frontend":
        deploy = ("frontend.Dockerfile", "frontend-healthcheck.sh", "nginx.conf")
        named = [(f"reference_app/deploy/{name}", app.deploy / name) for name in deploy]
        return [("reference_app/frontend", app.frontend), *named, *build]
    return []


def _files(sources: list[tuple[str, Path]], ignore: tuple[str, ...]) -> list[tuple[str, Path]]:
    found: list[tuple[str, Path]] = []
    for name, path in sources:
        candidates = sorted(path.rglob("*")) if path.is_dir() else [path]
        for candidate in candidates:
            if not candidate.is_file() or "__pycache__" in candidate.parts:
                continue
            relative = candidate.relative_to(path).as_posix() if path.is_dir() else ""
            label = f"{name}/{relative}" if relative else name
            if label.startswith(ignore) and not label.endswith("backend.Dockerfile"):
                continue
            found.append((label, candidate))
    return found


def source_digest(role: str, base_images: Mapping[str, str]) -> str:
    """sha256 over the role's source files (the backend's pinned requirements too) and the
    ids of the images it is built from."""
    digest = hashlib.sha256()
    ignore = _BACKEND_IGNORES if role == "backend" else ()
    for label, path in _files(role_sources(role), ignore):
        digest.update(label.encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    if role == "backend":
        digest.update("\n".join(runtime_requirements()).encode() + b"\0")
    for name, image_id in sorted(base_images.items()):
        digest.update(f"{name}={image_id}\0".encode())
    return digest.hexdigest()
