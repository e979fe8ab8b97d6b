"""What each local image is built from, as a digest: ``make images`` rebuilds an image whose
sources changed since it was built, not only a missing one."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LABEL_SOURCES = "org.prodready.harness.sources"

_HARNESS_BUILD = ("harness/stacks/builder.py", "harness/stacks/contexts.py")
SOURCES: dict[str, tuple[str, ...]] = {
    "base": ("fixtures/images/base", "harness/stacks/rootfs.py"),
    "postgres": ("fixtures/images/postgres",),
    "redis": ("fixtures/images/redis",),
    "python": ("fixtures/images/python",),
    "nginx": ("fixtures/images/nginx",),
    "prometheus": ("fixtures/images/prometheus",),
    "backend": (
        "pyproject.toml",
        "reference_app",
        *_HARNESS_BUILD,
    ),
    "frontend": (
        "reference_app/frontend",
        "reference_app/deploy/frontend.Dockerfile",
        "reference_app/deploy/frontend-healthcheck.sh",
        "reference_app/deploy/nginx.conf",
        *_HARNESS_BUILD,
    ),
}
# not part of what the backend image runs
_BACKEND_IGNORES = ("reference_app/frontend", "reference_app/deploy")


def _files(paths: Iterable[str], ignore: tuple[str, ...]) -> list[Path]:
    found: list[Path] = []
    for rel in paths:
        path = REPO / rel
        candidates = sorted(path.rglob("*")) if path.is_dir() else [path]
        for candidate in candidates:
            relative = candidate.relative_to(REPO).as_posix()
            if not candidate.is_file() or "__pycache__" in candidate.parts:
                continue
            if relative.startswith(ignore) and not relative.endswith("backend.Dockerfile"):
                continue
            found.append(candidate)
    return found


def source_digest(role: str, base_images: Mapping[str, str]) -> str:
    """sha256 over the role's source files and the ids of the images it is built from."""
    digest = hashlib.sha256()
    ignore = _BACKEND_IGNORES if role == "backend" else ()
    for path in _files(SOURCES.get(role, ()), ignore):
        digest.update(path.relative_to(REPO).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    for name, image_id in sorted(base_images.items()):
        digest.update(f"{name}={image_id}\0".encode())
    return digest.hexdigest()
