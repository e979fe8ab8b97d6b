"""An MkDocs project read as files: its ``mkdocs.yml``, the nav's sections and their pages,
whether a page says anything, the topics the spec asks for, the endpoints an API reference
names and the versions a changelog lists. Pure: the caller reads the files."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CONFIG_NAMES = ("mkdocs.yml", "mkdocs.yaml")
# requirement -> (what the spec calls the section, how its nav title may read)
SECTIONS: dict[str, tuple[str, str]] = {
    "DOC-SECTION-GETTING-STARTED": ("Getting Started", r"getting started|get started|quick ?start"),
    "DOC-SECTION-USER": ("user documentation", r"\buser|\busage\b|\busing\b"),
    "DOC-SECTION-API": ("API reference", r"\bapi\b"),
    "DOC-SECTION-ARCHITECTURE": ("architecture", r"architecture|\bdesign\b"),
    "DOC-SECTION-DEPLOYMENT": ("deployment guide", r"deploy"),
    "DOC-SECTION-DEVELOPMENT": ("development guide", r"develop|contribut"),
    "DOC-SECTION-SECURITY": ("security best practices", r"security"),
}
# the spec's topics (Troubleshooting > Getting Help) -> how a page's title may read
TOPICS: dict[str, str] = {
    "load testing": r"load[- ]?test",
    "security hardening": r"hardening",
    "deployment": r"deploy",
    "monitoring": r"monitoring",
    "quick start": r"quick ?start|getting started",
    "security checklist": r"checklist",
    "performance": r"performance",
    "troubleshooting": r"troubleshoot",
    "maintenance and backups": r"maintenance|backup",
}
CHANGELOG_TITLE = re.compile(r"change ?log|version history|release notes|\bhistory\b|\bchanges\b")
_VERSION = re.compile(
    r"(?<![\w.])v?(\d+\.\d+\.\d+(?:-[0-9A-Za-z]+(?:\.[0-9A-Za-z]+)*)?)(?!\w|\.\d)"
)
_FRONT_MATTER = re.compile(r"\A---\s*\n.*?\n(?:---|\.\.\.)\s*\n", re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$", re.M)


class MkDocsConfigError(ValueError):
    """mkdocs.yml is not a YAML mapping; the message is one line."""


class _TolerantLoader(yaml.SafeLoader):
    """Reads mkdocs.yml as mkdocs does, without importing anything: ``!ENV [NAME, default]``
    becomes its default, ``!!python/name:x`` and other tags their text."""


def _env(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.SequenceNode):
        values = loader.construct_sequence(node)
        return values[-1] if len(values) > 1 else None
    return None


def _any_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node) or suffix
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)  # type: ignore[arg-type]


_TolerantLoader.add_constructor("!ENV", _env)
_TolerantLoader.add_multi_constructor("!", _any_tag)
_TolerantLoader.add_multi_constructor("tag:yaml.org,2002:python/", _any_tag)


def load_config(text: str) -> dict[str, Any]:
    """The settings of an ``mkdocs.yml``."""
    try:
        config = yaml.load(text, Loader=_TolerantLoader)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise MkDocsConfigError(f"not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(config, dict):
        raise MkDocsConfigError("not a mapping of settings")
    return config


def theme_name(config: Mapping[str, Any]) -> str | None:
    theme = config.get("theme")
    if isinstance(theme, Mapping):
        theme = theme.get("name")
    return str(theme) if theme is not None else None


def pages_dir(config_file: Path, config: Mapping[str, Any]) -> Path:
    """The folder of the Markdown pages (mkdocs' ``docs_dir``, beside mkdocs.yml)."""
    return config_file.parent / str(config.get("docs_dir") or "docs")


def site_dir(config_file: Path, config: Mapping[str, Any]) -> Path:
    return config_file.parent / str(config.get("site_dir") or "site")


@dataclass
class Page:
    """One Markdown page: its path under the pages' folder, nav title (or heading) and text."""

    path: str
    title: str
    text: str

    @property
    def is_empty(self) -> bool:
        return is_empty(self.text)


@dataclass
class Section:
    """A top-level entry of the nav and the pages under it."""

    title: str
    pages: list[Page] = field(default_factory=list)


def is_empty(markdown: str) -> bool:
    """True when nothing but front matter, comments and headings is on the page."""
    body = _HEADING.sub("", _COMMENT.sub("", _FRONT_MATTER.sub("", markdown)))
    return re.search(r"\w", body) is None


def page_title(path: str, markdown: str) -> str:
    heading = _HEADING.search(_FRONT_MATTER.sub("", markdown))
    return heading.group(1) if heading else Path(path).stem.replace("-", " ").replace("_", " ")


def read_pages(folder: Path) -> dict[str, str]:
    """path (posix, under ``folder``) -> Markdown text of every page."""
    return {
        path.relative_to(folder).as_posix(): path.read_text(encoding="utf-8", errors="replace")
        for path in sorted(folder.rglob("*.md"))
        if path.is_file()
    }


def _entries(nav: Any, texts: Mapping[str, str]) -> Iterable[tuple[str | None, Any]]:
    for item in nav if isinstance(nav, list) else []:
        if isinstance(item, Mapping):
            yield from item.items()
        else:
            yield None, item


def _pages_of(value: Any, title: str | None, texts: Mapping[str, str]) -> list[Page]:
    if isinstance(value, str):
        if value not in texts:  # an external link or a page that is not there
            return []
        return [Page(value, title or page_title(value, texts[value]), texts[value])]
    return [page for sub, item in _entries(value, texts) for page in _pages_of(item, sub, texts)]


def sections(config: Mapping[str, Any], texts: Mapping[str, str]) -> list[Section]:
    """The nav's top-level entries; without a nav, mkdocs' own: each top-level page, and
    each top-level folder with the pages under it."""
    nav = config.get("nav")
    if nav:
        return [
            Section(title or page_title(str(value), texts.get(str(value), "")), pages)
            for title, value in _entries(nav, texts)
            for pages in [_pages_of(value, title, texts)]
        ]
    found: dict[str, Section] = {}
    for path, text in texts.items():
        top, _, rest = path.partition("/")
        key = top if rest else path
        name = top.replace("-", " ").replace("_", " ").capitalize() if rest else None
        section = found.setdefault(key, Section(name or page_title(path, text)))
        section.pages.append(Page(path, page_title(path, text), text))
    return list(found.values())


def find_section(all_sections: Iterable[Section], pattern: str) -> Section | None:
    """The first section whose title reads as ``pattern`` (case-insensitive) with a page that
    says something; else the first matching one, else None."""
    matching = [s for s in all_sections if re.search(pattern, s.title, re.I)]
    with_text = [s for s in matching if any(not page.is_empty for page in s.pages)]
    best = with_text or matching
    return best[0] if best else None


def missing_topics(pages: Iterable[Page]) -> list[str]:
    """The spec's topics that no non-empty page has in its title or file name."""
    names = [f"{p.title} {Path(p.path).stem.replace('-', ' ')}" for p in pages if not p.is_empty]
    return [
        topic
        for topic, pattern in TOPICS.items()
        if not any(re.search(pattern, name, re.I) for name in names)
    ]


def versions(text: str) -> set[str]:
    """The semantic versions a text names (``v1.0.0`` and ``1.0.0`` alike), without the v."""
    return {match.rstrip(".") for match in _VERSION.findall(text)}


def history_pages(pages: Iterable[Page]) -> list[Page]:
    """The non-empty pages titled (or named) as a version history."""
    return [
        page
        for page in pages
        if not page.is_empty and CHANGELOG_TITLE.search(f"{page.title} {page.path}".lower())
    ]


@dataclass
class DocsProject:
    """An MkDocs project: its configuration, every page (titled as the nav titles it) and the
    nav's sections."""

    config_file: Path
    config: dict[str, Any]
    pages: list[Page]
    sections: list[Section]


def config_file_in(folder: Path) -> Path | None:
    return next((folder / name for name in CONFIG_NAMES if (folder / name).is_file()), None)


def read_project(config_file: Path) -> DocsProject:
    """The project of ``config_file``; :class:`MkDocsConfigError` when it does not parse."""
    config = load_config(config_file.read_text(encoding="utf-8", errors="replace"))
    texts = read_pages(pages_dir(config_file, config))
    found = sections(config, texts)
    titled = {page.path: page for section in found for page in section.pages}
    pages = [
        titled.get(path) or Page(path, page_title(path, text), text) for path, text in texts.items()
    ]
    return DocsProject(config_file, config, pages, found)
