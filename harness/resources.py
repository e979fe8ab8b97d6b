"""Where the data shipped with the harness lives, found through ``importlib.resources``.

The repository's top-level ``fixtures/`` and ``suites/`` are the packages ``harness.fixtures``
and ``harness.suites`` (``package-dir`` in pyproject.toml), so a checkout, an editable install
and an installed wheel all answer the same way, and nothing walks up from a file.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from harness.errors import HarnessError

FIXTURES = "harness.fixtures"
SUITES = "harness.suites"
SPEC = "harness.spec"


class ResourceError(HarnessError):
    """A data file of the harness is missing from its installation."""


def _directory(package: str) -> Path:
    root = files(package)
    # Docker build contexts, pytest and shutil need real paths: installs are unpacked
    if not isinstance(root, Path):
        raise ResourceError(f"{package} is not installed as files ({root!r}); reinstall it")
    return root


def resource_path(package: str, *parts: str) -> Path:
    """``parts`` inside ``package``; ResourceError names the file when it is missing."""
    path = _directory(package).joinpath(*parts)
    if not path.exists():
        raise ResourceError(f"{path} is missing from the installed harness; reinstall it")
    return path


def fixture_path(*parts: str) -> Path:
    """A file or folder of ``fixtures/``, e.g. ``fixture_path("schemas", "health.schema.json")``."""
    return resource_path(FIXTURES, *parts)


def suites_dir() -> Path:
    """The folder of the compliance suites (``suites/``)."""
    return _directory(SUITES)


def spec_document() -> Path:
    """The production-readiness spec that ``harness/spec/requirements.yaml`` catalogues."""
    return resource_path(SPEC, "production-readiness.md")
