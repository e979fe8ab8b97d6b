"""The built wheel stands alone: it holds every file of the project's packages, and installed
into a fresh virtualenv outside the checkout, ``harness gate --target-url URL`` collects every
suite and finds every data file (corpora, schemas, the catalogue)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import clean_env, production_env, served_app

REPO = Path(__file__).resolve().parent.parent
# repository folder -> where the wheel puts it (pyproject.toml: package-dir)
SHIPPED = {
    "harness": "harness",
    "fixtures": "harness/fixtures",
    "suites": "harness/suites",
    "reference_app": "reference_app",
}
_SKIPPED_PARTS = {"__pycache__", "wheelhouse"}
# this project's own entries of the dev venv: the fresh venv gets them from the wheel only
_OWN = re.compile(r"^(harness|reference_app|prodready_harness.*|__editable__.*)$")
# few checks, but every data file the suites read: corpora, the health schema
REQUIREMENTS = (
    "SEC-VAL-SQLI",
    "SEC-VAL-FALSE-POSITIVES",
    "MON-HEALTH-001",
    "SEC-HDR-NOSNIFF",
)
MISSING_DATA = ("CorpusError", "FileNotFoundError", "not found", "is missing", "ResourceError")


def _project_files() -> dict[str, Path]:
    """Path inside the wheel -> file in the checkout, for every file the wheel must hold."""
    found = {}
    for folder, shipped in SHIPPED.items():
        for path in sorted((REPO / folder).rglob("*")):
            relative = path.relative_to(REPO / folder)
            skipped = _SKIPPED_PARTS & set(relative.parts) or path.suffix == ".pyc"
            if path.is_file() and not skipped:
                found[f"{shipped}/{relative.as_posix()}"] = path
    return found


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built from a copy so that the checkout gets no build/ folder."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    for folder in SHIPPED:
        shutil.copytree(
            REPO / folder, source / folder, ignore=shutil.ignore_patterns(*_SKIPPED_PARTS, "*.pyc")
        )
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
    proc = subprocess.run(
        [*build, "-w", str(work / "dist"), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (built,) = (work / "dist").glob("prodready_harness-*.whl")
    return built


def test_the_wheel_holds_every_file_of_the_packages(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    missing = sorted(set(_project_files()) - names)
    assert not missing, f"{len(missing)} files are not in the wheel: {missing[:10]}"
    assert "harness/fixtures/corpora/injection/NOTICE" in names
    assert "harness/spec/production-readiness.md" in names


def _dev_site_packages(venv_dir: Path) -> Path:
    """A folder of links to the dev venv's installed distributions, minus this project."""
    links = venv_dir / "dev-site-packages"
    links.mkdir()
    site = Path(sysconfig.get_paths()["purelib"])
    for entry in site.iterdir():
        if not _OWN.match(entry.name) and not entry.name.endswith(".pth"):
            (links / entry.name).symlink_to(entry)
    return links


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv (outside the checkout) with the wheel; its dependencies are the dev
    venv's, linked through a .pth file, so that no package index is needed."""
    venv_dir = tmp_path_factory.mktemp("venv")
    venv.create(venv_dir, with_pip=False, symlinks=True)
    python = venv_dir / "bin" / "python"
    install = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q"]
    proc = subprocess.run(
        [*install, "--no-deps", "--no-index", str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    site = Path(
        subprocess.check_output(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            text=True,
        ).strip()
    )
    (site / "dev-dependencies.pth").write_text(f"{_dev_site_packages(venv_dir)}\n")
    return venv_dir


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The reference app started separately, as a user's deployment (always stopped)."""
    workdir = tmp_path_factory.mktemp("app")
    env = production_env(workdir, SECURITY_RATE_LIMIT_EXEMPT="127.0.0.1")
    with served_app(workdir, env) as url:
        yield url


def _gate(venv_dir: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = clean_env()
    env.pop("PYTHONPATH", None)  # the installed harness only, never the checkout
    env["PATH"] = f"{venv_dir / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run(
        [str(venv_dir / "bin" / "harness"), "gate", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_installed_harness_collects_every_suite(
    installed: Path, app_url: str, tmp_path: Path
) -> None:
    result = _gate(installed, tmp_path, "--target-url", app_url, "-v", "--", "--collect-only")
    output = result.stdout + result.stderr
    # node ids, per-file counts or the tree, whichever verbosity the gate runs pytest with
    collected = set(re.findall(r"(test_\w+\.py)(?:::|: \d+$|>)", output, flags=re.M))
    expected = {path.name for path in (REPO / "suites").glob("test_*.py")}
    assert collected == expected, output[-3000:]
    assert str(REPO) not in output  # nothing came from the checkout
    assert "cannot be rewritten; harness" not in output
    assert not re.search(r"^ERROR", output, flags=re.M), output[-3000:]


def test_the_installed_gate_finds_every_data_file(
    installed: Path, app_url: str, tmp_path: Path
) -> None:
    selected = [f"--requirement={rid}" for rid in REQUIREMENTS]
    result = _gate(installed, tmp_path, "--target-url", app_url, "--report-dir=out", *selected)
    output = result.stdout + result.stderr
    assert not [word for word in MISSING_DATA if word in output], output[-3000:]
    matrix_path = tmp_path / "out" / "matrix.json"
    assert matrix_path.is_file(), output[-3000:]
    matrix = json.loads(matrix_path.read_text(encoding="utf-8"))
    verdicts = {entry["id"]: entry["verdict"] for entry in matrix["requirements"]}
    assert {rid: verdicts[rid] for rid in REQUIREMENTS} == dict.fromkeys(REQUIREMENTS, "passed")
