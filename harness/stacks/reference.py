"""The reference app as a program: what the harness needs of it (its mutants, where its files
are, its nginx configs) comes from its command line, run with this interpreter
(``python -m reference_app mutants|paths|nginx-conf``). The harness never imports it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from harness.errors import ConfigError, HarnessError

PROG = "reference_app"
TIMEOUT_S = 60


class ReferenceAppError(HarnessError):
    """A command of the reference app failed; the message is its one-line reason."""


@dataclass(frozen=True)
class AppPaths:
    """Where the installed reference app keeps the files its images are built from."""

    package: Path  # the package folder (the backend image's sources)
    deploy: Path  # Dockerfiles, compose file, nginx.conf
    frontend: Path  # the nginx template and the static files
    static: Path
    project: Path  # the reference repository (its monitoring/ configures the stack's Prometheus)


@dataclass(frozen=True)
class MutantInfo:
    """One mutant as the app describes it."""

    name: str
    breaks: tuple[str, ...]
    description: str
    frontend: bool  # rewrites the frontend's nginx.conf
    image: dict[str, str]  # service -> Dockerfile lines deriving the defective image


def run_app(*args: str) -> str:
    """``python -m reference_app ARGS`` with this interpreter; its stdout."""
    # the app's own settings play no part in what these commands print
    env = {k: v for k, v in os.environ.items() if k != "REFERENCE_APP_MUTANT"}
    try:
        proc = subprocess.run(
            [sys.executable, "-m", PROG, *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ReferenceAppError(f"{PROG} {args[0]} did not answer in {TIMEOUT_S} s") from None
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        reason = lines[-1] if lines else f"exit code {proc.returncode}"
        reason = reason.removeprefix(f"{PROG}: ").removeprefix("error: ")
        raise ReferenceAppError(f"{PROG} {args[0]} failed: {reason}")
    return proc.stdout


def _json(*args: str) -> Any:
    text = run_app(*args)
    try:
        return json.loads(text)
    except ValueError:
        raise ReferenceAppError(f"{PROG} {args[0]} printed no JSON: {text[:80]!r}") from None


@cache
def app_paths() -> AppPaths:
    data = _json("paths")
    return AppPaths(
        *(Path(data[name]) for name in ("package", "deploy", "frontend", "static", "project"))
    )


@cache
def mutants() -> dict[str, MutantInfo]:
    return {
        name: MutantInfo(
            name=name,
            breaks=tuple(entry["breaks"]),
            description=entry["description"],
            frontend=bool(entry["frontend"]),
            image=dict(entry["image"]),
        )
        for name, entry in _json("mutants").items()
    }


def check_mutant(name: str) -> MutantInfo:
    """The mutant ``name``; ConfigError (one line, exit 2) names the known ones."""
    known = mutants()
    if name not in known:
        raise ConfigError(f"unknown mutant {name!r}; known: {', '.join(sorted(known))}")
    return known[name]


def image_nginx_conf(mutant: str | None = None) -> str:
    """The frontend image's nginx.conf (with ``mutant``'s change)."""
    return run_app("nginx-conf", "--image", *(["--mutant", mutant] if mutant else []))


def write_local_nginx_conf(
    path: Path,
    *,
    listen_port: int,
    backend_url: str,
    prefix: Path,
    mutant: str | None = None,
    tls_port: int | None = None,
    tls_dir: Path | None = None,
) -> None:
    """nginx.conf for a local nginx in front of the app (``prefix`` gets its temp dirs)."""
    args = ["--listen-port", str(listen_port), "--backend-url", backend_url]
    args += ["--prefix", str(prefix), "--output", str(path)]
    if mutant:
        args += ["--mutant", mutant]
    if tls_port is not None and tls_dir is not None:
        args += ["--tls-port", str(tls_port), "--tls-dir", str(tls_dir)]
    run_app("nginx-conf", *args)
