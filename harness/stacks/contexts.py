"""Build contexts of the local images: fixture Dockerfiles, the backend's wheelhouse, the
frontend's rendered nginx config."""

from __future__ import annotations

import email.parser
import importlib.metadata
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from harness.resources import fixture_path
from harness.stacks import reference
from harness.stacks.builder import ContextFile, ImageBuildError
from harness.stacks.docker_env import LABEL, LABEL_KIND
from harness.stacks.rootfs import fresh_workdir

if TYPE_CHECKING:
    import docker

BACKEND_DOCKERFILE = "backend.Dockerfile"
FRONTEND_DOCKERFILE = "deploy/frontend.Dockerfile"

# What the reference app imports at run time; versions come from the installed project's
# metadata (pyproject.toml's dependencies).
RUNTIME_REQUIREMENTS = (
    "fastapi",
    "uvicorn",
    "sqlalchemy",
    "greenlet",
    "alembic",
    "aiosqlite",
    "asyncpg",
    "pydantic",
    "pydantic-settings",
    "redis",
    "argon2-cffi",
    "limits",
    "httpx",
    "pyotp",
    "nh3",
    "email-validator",
    "python-multipart",
    "puremagic",
    "prometheus-client",
)
PROJECT = "prodready-harness"
NGINX_CONF_HEADER = (
    "# GENERATED from reference_app/frontend/nginx.conf.template: do not edit; regenerate with\n"
    "#   .venv/bin/python -m harness.stacks nginx-conf > reference_app/deploy/nginx.conf\n"
)
# every file of the copied package is data of it: migrations and templates included
_APP_PYPROJECT = """\
[build-system]
requires = ["setuptools>=77"]
build-backend = "setuptools.build_meta"

[project]
name = "{project}"
version = "{version}"
requires-python = ">=3.11"
dependencies = [{dependencies}]

[tool.setuptools]
packages = ["reference_app"]

[tool.setuptools.package-data]
reference_app = ["**/*"]
"""
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_PROBE = (
    "import platform, sys; "
    "print('%d.%d.%d' % sys.version_info[:3], platform.machine(), *platform.libc_ver())"
)


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _present(path: Path) -> Path:
    if not path.exists():
        raise ImageBuildError(f"{path} is missing; reinstall the harness")
    return path


def service_context(role: str) -> dict[str, ContextFile]:
    """``fixtures/images/<role>/``: the Dockerfile and the files it copies."""
    directory = fixture_path("images", role)
    return {path.name: path for path in directory.iterdir()}


def image_nginx_conf() -> str:
    """``reference_app/deploy/nginx.conf`` as it must read: the template rendered for the image."""
    return NGINX_CONF_HEADER + reference.image_nginx_conf()


def frontend_context() -> dict[str, ContextFile]:
    """The frontend's context, laid out like ``reference_app/`` (the compose build context)."""
    app = reference.app_paths()
    return {
        FRONTEND_DOCKERFILE: _present(app.deploy / "frontend.Dockerfile"),
        "deploy/frontend-healthcheck.sh": _present(app.deploy / "frontend-healthcheck.sh"),
        "deploy/nginx.conf": image_nginx_conf().encode(),
        "frontend/static": _present(app.static),
    }


@dataclass(frozen=True)
class PythonTarget:
    """The interpreter of an image, as far as wheel tags care."""

    version: str  # "3.11.2": markers such as python_full_version < "3.11.3" need all three
    machine: str  # "x86_64"
    glibc: str  # "2.36"

    def marker_environment(self) -> dict[str, str]:
        """PEP 508 marker values of the target (pip evaluates markers for the host only)."""
        from packaging.markers import default_environment

        env = {key: str(value) for key, value in default_environment().items()}
        major_minor = ".".join(self.version.split(".")[:2])
        env.update(
            python_full_version=self.version,
            python_version=major_minor,
            implementation_version=self.version,
            platform_machine=self.machine,
        )
        return env

    def pip_download_args(self) -> list[str]:
        major, minor = self.glibc.split(".")[:2]
        platforms = [f"manylinux_{major}_{m}_{self.machine}" for m in range(int(minor), 4, -1)]
        platforms += [f"manylinux2014_{self.machine}", f"manylinux2010_{self.machine}"]
        abi = "cp" + "".join(self.version.split(".")[:2])
        args = ["--only-binary=:all:", "--implementation", "cp", "--abi", abi]
        args += ["--python-version", self.version]
        for platform in platforms:
            args += ["--platform", platform]
        return args


def probe_python(client: docker.DockerClient, image: str) -> PythonTarget:
    """Ask ``image`` for its Python version, machine and glibc (a throwaway container)."""
    output = client.containers.run(
        image,
        ["python3", "-c", _PROBE],
        entrypoint=[],
        remove=True,
        network_disabled=True,
        labels={LABEL: "1", LABEL_KIND: "probe"},
    )
    words = output.decode().split()
    if len(words) != 4 or words[2] != "glibc":
        raise ImageBuildError(
            f"{image} is not a glibc-based Python image (it reports {' '.join(words)!r})"
        )
    return PythonTarget(version=words[0], machine=words[1], glibc=words[3])


