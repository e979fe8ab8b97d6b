"""The HTML report of a run's Allure results, rendered by Allure 3 (npm package ``allure``,
pure Node: no Java). It is installed on first use into a cache shared by every run on the
machine: ``$HARNESS_ALLURE_HOME``, by default ``~/.cache/harness/allure-<version>``."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harness.errors import HarnessError

ALLURE_VERSION = "3.18.0"  # exact: a report looks the same on every machine
HOME_ENV = "HARNESS_ALLURE_HOME"
INSTALL_TIMEOUT_S = 600
GENERATE_TIMEOUT_S = 600
# Allure 3's page loads Google Analytics (its "awesome" template ignores ALLURE_NO_ANALYTICS):
# a compliance report of a deployment must not tell a third party it was opened
_ANALYTICS = re.compile(
    r'\s*<script async src="https://www\.googletagmanager\.com/[^"]*"></script>'
    r"\s*<script>[^<]*gtag\([^<]*</script>"
)
_NO_NODE = (
    "Allure 3 needs Node.js and npm, and {missing} is not on PATH: install them "
    "(apt-get install nodejs npm) or leave the HTML report out with --no-allure"
)


class AllureUnavailable(HarnessError):
    """Allure 3 cannot run here: no Node or npm, its install or its run failed (one line)."""


@dataclass
class AllureBuild:
    index: Path
    size_bytes: int
    seconds: float


def allure_home() -> Path:
    named = os.environ.get(HOME_ENV)
    if named:
        return Path(named).expanduser()
    return Path.home() / ".cache" / "harness" / f"allure-{ALLURE_VERSION}"


def _cli_js(home: Path) -> Path:
    return home / "node_modules" / "allure" / "cli.js"


def _which(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise AllureUnavailable(_NO_NODE.format(missing=name))
    return found


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no output"


def ensure_allure(progress: Callable[[str], None]) -> Path:
    """The cached Allure 3 command-line script, installed with npm if it is not there yet.

    npm installs into a fresh folder next to the cache and that folder is renamed into place,
    so a run that starts meanwhile never sees half an install."""
    home = allure_home()
    cli = _cli_js(home)
    if cli.is_file():
        return cli
    npm = _which("npm")
    _which("node")
    home.parent.mkdir(parents=True, exist_ok=True)
    progress(f"installing Allure {ALLURE_VERSION} from npm into {home} (once per machine) ...")
    staging = Path(tempfile.mkdtemp(prefix=f".{home.name}-", dir=home.parent))
    try:
        command = [npm, "install", "--prefix", str(staging), "--no-audit", "--no-fund"]
        command += ["--loglevel=error", f"allure@{ALLURE_VERSION}"]
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired:
            raise AllureUnavailable(
                f"npm did not install allure@{ALLURE_VERSION} in {INSTALL_TIMEOUT_S} s"
            ) from None
        if done.returncode != 0 or not _cli_js(staging).is_file():
            raise AllureUnavailable(
                f"npm could not install allure@{ALLURE_VERSION}: {_last_line(done.stderr)}"
            )
        try:
            staging.rename(home)
        except OSError:
            if not cli.is_file():  # another run finished first, or the cache is not writable
                raise AllureUnavailable(f"cannot write the Allure cache {home}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return cli


def folder_size(root: Path) -> int:
    return sum(path.stat().st_size for path in root.rglob("*") if path.is_file())


def _clear(out: Path) -> None:
    """Remove the previous report at ``out``; never a folder that is something else."""
    if not out.exists():
        return
    if out.is_dir() and (not any(out.iterdir()) or (out / "index.html").is_file()):
        shutil.rmtree(out)
        return
    raise AllureUnavailable(f"{out} exists and is not an Allure report; remove it or pick another")


def build_allure_report(results: Path, out: Path, progress: Callable[[str], None]) -> AllureBuild:
    """Render ``results`` (allure-results) into ``out`` with ``out/index.html``."""
    if not results.is_dir() or not any(results.glob("*-result.json")):
        raise AllureUnavailable(f"no Allure results in {results}; run `harness gate` first")
    cli = ensure_allure(progress)
    node = _which("node")
    _clear(out)
    command = [node, str(cli), "generate", str(results), "--output", str(out)]
    command += ["--report-name", "Production readiness"]
    started = time.monotonic()
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=GENERATE_TIMEOUT_S,
            check=False,
            env=os.environ | {"NO_COLOR": "1", "ALLURE_NO_ANALYTICS": "true"},
        )
    except subprocess.TimeoutExpired:
        raise AllureUnavailable(f"allure generate took more than {GENERATE_TIMEOUT_S} s") from None
    seconds = time.monotonic() - started
    index = out / "index.html"
    if done.returncode != 0 or not index.is_file():
        raise AllureUnavailable(f"allure generate failed: {_last_line(done.stderr + done.stdout)}")
    page = index.read_text(encoding="utf-8")
    index.write_text(_ANALYTICS.sub("", page), encoding="utf-8")
    return AllureBuild(index=index, size_bytes=folder_size(out), seconds=seconds)
