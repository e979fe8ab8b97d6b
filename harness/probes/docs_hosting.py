"""Static hosts' configurations of a docs site (``netlify.toml``, ``vercel.json``): does the
build command run ``mkdocs build`` on the docs' own mkdocs.yml, and is the folder the host
publishes the one mkdocs writes the site to. Pure: the caller reads the files."""

from __future__ import annotations

import json
import os
import re
import shlex
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.probes.mkdocs_site import DocsProject, Page, site_dir

NETLIFY = "netlify.toml"
VERCEL = "vercel.json"
_SEPARATORS = re.compile(r"&&|\|\||;|\n")


class HostingConfigError(ValueError):
    """The host's file does not parse; one line."""


@dataclass(frozen=True)
class HostingConfig:
    """Where the host runs the build command, the command, and the folder it publishes."""

    file: Path
    base: Path
    command: str | None
    publish: Path | None
    publish_setting: str


def netlify_config(file: Path, text: str, root: Path) -> HostingConfig:
    """Netlify: ``[build] base`` is relative to the repository root (else the file's folder,
    the base directory it is read from); ``command`` runs there and ``publish`` is under it."""
    try:
        build = tomllib.loads(text).get("build") or {}
    except tomllib.TOMLDecodeError as exc:
        raise HostingConfigError(f"{file.name}: not valid TOML ({exc})") from None
    base = root / str(build["base"]) if build.get("base") else file.parent
    publish = build.get("publish")
    return HostingConfig(
        file, base, _text(build.get("command")), base / str(publish) if publish else None, "publish"
    )


def vercel_config(file: Path, text: str) -> HostingConfig:
    """Vercel: the file lives in the project's root directory, where ``buildCommand`` runs;
    ``outputDirectory`` is under it."""
    try:
        settings: Any = json.loads(text)
    except ValueError as exc:
        raise HostingConfigError(f"{file.name}: not valid JSON ({exc})") from None
    if not isinstance(settings, dict):
        raise HostingConfigError(f"{file.name}: not a JSON object")
    output = settings.get("outputDirectory")
    base = file.parent
    return HostingConfig(
        file,
        base,
        _text(settings.get("buildCommand")),
        base / str(output) if output else None,
        "outputDirectory",
    )


def _text(value: Any) -> str | None:
    return str(value) if value else None


def _mkdocs_build(words: list[str]) -> list[str] | None:
    """The arguments after ``build`` when ``words`` run ``mkdocs build`` (also as
    ``python -m mkdocs build``)."""
    for index, word in enumerate(words[:-1]):
        if (word == "mkdocs" or word.endswith("/mkdocs")) and words[index + 1] == "build":
            return words[index + 2 :]
    return None


def _option(arguments: list[str], short: str, long: str) -> str | None:
    for index, word in enumerate(arguments):
        if word in (short, long) and index + 1 < len(arguments):
            return arguments[index + 1]
        if word.startswith(f"{long}="):
            return word.split("=", 1)[1]
    return None


def build_outputs(command: str, cwd: Path) -> tuple[Path, Path | None] | None:
    """(mkdocs.yml it reads, site folder given on its command line or None) of the command's
    ``mkdocs build``, following ``cd``; None when it runs no mkdocs build."""
    for segment in _SEPARATORS.split(command):
        try:
            words = shlex.split(segment)
        except ValueError:
            continue
        if words[:1] == ["cd"] and len(words) > 1:
            cwd = cwd / words[1]
        elif (arguments := _mkdocs_build(words)) is not None:
            config = cwd / (_option(arguments, "-f", "--config-file") or "mkdocs.yml")
            site = _option(arguments, "-d", "--site-dir")
            return config, cwd / site if site else None
    return None


def _same(first: Path, second: Path) -> bool:
    return os.path.normpath(first) == os.path.normpath(second)


def hosting_problems(
    config: HostingConfig, mkdocs_file: Path, site_of: Callable[[Path], Path], root: Path
) -> list[str]:
    """What keeps the host from publishing the site; ``site_of(config_path)`` gives the site
    folder mkdocs.yml at that path sets."""

    def shown(path: Path) -> str:
        return os.path.relpath(os.path.normpath(path), root)

    name = shown(config.file)
    if not config.command:
        return [f"{name} sets no build command"]
    outputs = build_outputs(config.command, config.base)
    if outputs is None:
        return [f"{name}: the build command {config.command!r} does not run mkdocs build"]
    read, site = outputs
    if not _same(read, mkdocs_file):
        return [f"{name}: mkdocs build reads {shown(read)}, not the docs' {shown(mkdocs_file)}"]
    written = site or site_of(read)
    if config.publish is None:
        return [
            f"{name} sets no {config.publish_setting}: the host would not publish {shown(written)}"
        ]
    if not _same(config.publish, written):
        return [
            f"{name} publishes {shown(config.publish)}, but mkdocs build writes the site "
            f"to {shown(written)}"
        ]
    return []


def guide_for(host: str, pages: Iterable[Page], site_folder: str) -> Page | None:
    """A page that tells how to publish on ``host``: it names the host, runs mkdocs build and
    names the folder to publish."""
    for page in pages:
        text = page.text.lower()
        if host.lower() in text and "mkdocs build" in text and site_folder.lower() in text:
            return page
    return None


def judge_host(host: str, file_name: str, docs: DocsProject, root: Path) -> tuple[str, list[str]]:
    """How the site is published on ``host`` (its ``file_name`` beside mkdocs.yml or at the
    repository's root, else a guide page) and what keeps it from working; the problems are
    empty when it works."""
    folder = docs.config_file.parent
    found = next((p for p in (folder / file_name, root / file_name) if p.is_file()), None)
    site_folder = site_dir(docs.config_file, docs.config)
    if found is None:
        guide = guide_for(host, docs.pages, site_folder.name)
        if guide is not None:
            return f"the guide {guide.path}", []
        where = os.path.relpath(folder, root)
        return "nothing", [
            f"no {file_name} in {where}/ or the repository root, and no page tells how to "
            f"publish the site on {host} (mkdocs build, then {site_folder.name}/)"
        ]
    text = found.read_text(encoding="utf-8", errors="replace")
    shown = os.path.relpath(found, root)
    try:
        if file_name == NETLIFY:
            config = netlify_config(found, text, root)
        else:
            config = vercel_config(found, text)
    except HostingConfigError as exc:
        return shown, [str(exc)]

    def site_of(mkdocs_file: Path) -> Path:
        return site_dir(mkdocs_file, docs.config if mkdocs_file == docs.config_file else {})

    return f"{shown}: {config.command}", hosting_problems(config, docs.config_file, site_of, root)
