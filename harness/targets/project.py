"""The second target: the deployment's repository (``--project-root DIR``), whose files the
checks read at the spec's paths (``scripts/deploy.sh``, ``backend/tests/load/``, ...)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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
