"""The second target: the deployment's repository (``--project-root DIR``), whose files the
checks read at the spec's paths (``scripts/deploy.sh``, ``backend/tests/load/``, ...)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# the start of the skip reason is a cause of the gate's summary (harness.report.summary)
NEEDS_PROJECT = "needs the deployment's repository: set --project-root DIR"


class MissingProjectFile(AssertionError):
    """A file the spec names is not where it says: the claim is broken, so the check fails
    (an assertion), naming the path and the parameter that moves it."""


@dataclass(frozen=True)
class Project:
    """The repository's root; paths are relative to it, as the spec writes them."""

    root: Path

    def path(self, relative: str) -> Path:
        """``relative`` under the root; a path that leaves the root is refused, so a
        parameter cannot make a check read the harness's own machine."""
        path = (self.root / relative).resolve()
        if path != self.root and self.root not in path.parents:
            raise MissingProjectFile(f"{relative}: outside the repository {self.root}")
        return path

    def file(self, relative: str, setting: str | None = None) -> Path:
        """The file at ``relative``; :class:`MissingProjectFile` when there is none.
        ``setting``: the parameter that names the path, said in the message."""
        path = self.path(relative)
        if not path.is_file():
            moved = f"; set --param {setting}=PATH if it lives elsewhere" if setting else ""
            raise MissingProjectFile(f"{relative}: no such file in {self.root}{moved}")
        return path

    def directory(self, relative: str, setting: str | None = None) -> Path:
        """The directory at ``relative``; :class:`MissingProjectFile` when there is none."""
        path = self.path(relative)
        if not path.is_dir():
            moved = f"; set --param {setting}=PATH if it lives elsewhere" if setting else ""
            raise MissingProjectFile(f"{relative}/: no such directory in {self.root}{moved}")
        return path

    def read_text(self, relative: str, setting: str | None = None) -> str:
        return self.file(relative, setting).read_text(encoding="utf-8", errors="replace")


def throwaway_source(
    project_root: Path | None, stack: str, params: dict[str, Any], needs_containers: str
) -> tuple[Path, str]:
    """For the suites that run the repository as a throwaway Compose project (the deploy
    drills, the Quick Start, the Compose runtime checks): the root and its ``.env.example``
    text. Skips without ``--project-root`` or without the containers stack
    (``needs_containers`` says why); fails without the example file."""
    if project_root is None:
        pytest.skip(NEEDS_PROJECT)
    if stack != "containers":
        pytest.skip(needs_containers)
    example = project_root / params["env_example"]
    if not example.is_file():
        pytest.fail(f"{params['env_example']}: no such file; the project's .env is made from it")
    return project_root, example.read_text()


def throwaway_compose_files(params: dict[str, Any]) -> str:
    """The Compose files of the throwaway project (``drill_compose_files``, else the file)."""
    return str(params["drill_compose_files"] or params["compose_file"])
