"""MkDocs hook: the requirement catalogue's pages, generated from harness/spec/requirements.yaml
at build time, so the site can never describe another catalogue than the one the harness runs.

One page per area (every requirement under a heading whose anchor is its id), one page of the
parameters (anchored by name), an overview, and the matrix's JSON Schema published beside them.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

from harness.resources import fixture_path
from harness.spec import ID_PREFIXES, Catalogue, CatalogueError, Parameter, Requirement
from harness.spec import load_catalogue as _load

# the nav section the generated pages are appended to (docs/mkdocs.yml names it)
SECTION = "Requirement catalogue"
FOLDER = "catalogue"
SCHEMA = "matrix.schema.json"
# an area's name on the site, where its slug reads badly; the rest are capitalised slugs
_TITLES = {
    "load": "Load and performance",
    "ip-filtering": "IP filtering",
    "api-contract": "API contract",
}
# the user guide's pages that say how an area's checks judge it
GUIDE = {
    "load": ("load-testing.md",),
    "security-headers": ("security-headers.md",),
    "rate-limiting": ("rate-limiting.md",),
    "request-validation": ("request-validation.md",),
    "ip-filtering": ("ip-filtering-and-audit.md",),
    "audit-logging": ("ip-filtering-and-audit.md",),
    "input-validation": ("input-validation.md", "identity-and-uploads.md"),
    "security-configuration": ("identity-and-uploads.md", "security-headers.md", "audit-config.md"),
    "deployment": ("repository.md", "ci-and-k8s.md", "deploy-drills.md", "stacks.md"),
    "monitoring": ("metrics.md", "prometheus.md", "dashboards.md", "faults.md"),
    "operations": ("repository.md",),
    "api-contract": ("api-contract.md",),
}
_CODE = re.compile(r"(`[^`]*`)")
_MARKDOWN = re.compile(r"([\\*_\[\]#|])")


def _catalogue() -> Catalogue:
    try:
        return _load()
    except CatalogueError as exc:  # one line, as mkdocs prints plugin errors
        raise PluginError(f"requirement catalogue: {exc}") from None


def text(value: str) -> str:
    """Catalogue prose as Markdown: code spans kept, HTML and Markdown syntax outside them
    escaped (a description's ``<id>`` is text, not a tag)."""
    parts = _CODE.split(" ".join(value.split()))
    return "".join(
        part if part.startswith("`") else _MARKDOWN.sub(r"\\\1", html.escape(part, quote=False))
        for part in parts
    )


def code(raw: object) -> str:
    """A code span that holds any value, backticks included."""
    shown = str(raw)
    return f"`` {shown} ``" if "`" in shown else f"`{shown}`"


def value(raw: Any) -> str:
    """A parameter value as the user would write it in harness.toml."""
    if raw is None:
        return "unset"
    if isinstance(raw, bool):
        return code(str(raw).lower())
    if isinstance(raw, list | tuple):
        return ", ".join(code(item) for item in raw) if raw else "empty"
    return code(raw)


def area_title(area: str) -> str:
    prefix = next(p for p, a in ID_PREFIXES.items() if a == area)
    name = _TITLES.get(area) or area.replace("-", " ").capitalize()
    return f"{name} ({prefix}-)"


def by_area(catalogue: Catalogue) -> dict[str, list[Requirement]]:
    """Areas in the catalogue's order of first appearance."""
    areas: dict[str, list[Requirement]] = {}
    for requirement in catalogue:
        areas.setdefault(requirement.area, []).append(requirement)
    return areas


def _param_line(name: str, parameter: Parameter) -> str:
    unit = f" {parameter.unit}" if parameter.unit else ""
    return f"[`{name}`](parameters.md#{name}) = {value(parameter.default)}{unit}"


def requirement_section(requirement: Requirement, catalogue: Catalogue) -> str:
    lines = [
        f"## {requirement.id} {{ #{requirement.id} }}",
        "",
        f"**{text(requirement.title)}**",
        "",
        f"- **Section:** {text(requirement.section)}",
        f"- **Profiles:** {', '.join(requirement.profiles)}",
        f"- **Kind:** {requirement.kind}",
    ]
    if requirement.params:
        params = catalogue.parameters
        lines.append(
            "- **Parameters:** " + "; ".join(_param_line(n, params[n]) for n in requirement.params)
        )
    if requirement.claim:
        lines.append(f"- **The spec says:** {text(requirement.claim)}")
    if requirement.notes:
        lines.append(f"- **Notes:** {text(requirement.notes)}")
    return "\n".join(lines)


def nav_titles(nav: Any) -> dict[str, str]:
    """Page file -> its title in the nav, at any depth."""
    titles: dict[str, str] = {}
    for entry in nav if isinstance(nav, list) else []:
        for title, target in entry.items() if isinstance(entry, dict) else ():
            if isinstance(target, str):
                titles[target] = title
            else:
                titles.update(nav_titles(target))
    return titles


def area_page(
    area: str, requirements: list[Requirement], catalogue: Catalogue, titles: dict[str, str]
) -> str:
    head = [
        f"# {area_title(area)}",
        "",
        f"{len(requirements)} requirements of area `{area}`, generated from "
        "`harness/spec/requirements.yaml`. The heading of each is its id, also its anchor "
        f"(`{FOLDER}/{area}/#ID`).",
    ]
    if area in GUIDE:
        pages = ", ".join(f"[{titles.get(p, p)}](../{p})" for p in GUIDE[area])
        head.append(f"How the checks judge them: {pages}.")
    return "\n\n".join([*head, *(requirement_section(r, catalogue) for r in requirements)]) + "\n"


def parameters_page(catalogue: Catalogue) -> str:
    sections = [
        "# Parameters",
        "Every parameter a requirement reads, with the spec's default. Override one with "
        "`--param NAME=VALUE`, `HARNESS_PARAM_<NAME>`, `[params]` of `harness.toml` or "
        "`[tool.harness.params]` (see [configuration](../configuration.md)); "
        "`harness params` prints this list.",
    ]
    for name, parameter in catalogue.parameters.items():
        lines = [f"## {name} {{ #{name} }}", "", text(parameter.description), ""]
        lines.append(f"- **Type:** `{parameter.type}`")
        unit = f" {parameter.unit}" if parameter.unit else ""
        lines.append(f"- **Default:** {value(parameter.default)}{unit}")
        for profile, default in parameter.by_profile.items():
            lines.append(f"- **Default in {profile}:** {value(default)}{unit}")
        if parameter.choices:
            lines.append(f"- **Choices:** {value(list(parameter.choices))}")
        users = [r.id for r in catalogue if name in r.params]
        if users:
            lines.append("- **Read by:** " + ", ".join(_link(catalogue[u]) for u in users))
        sections.append("\n".join(lines))
    return "\n\n".join(sections) + "\n"


def _link(requirement: Requirement) -> str:
    return f"[{requirement.id}]({requirement.area}.md#{requirement.id})"


def overview_page(catalogue: Catalogue) -> str:
    areas = by_area(catalogue)
    attestations = sum(1 for r in catalogue if r.kind == "attestation")
    intro = (
        f"{len(catalogue)} requirements in {len(areas)} areas ({attestations} of them answered "
        f"by attestations), and {len(catalogue.parameters)} [parameters](parameters.md). These "
        "pages are generated from `harness/spec/requirements.yaml` when the site is built; "
        "[the catalogue's format](../requirements.md) describes its fields."
    )
    rows = [f"| [{area_title(a)}]({a}.md) | {len(reqs)} |" for a, reqs in areas.items()]
    table = "\n".join(["| area | requirements |", "|---|---:|", *rows])
    return f"# The requirements\n\n{intro}\n\n{table}\n"


def generated_pages(catalogue: Catalogue, titles: dict[str, str]) -> dict[str, str]:
    """Path under the docs folder -> Markdown of every generated page, in nav order."""
    pages = {f"{FOLDER}/index.md": overview_page(catalogue)}
    for area, requirements in by_area(catalogue).items():
        pages[f"{FOLDER}/{area}.md"] = area_page(area, requirements, catalogue, titles)
    pages[f"{FOLDER}/parameters.md"] = parameters_page(catalogue)
    return pages


def _nav_entries(catalogue: Catalogue) -> Iterable[dict[str, str]]:
    yield {"Overview": f"{FOLDER}/index.md"}
    for area in by_area(catalogue):
        yield {area_title(area): f"{FOLDER}/{area}.md"}
    yield {"Parameters": f"{FOLDER}/parameters.md"}


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    for entry in config.nav or []:
        if isinstance(entry, dict) and SECTION in entry:
            entry[SECTION] = [*entry[SECTION], *_nav_entries(_catalogue())]
            return config
    raise PluginError(f"docs/mkdocs.yml: the nav has no section {SECTION!r} for the catalogue")


def on_files(files: Files, config: MkDocsConfig) -> Files:
    for path, markdown in generated_pages(_catalogue(), nav_titles(config.nav)).items():
        files.append(File.generated(config, path, content=markdown))
    files.append(File.generated(config, SCHEMA, abs_src_path=str(fixture_path("schemas", SCHEMA))))
    return files
