"""A shell script of the repository as its users run it: a shebang, the executable bit,
``bash -n`` (bash's own parser) and shellcheck's error-severity findings where it is installed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from harness.probes.repo_findings import RepoFinding, finding

SHELLCHECK_MISSING = "shellcheck is not installed: its error findings were not checked"
_SHELLS = ("bash", "sh", "dash", "zsh", "ksh")
_TIMEOUT_S = 60


def shebang_problem(first_line: str) -> str | None:
    """Why the first line is not a shell's shebang; None when it is."""
    if not first_line.startswith("#!"):
        return "no shebang (#!/usr/bin/env bash) on its first line"
    words = first_line[2:].split()
    program = words[0].rsplit("/", 1)[-1] if words else ""
    if program == "env" and len(words) > 1:
        program = words[1]
    return None if program in _SHELLS else f"its shebang runs {program or 'nothing'}, not a shell"


def _bash_n(script: Path, root: Path) -> str | None:
    bash = shutil.which("bash") or "/bin/bash"
    argv = [bash, "-n", str(script.relative_to(root))]  # its messages name the repository path
    try:
        done = subprocess.run(
            argv, cwd=root, capture_output=True, text=True, timeout=_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bash -n did not run: {exc}"
    if done.returncode == 0:
        return None
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    return "bash -n: " + (" / ".join(lines[:2]) or f"exit {done.returncode}")


def shellcheck_errors(script: Path, root: Path) -> list[str] | None:
    """shellcheck's error-severity findings (``-x``: sourced files followed from ``root``);
    None when shellcheck is not installed."""
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        return None
    argv = [shellcheck, "-x", "-S", "error", "-f", "json1", str(script.relative_to(root))]
    try:
        done = subprocess.run(
            argv, cwd=root, capture_output=True, text=True, timeout=_TIMEOUT_S, check=False
        )
        comments = json.loads(done.stdout or "{}").get("comments", [])
    except (OSError, subprocess.TimeoutExpired, json.JSONDecodeError, AttributeError) as exc:
        return [f"shellcheck did not run: {exc}"]
    return [
        f"{c.get('file')}:{c.get('line')}: SC{c.get('code')} {c.get('message')}"
        for c in comments
        if isinstance(c, dict)
    ]


def check_shell_script(script: Path, root: Path, rid: str = "DEP-DEPLOY-SCRIPT") -> RepoFinding:
    """Shebang, executable bit, ``bash -n`` and shellcheck's errors."""
    text = script.read_text(encoding="utf-8", errors="replace")
    problems: list[str] = []
    shebang = shebang_problem(text.splitlines()[0] if text else "")
    if shebang:
        problems.append(shebang)
    if not os.access(script, os.X_OK):
        problems.append(f"not executable (chmod +x {script.relative_to(root)})")
    syntax = _bash_n(script, root)
    if syntax:
        problems.append(syntax)
    evidence = [f"first line: {text.splitlines()[0][:60] if text else '(empty)'}"]
    errors = shellcheck_errors(script, root)
    if errors is None:
        evidence.append(SHELLCHECK_MISSING)
    else:
        evidence.append(f"shellcheck -S error: {len(errors)} findings")
        problems += errors[:5]
    return finding(rid, problems, evidence)
