"""This project's documentation site builds with ``mkdocs build --strict`` (a broken link, a
missing anchor or a page left out of the nav fails it), and its catalogue pages, generated at
build time from requirements.yaml, show every requirement and parameter under its own anchor."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from harness.spec import load_catalogue
from tests.conftest import REPO

CONFIG = REPO / "docs" / "mkdocs.yml"
HOOK = REPO / "docs" / "hooks" / "catalogue.py"
# a path of a page of the site, as the README and code comments name it
_PAGE_REF = re.compile(r"docs/docs/[\w/-]+\.md")


def _hook() -> ModuleType:
    """The hook as mkdocs loads it: a file, not a module of a package."""
    spec = importlib.util.spec_from_file_location("docs_catalogue_hook", HOOK)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("docs") / "site"
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(CONFIG), "-d", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def test_the_site_builds_strictly_with_every_section(site: Path) -> None:
    # the nav's labels as text between tags, whatever the theme's indentation
    home = re.sub(r"\s*<", "<", re.sub(r">\s*", ">", (site / "index.html").read_text("utf-8")))
    sections = (
        "Getting started",
        "User guide",
        "Checking your own deployment",
        "Writing checks",
        "Architecture",
        "Requirement catalogue",
        "Matrix format",
        "Deployment",
        "Development",
        "Security",
    )
    missing = [name for name in sections if f">{name}<" not in home]
    assert not missing, f"the nav lacks {missing}"
    assert (site / "matrix.schema.json").is_file()


def test_the_catalogue_pages_show_every_requirement_under_its_id(site: Path) -> None:
    catalogue = load_catalogue()
    missing = []
    for requirement in catalogue:
        page = site / "catalogue" / requirement.area / "index.html"
        html = page.read_text(encoding="utf-8") if page.is_file() else ""
        if f'id="{requirement.id}"' not in html:
            missing.append(requirement.id)
    assert not missing, f"{len(missing)} requirements have no anchor: {missing[:10]}"
    assert len(catalogue) > 200


def test_the_parameters_page_anchors_every_parameter(site: Path) -> None:
    html = (site / "catalogue" / "parameters" / "index.html").read_text(encoding="utf-8")
    missing = [name for name in load_catalogue().parameters if f'id="{name}"' not in html]
    assert not missing, missing


def test_catalogue_prose_is_text_not_markup() -> None:
    text = _hook().text
    assert text("looked up at api_probe_path/<id>.") == r"looked up at api\_probe\_path/&lt;id&gt;."
    assert text("keep `a<b *c*` as code, and * | [x]") == (
        r"keep `a<b *c*` as code, and \* \| \[x\]"
    )
    assert text("A > B\n   > C") == "A &gt; B &gt; C"


def test_parameter_values_are_code_spans_that_hold_backticks() -> None:
    value = _hook().value
    assert value(None) == "unset"
    assert value(True) == "`true`"
    assert value(["a", "b"]) == "`a`, `b`"
    assert value([]) == "empty"
    assert value("x`y") == "`` x`y ``"


def test_references_to_pages_outside_the_site_name_existing_pages() -> None:
    files = [REPO / "README.md", REPO / "pyproject.toml"]
    for folder in ("harness", "suites", "tests", "reference_app/deploy"):
        files += [p for p in (REPO / folder).rglob("*") if p.suffix in {".py", ".yaml", ".yml"}]
    broken = {
        f"{path.relative_to(REPO)}: {ref}"
        for path in files
        for ref in _PAGE_REF.findall(path.read_text(encoding="utf-8", errors="replace"))
        if not (REPO / ref).is_file()
    }
    assert not broken, sorted(broken)
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "make docs" in readme
