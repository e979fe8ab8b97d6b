"""promtool, Prometheus' own checker, in a child process: ``check config`` (the configuration
and every rule file it names, resolved from the file's folder as Prometheus resolves them),
``check rules`` and ``test rules`` (rule unit tests). Its verdict is Prometheus' verdict."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

TIMEOUT_S = 60
INSTALL = "apt-get install prometheus (Debian/Ubuntu ship promtool in it)"
MISSING = f"needs promtool on PATH: {INSTALL}, or promtool from a Prometheus release"


class PromtoolMissing(RuntimeError):
    """promtool is not installed; the message says how to install it."""

    def __init__(self) -> None:
        super().__init__(MISSING)


@dataclass(frozen=True)
class PromtoolRun:
    """One promtool command and what it said (stdout and stderr, blank lines dropped)."""

    command: str
    returncode: int
    lines: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def summary(self, limit: int = 3) -> str:
        """The lines that say why it failed (promtool's FAILED and error lines), or its last."""
        wrong = [line for line in self.lines if "FAILED" in line or "error" in line.lower()]
        shown = (wrong or list(self.lines[-1:]))[:limit]
        return " | ".join(shown) or f"exit code {self.returncode}"


def promtool_path() -> str | None:
    return shutil.which("promtool")


def run_promtool(*args: str, cwd: Path | None = None) -> PromtoolRun:
    """``promtool ARGS``; PromtoolMissing without it."""
    binary = promtool_path()
    if binary is None:
        raise PromtoolMissing
    command = ["promtool", *args]
    try:
        proc = subprocess.run(
            [binary, *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return PromtoolRun(" ".join(command), -1, (f"did not finish in {TIMEOUT_S} s",))
    text = proc.stdout + "\n" + proc.stderr
    lines = tuple(line.rstrip() for line in text.splitlines() if line.strip())
    return PromtoolRun(" ".join(command), proc.returncode, lines)


def check_config(config: Path) -> PromtoolRun:
    """``promtool check config``, run in the file's folder (its rule_files are relative)."""
    return run_promtool("check", "config", config.name, cwd=config.parent)


def check_rules(files: Sequence[Path]) -> PromtoolRun:
    return run_promtool("check", "rules", *(str(f) for f in files))


def unit_test_rules(files: Sequence[Path], cwd: Path | None = None) -> PromtoolRun:
    """``promtool test rules``: the unit test files name their rule files relative to themselves."""
    return run_promtool("test", "rules", *(str(f) for f in files), cwd=cwd)
