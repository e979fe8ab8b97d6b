"""Harness settings from pyproject, harness.toml, HARNESS_* variables and options (last wins)."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from harness.errors import ConfigError
from harness.report.attestations import Attestation, load_attestations
from harness.report.waivers import Waiver, load_waivers
from harness.spec import PROFILES, Catalogue, CatalogueError, load_catalogue

STACKS = ("embedded", "url", "containers")
SETTINGS = (
    "target_url",
    "stack",
    "profile",
    "allow_hosts",
    "report_dir",
    "mutant",
    "image",
    "load_profile",
    "load_workers",
    "waivers",
    "attestations",
    "project_root",
)
LOAD_PROFILES = ("quick", "full")
ENV_PREFIX = "HARNESS_"
PARAM_ENV_PREFIX = "HARNESS_PARAM_"


@dataclass(frozen=True)
class HarnessConfig:
    """Everything a run needs to know, resolved once."""

    stack: str
    profile: str
    target_url: str | None = None
    allow_hosts: tuple[str, ...] = ()
    report_dir: Path = Path("reports")
    mutant: str | None = None
    image: str | None = None  # the user's backend image, run in the containers stack
    load_profile: str = "quick"  # quick: each load scenario shortened to seconds; full: nightly
    load_workers: int = 0  # locust worker processes beside the master (0: one local process)
    # the deployment's repository, for the checks of its files; None: they skip
    project_root: Path | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    # requirement id -> its waiver (harness.report.waivers), from the ``waivers`` file
    waivers: Mapping[str, Waiver] = field(default_factory=dict)
    # requirement id -> its attestation (harness.report.attestations), expired ones included
    attestations: Mapping[str, Attestation] = field(default_factory=dict)
    # where each setting and parameter came from: default, pyproject.toml, harness.toml, env, cli
    sources: Mapping[str, str] = field(default_factory=dict)

    def param(self, name: str) -> Any:
        try:
            return self.params[name]
        except KeyError:
            raise ConfigError(f"unknown parameter {name!r}") from None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}; fix the file or remove it") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None


def _file_layers(project_dir: Path, config_file: Path | None) -> list[tuple[str, dict[str, Any]]]:
    layers: list[tuple[str, dict[str, Any]]] = []
    pyproject = project_dir / "pyproject.toml"
    if pyproject.is_file():
        tool = _read_toml(pyproject).get("tool", {}).get("harness")
        if tool is not None:
            if not isinstance(tool, dict):
                raise ConfigError(f"{pyproject}: [tool.harness] must be a table")
            layers.append((f"{pyproject.name} [tool.harness]", tool))
    if config_file is not None:
        if not config_file.is_file():
            raise ConfigError(f"{config_file}: no such config file; check --harness-config")
        layers.append((str(config_file), _read_toml(config_file)))
    elif (project_dir / "harness.toml").is_file():
        layers.append(("harness.toml", _read_toml(project_dir / "harness.toml")))
    return layers


def _env_layer(env: Mapping[str, str], catalogue: Catalogue) -> dict[str, Any]:
    layer: dict[str, Any] = {}
    for key in SETTINGS:
        value = env.get(ENV_PREFIX + key.upper())
        if value:
            layer[key] = value.split(",") if key == "allow_hosts" else value
    params: dict[str, Any] = {}
    for key, value in env.items():
        if key.startswith(PARAM_ENV_PREFIX):
            name = key[len(PARAM_ENV_PREFIX) :].lower()
            if name not in catalogue.parameters:
                raise ConfigError(f"{key}: unknown parameter {name!r}; see `harness params`")
            params[name] = value
    if params:
        layer["params"] = params
    return layer


def parse_param_assignments(items: Sequence[str]) -> dict[str, str]:
    """Parse ``NAME=VALUE`` strings from ``--param``."""
    params: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ConfigError(f"--param {item!r}: expected NAME=VALUE, e.g. --param p95_ms=400")
        params[name.strip()] = value
    return params


def _merge(
    layers: list[tuple[str, dict[str, Any]]], catalogue: Catalogue
) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    settings: dict[str, Any] = {}
    raw_params: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for source, layer in layers:
        for key, value in layer.items():
            if key == "params":
                if not isinstance(value, dict):
                    raise ConfigError(f"{source}: 'params' must be a table of NAME = value")
                for name, param_value in value.items():
                    parameter = catalogue.parameters.get(name)
                    if parameter is None:
                        raise ConfigError(
                            f"{source}: unknown parameter {name!r}; see `harness params`"
                        )
                    try:
                        raw_params[name] = parameter.coerce(param_value, source=source)
                    except CatalogueError as exc:
                        raise ConfigError(str(exc)) from None
                    sources[f"params.{name}"] = source
            elif key in SETTINGS:
                if value is not None:
                    settings[key] = value
                    sources[key] = source
            else:
                known = ", ".join((*SETTINGS, "params"))
                raise ConfigError(f"{source}: unknown setting {key!r} (known: {known})")
    return settings, raw_params, sources


def validate_url(url: str) -> str:
    """Reject what is not an absolute http(s) URL, with a fix-it message."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigError(
            f"target URL {url!r} is not an absolute http(s) URL; "
            "use e.g. --target-url http://127.0.0.1:8000"
        )
    try:
        parts.port  # noqa: B018  (raises on a malformed port)
    except ValueError:
        raise ConfigError(f"target URL {url!r} has an invalid port") from None
    return url.rstrip("/")


