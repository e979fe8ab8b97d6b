"""The documentation probes without a run: mkdocs.yml as mkdocs reads it, the nav's sections,
empty pages, topics, versions, the API reference against an OpenAPI document, the static
hosts' configurations and the site served from a sub-path."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.probes import docs_api
from harness.probes import docs_hosting as hosting
from harness.probes import mkdocs_site as site
from harness.probes.static_site import crawl, links_of
from harness.spec import load_catalogue
from reference_app.project_mutants_docs import DOCS_MUTANTS

DOC_IDS = {rid for rid in load_catalogue().requirements if rid.startswith("DOC-")}


def test_mkdocs_tags_are_read_without_importing_anything() -> None:
    config = site.load_config(
        "site_name: x\nsite_url: !ENV [SITE_URL, 'https://example.org/x/']\n"
        "theme: {name: material}\nmarkdown_extensions:\n  - pymdownx.emoji:\n"
        "      emoji_index: !!python/name:material.extensions.emoji.twemoji\n"
        "hooks: [!relative $config_dir/hooks.py]\n"
    )
    assert config["site_url"] == "https://example.org/x/"
    assert site.theme_name(config) == "material"
    emoji = config["markdown_extensions"][0]["pymdownx.emoji"]["emoji_index"]
    assert emoji == "name:material.extensions.emoji.twemoji"  # the tag, not an import
    assert site.theme_name(site.load_config("theme: readthedocs\n")) == "readthedocs"


@pytest.mark.parametrize("text", ["- a\n- b\n", "nav: [\n", "key: value: other\n"])
def test_a_configuration_that_is_no_mapping_is_one_line(text: str) -> None:
    with pytest.raises(site.MkDocsConfigError) as info:
        site.load_config(text)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("markdown", "empty"),
    [
        ("# Title\n", True),
        ("---\ntitle: x\n---\n# Title\n\n## More\n<!-- later -->\n", True),
        ("# Title\n\nOne line.\n", False),
        ("Text without a heading\n", False),
    ],
)
def test_a_page_with_only_headings_is_empty(markdown: str, empty: bool) -> None:
    assert site.is_empty(markdown) is empty


TEXTS = {
    "index.md": "# Home\n\nWelcome.\n",
    "start.md": "# Quick start\n\nRun it.\n",
    "guide/use.md": "# Using it\n\nClick.\n",
    "guide/more.md": "# More\n",
    "api.md": "# API\n\n| GET, PUT | `/items/<id>/` |\n### POST /items\n",
}


def test_sections_come_from_the_nav_with_their_nested_pages() -> None:
    nav = [
        {"Home": "index.md"},
        "start.md",
        {"User guide": [{"Use": "guide/use.md"}, "guide/more.md", {"x": "https://x.org"}]},
        {"API reference": "api.md"},
    ]
    found = site.sections({"nav": nav}, TEXTS)
    assert [s.title for s in found] == ["Home", "Quick start", "User guide", "API reference"]
    assert [p.path for p in found[2].pages] == ["guide/use.md", "guide/more.md"]
    section = site.find_section(found, site.SECTIONS["DOC-SECTION-USER"][1])
    assert section is not None
    assert section.title == "User guide"
    assert site.find_section(found, site.SECTIONS["DOC-SECTION-SECURITY"][1]) is None


def test_without_a_nav_top_level_pages_and_folders_are_the_sections() -> None:
    found = site.sections({}, TEXTS)
    assert {s.title: len(s.pages) for s in found} == {
        "Home": 1,
        "Quick start": 1,
        "Guide": 2,
        "API": 1,
    }


def test_a_section_with_text_wins_over_an_empty_one_of_the_same_name() -> None:
    empty = site.Section("Security", [site.Page("a.md", "a", "# A\n")])
    full = site.Section("Security notes", [site.Page("b.md", "b", "# B\n\nText.\n")])
    assert site.find_section([empty, full], "security") is full


def test_topics_are_found_by_page_title_or_file_name() -> None:
    pages = [
        site.Page("load-testing.md", "Load", "x"),
        site.Page("a.md", "Security hardening", "x"),
        site.Page("b.md", "Deploying", "x"),
        site.Page("c.md", "Monitoring", "x"),
        site.Page("d.md", "Getting started", "x"),
        site.Page("e.md", "Checklist", "x"),
        site.Page("f.md", "Performance", "x"),
        site.Page("g.md", "Troubleshooting", "# Troubleshooting\n"),  # empty: not a page on it
        site.Page("h.md", "Backups", "x"),
    ]
    assert site.missing_topics(pages) == ["troubleshooting"]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("## v1.0.0 - Initial production release", {"1.0.0"}),
        ("1.2.3-rc.1, then 2.0.0.", {"1.2.3-rc.1", "2.0.0"}),
        ("version 1.0 and 10.0.0.1", set()),
    ],
)
def test_versions_in_a_changelog(text: str, found: set[str]) -> None:
    assert site.versions(text) == found


DOCUMENT = {
    "servers": [{"url": "https://api.example.org/api"}],
    "paths": {
        "/items": {"get": {}, "post": {}, "parameters": []},
        "/items/{item_id}": {"get": {}, "put": {}, "delete": {}},
        "/health": {"get": {}},
    },
}


def test_an_operation_is_documented_by_a_line_with_its_method_and_path() -> None:
    pages = [site.Page("api.md", "API", TEXTS["api.md"] + "`GET /api/health`\n")]
    assert docs_api.operations(DOCUMENT)[:2] == [("GET", "/items"), ("POST", "/items")]
    # GET /items: the path and the method are on different lines; DELETE: nowhere
    assert docs_api.undocumented(DOCUMENT, pages) == ["GET /items", "DELETE /items/{item_id}"]


@pytest.mark.parametrize(
    ("written", "normal"),
    [("/items/{id}", "/items/{}"), ("/items/<int:id>/", "/items/{}"), ("/a/:id.", "/a/{}")],
)
def test_path_parameters_compare_whatever_their_spelling(written: str, normal: str) -> None:
    assert docs_api.normal_path(written) == normal


def test_a_url_is_no_documented_path() -> None:
    assert docs_api.documented("GET http://localhost:8000/items") == set()


@pytest.mark.parametrize(
    ("command", "config", "site_dir"),
    [
        ("mkdocs build", "base/mkdocs.yml", None),
        (
            "pip install mkdocs && cd docs && mkdocs build -d out",
            "base/docs/mkdocs.yml",
            "base/docs/out",
        ),
        ("python -m mkdocs build --config-file=docs/m.yml", "base/docs/m.yml", None),
    ],
)
def test_the_build_command_is_followed(command: str, config: str, site_dir: str | None) -> None:
    outputs = hosting.build_outputs(command, Path("base"))
    assert outputs == (Path(config), Path(site_dir) if site_dir else None)
    assert hosting.build_outputs("npm run build", Path("base")) is None


def _problems(config: hosting.HostingConfig, root: Path) -> list[str]:
    return hosting.hosting_problems(
        config, root / "docs/mkdocs.yml", lambda path: path.parent / "site", root
    )


def test_netlify_at_the_root_with_the_docs_as_base(tmp_path: Path) -> None:
    good = '[build]\nbase = "docs"\ncommand = "mkdocs build"\npublish = "site"\n'
    config = hosting.netlify_config(tmp_path / "netlify.toml", good, tmp_path)
    assert _problems(config, tmp_path) == []
    wrong = '[build]\ncommand = "mkdocs build -f docs/mkdocs.yml"\npublish = "site"\n'
    config = hosting.netlify_config(tmp_path / "netlify.toml", wrong, tmp_path)
    assert _problems(config, tmp_path) == [
        "netlify.toml publishes site, but mkdocs build writes the site to docs/site"
    ]
    with pytest.raises(hosting.HostingConfigError, match="not valid TOML"):
        hosting.netlify_config(tmp_path / "netlify.toml", "[build", tmp_path)


def test_vercel_without_an_output_directory(tmp_path: Path) -> None:
    text = '{"buildCommand": "mkdocs build"}'
    config = hosting.vercel_config(tmp_path / "docs/vercel.json", text)
    assert _problems(config, tmp_path) == [
        "docs/vercel.json sets no outputDirectory: the host would not publish docs/site"
    ]


def test_links_of_a_page_leave_out_anchors_and_mail() -> None:
    html = (
        '<a href="#top">t</a><a href="mailto:x@y">m</a><a href="../b/">b</a>'
        '<link rel="stylesheet" href="assets/s.css"><script src="j.js"></script><img src="i.png">'
    )
    assert links_of(html) == ["../b/", "assets/s.css", "j.js", "i.png"]


def test_the_site_is_served_from_a_sub_path(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "s.css").write_text("")
    (tmp_path / "index.html").write_text(
        '<link href="s.css"><a href="a/">a</a><a href="https://example.org/">out</a>'
    )
    (tmp_path / "a/index.html").write_text(
        '<a href="../">home</a><a href="/a/">root</a><img src="../missing.png">'
        '<a href="http://localhost:8000/docs">local</a>'
    )
    result = crawl(tmp_path, "/project/")
    assert (result.pages, result.urls) == (2, 4)
    assert sorted(result.broken) == [
        "a/index.html: /a/ leaves the sub-path /project/",
        "a/index.html: /project/missing.png answered 404",
        "a/index.html: http://localhost:8000/docs points at a local address",
    ]


def test_every_doc_requirement_has_a_docs_mutant() -> None:
    assert {rid for mutant in DOCS_MUTANTS.values() for rid in mutant.breaks} == DOC_IDS