def runtime_requirements() -> list[str]:
    """The reference app's run-time requirements, pinned as the project declares them."""
    pinned: dict[str, str] = {}
    for requirement in importlib.metadata.requires(PROJECT) or []:
        match = _NAME.match(requirement)
        if match and ";" not in requirement:  # extras (dev) carry a marker
            pinned[_normalise(match.group(1))] = requirement
    missing = [name for name in RUNTIME_REQUIREMENTS if name not in pinned]
    if missing:
        raise ImageBuildError(f"{PROJECT} does not declare {', '.join(missing)}")
    return [pinned[name] for name in RUNTIME_REQUIREMENTS]


def _constraints() -> list[str]:
    # the versions the harness's own tests ran with, for the dependencies' dependencies too
    pins: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        name = _normalise(dist.metadata["Name"] or "")
        if name and name != PROJECT:
            pins.setdefault(name, f"{name}=={dist.version}")  # the first one on sys.path wins
    return sorted(pins.values())


def _pip(*args: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        lines = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
        tail = "\n".join(f"  | {line}" for line in lines[-30:])
        raise ImageBuildError(f"pip {args[0]} failed (exit {proc.returncode}):\n{tail}")


def app_source(source: Path) -> Path:
    """A project holding only the installed reference app (not the harness), to build the
    image's wheel from: the app's files and a pyproject.toml with its run-time pins."""
    shutil.copytree(
        reference.app_paths().package,
        source / "reference_app",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "deploy"),
    )
    pins = ", ".join(f'"{pin}"' for pin in runtime_requirements())
    (source / "pyproject.toml").write_text(
        _APP_PYPROJECT.format(
            project=PROJECT, version=importlib.metadata.version(PROJECT), dependencies=pins
        ),
        encoding="utf-8",
    )
    return source


def make_wheelhouse(dest: Path, target: PythonTarget) -> Path:
    """Wheels of the reference app and its run-time dependencies for ``target``, made on the
    host (pip inside a build container cannot reach the package index here)."""
    dest.mkdir(parents=True, exist_ok=True)
    requirements = dest / "requirements.txt"
    requirements.write_text("\n".join(runtime_requirements()) + "\n", encoding="utf-8")
    work = fresh_workdir("harness-wheelhouse-")
    try:
        constraints = work / "constraints.txt"
        constraints.write_text("\n".join(_constraints()) + "\n", encoding="utf-8")
        download = ["download", "--quiet", "--dest", str(dest), *target.pip_download_args()]
        _pip(*download, "-r", str(requirements), "-c", str(constraints))
        for _ in range(5):  # what the target's markers need beyond the host's
            missing = _missing_for_target(dest, target, runtime_requirements())
            if not missing:
                break
            _pip(*download, "-c", str(constraints), *missing)
        _pip("wheel", "--quiet", "--no-deps", "-w", str(dest), str(app_source(work / "src")))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return dest


def _requires_dist(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = email.parser.BytesParser().parsebytes(archive.read(name))
    return list(metadata.get_all("Requires-Dist") or [])


def _missing_for_target(dest: Path, target: PythonTarget, top_level: list[str]) -> list[str]:
    """Requirements of the wheels in ``dest`` that hold on ``target`` but have no wheel."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name, parse_wheel_filename

    wheels = {canonicalize_name(parse_wheel_filename(p.name)[0]): p for p in dest.glob("*.whl")}
    extras: dict[str, set[str]] = {}
    for text in top_level:
        requirement = Requirement(text)
        extras.setdefault(canonicalize_name(requirement.name), set()).update(requirement.extras)
    env = target.marker_environment()
    missing = set()
    for name, wheel in wheels.items():
        for text in _requires_dist(wheel):
            requirement = Requirement(text)
            marker = requirement.marker
            wanted = {"", *extras.get(name, ())}
            if marker is not None and not any(marker.evaluate(env | {"extra": e}) for e in wanted):
                continue
            if canonicalize_name(requirement.name) not in wheels:
                requirement.marker = None
                missing.add(str(requirement))
    return sorted(missing)


def backend_context(
    client: docker.DockerClient, python_image: str, workdir: Path
) -> dict[str, ContextFile]:
    """``backend.Dockerfile`` and a wheelhouse that fits ``python_image``."""
    target = probe_python(client, python_image)
    wheelhouse = make_wheelhouse(workdir / "wheelhouse", target)
    return {
        BACKEND_DOCKERFILE: _present(reference.app_paths().deploy / BACKEND_DOCKERFILE),
        "wheelhouse": wheelhouse,
    }


def build_context(
    client: docker.DockerClient,
    role: str,
    recipe: str,
    args: Mapping[str, str],
    workdir: Path,
) -> tuple[dict[str, ContextFile], str]:
    """The build context of ``role`` and the Dockerfile's name in it."""
    if recipe == "fixture":
        return service_context(role), "Dockerfile"
    if recipe == "backend":
        return backend_context(client, args["PYTHON_IMAGE"], workdir), BACKEND_DOCKERFILE
    if recipe == "frontend":
        return frontend_context(), FRONTEND_DOCKERFILE
    raise ImageBuildError(f"no recipe {recipe!r} for {role}")