def load_config(
    *,
    cli: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    project_dir: Path | None = None,
    config_file: Path | None = None,
    catalogue: Catalogue | None = None,
) -> HarnessConfig:
    """Resolve the configuration; raises ConfigError with a one-line message."""
    catalogue = catalogue or load_catalogue()
    env = os.environ if env is None else env
    project_dir = project_dir or Path.cwd()
    layers = _file_layers(project_dir, config_file)
    layers.append(("environment", _env_layer(env, catalogue)))
    layers.append(("command line", {k: v for k, v in (cli or {}).items() if v not in (None, ())}))
    settings, params, sources = _merge(layers, catalogue)

    profile = str(settings.get("profile", "production"))
    if profile not in PROFILES:
        where = sources.get("profile", "default")
        raise ConfigError(f"{where}: profile {profile!r} is not one of {', '.join(PROFILES)}")
    target_url = settings.get("target_url")
    image = str(settings["image"]).strip() if settings.get("image") else None
    stack = settings.get("stack") or (
        "url" if target_url else "containers" if image else "embedded"
    )
    if stack not in STACKS:
        raise ConfigError(
            f"{sources.get('stack', 'default')}: stack {stack!r} is not one of {', '.join(STACKS)}"
        )
    if stack == "url" and not target_url:
        raise ConfigError("stack 'url' needs a target: pass --target-url URL")
    if stack in ("embedded", "containers") and target_url and sources.get("stack"):
        raise ConfigError(f"--stack {stack} starts its own app; drop --target-url or the stack")
    if image and (target_url or stack != "containers"):
        other = "--target-url" if target_url else f"--stack {stack}"
        raise ConfigError(
            f"--image runs your backend image in the containers stack; drop {other} or the image"
        )
    if target_url:
        stack = "url"
        target_url = validate_url(str(target_url))
    mutant = settings.get("mutant")
    if mutant and (stack not in ("embedded", "containers") or settings.get("image")):
        raise ConfigError(
            "--mutant needs the embedded or containers stack with the reference images "
            "(it starts a defective reference app)"
        )

    load_profile = str(settings.get("load_profile", "quick"))
    if load_profile not in LOAD_PROFILES:
        where = sources.get("load_profile", "default")
        raise ConfigError(f"{where}: load profile {load_profile!r} is not quick or full")
    load_workers = _load_workers(settings.get("load_workers", 0), sources)
    allow_hosts = settings.get("allow_hosts", ())
    if isinstance(allow_hosts, str):
        allow_hosts = [allow_hosts]
    resolved = {p.name: p.default_for(profile) for p in catalogue.parameters.values()}
    resolved.update(params)
    project_root = _project_root(settings.get("project_root"), project_dir, sources)
    if "project_root" in params:
        raise ConfigError(
            f"{sources['params.project_root']}: the repository is a setting, not a parameter: "
            "use --project-root DIR (config key project_root, HARNESS_PROJECT_ROOT)"
        )
    # the catalogue's parameter shows the repository in the rows of the checks that read it
    resolved["project_root"] = str(project_root) if project_root else None
    waivers_file = settings.get("waivers")
    waivers = (
        load_waivers(project_dir / str(waivers_file), catalogue.requirements)
        if waivers_file
        else {}
    )
    attestations_file = settings.get("attestations")
    attestations = (
        load_attestations(project_dir / str(attestations_file), catalogue)
        if attestations_file
        else {}
    )
    return HarnessConfig(
        stack=stack,
        profile=profile,
        target_url=target_url,
        allow_hosts=tuple(str(h) for h in allow_hosts),
        report_dir=Path(settings.get("report_dir", "reports")),
        mutant=str(mutant) if mutant else None,
        image=image,
        load_profile=load_profile,
        load_workers=load_workers,
        params=resolved,
        waivers=waivers,
        attestations=attestations,
        project_root=project_root,
        sources=sources,
    )


def _project_root(value: Any, base: Path, sources: Mapping[str, str]) -> Path | None:
    """The repository's root, absolute; a path that is no directory is refused before any
    check runs, so a typo cannot turn every file check into a skip."""
    if value is None or not str(value).strip():
        return None
    where = sources.get("project_root", "default")
    root = (base / str(value).strip()).resolve()
    if not root.exists():
        raise ConfigError(
            f"{where}: project root {str(value)!r} does not exist; pass "
            "--project-root DIR, the root of the deployment's repository"
        )
    if not root.is_dir():
        raise ConfigError(
            f"{where}: project root {str(value)!r} is not a directory; pass "
            "--project-root DIR, the root of the deployment's repository"
        )
    return root


def _load_workers(value: Any, sources: Mapping[str, str]) -> int:
    where = sources.get("load_workers", "default")
    try:
        workers = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: load workers {value!r} is not a whole number") from None
    if not 0 <= workers <= 64:
        raise ConfigError(f"{where}: load workers must be between 0 and 64, not {workers}")
    return workers
