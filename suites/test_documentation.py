"""Documentation > MkDocs Site: the repository's docs (``docs_dir``, where the spec runs mkdocs)
built, served and published as the spec says, with its sections, topics, help, version history
and an API reference that names every operation the deployment's OpenAPI document has.

mkdocs runs in child processes of the harness's own interpreter from the docs folder; the site
is built once per run into a temporary folder (never into the repository) and reused."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from harness.probes import docs_api
from harness.probes import docs_hosting as hosting
from harness.probes import mkdocs_site as site
from harness.probes.mkdocs_run import SiteBuilds, gh_deploy, serve_home
from harness.probes.static_site import LOCAL_HOSTS, crawl
from harness.report.evidence import Evidence
from harness.targets.project import MissingProjectFile, Project

requirement = pytest.mark.requirement
# every check of the docs on one worker: the site is built once
pytestmark = [pytest.mark.xdist_group("documentation")]
_ISSUES = re.compile(r"https://github\.com/[\w.-]+/[\w.-]+/issues")
_DEFAULT_DEV_ADDR = "127.0.0.1:8000"  # mkdocs' own


def _docs(project: Project, params: dict[str, Any]) -> site.DocsProject:
    __tracebackhide__ = True
    folder = project.directory(params["docs_dir"], "docs_dir")
    config_file = site.config_file_in(folder)
    if config_file is None:
        raise MissingProjectFile(
            f"{params['docs_dir']}/mkdocs.yml: no such file in {project.root}; set --param "
            "docs_dir=PATH to the folder mkdocs runs in"
        )
    try:
        return site.read_project(config_file)
    except site.MkDocsConfigError as exc:
        pytest.fail(f"{config_file.relative_to(project.root)}: {exc}")


def _shown(project: Project, path: Path) -> str:
    return path.relative_to(project.root).as_posix()


@pytest.fixture(scope="session")
def builds(tmp_path_factory: pytest.TempPathFactory, session_params: dict[str, Any]) -> SiteBuilds:
    return SiteBuilds(tmp_path_factory.mktemp("docs-site"), session_params["docs_build_timeout_s"])


@requirement("DOC-MKDOCS")
def test_docs_are_an_mkdocs_material_project(
    project: Project, params: dict[str, Any], evidence: Evidence
) -> None:
    docs = _docs(project, params)
    theme = site.theme_name(docs.config)
    folder = site.pages_dir(docs.config_file, docs.config)
    evidence.note("configuration", _shown(project, docs.config_file))
    evidence.note("theme", theme)
    assert folder.is_dir(), f"{_shown(project, docs.config_file)}: its pages' folder is missing"
    assert docs.pages, f"{_shown(project, folder)}: no Markdown page"
    assert theme == "material", (
        f"{_shown(project, docs.config_file)} uses the theme {theme or 'mkdocs (the default)'}, "
        "not material (pip install mkdocs-material, theme: name: material)"
    )


@requirement("DOC-BUILD")
def test_mkdocs_build_strict_passes(
    project: Project, params: dict[str, Any], builds: SiteBuilds, evidence: Evidence
) -> None:
    params["docs_build_timeout_s"]  # the session's builds apply it: recorded in the row
    docs = _docs(project, params)
    run, _ = builds.strict(docs.config_file)
    evidence.note("warnings and errors", run.problems() if not run.ok else [])
    assert run.ok, (
        f"mkdocs build --strict in {_shown(project, docs.config_file.parent)}: "
        + "; ".join(run.problems()[:3])
    )


def _host_port(address: str) -> tuple[str, int | None]:
    parts = urlsplit(address if "//" in address else f"//{address}")
    host = parts.hostname or ""
    return ("loopback" if host in LOCAL_HOSTS else host), parts.port


@requirement("DOC-SERVE")
def test_mkdocs_serve_answers_at_the_configured_address(
    project: Project, params: dict[str, Any], evidence: Evidence
) -> None:
    docs = _docs(project, params)
    wanted, timeout = params["docs_serve_url"], params["docs_build_timeout_s"]
    dev_addr = str(docs.config.get("dev_addr") or _DEFAULT_DEV_ADDR)
    home = urlsplit(str(docs.config.get("site_url") or "")).path or "/"
    served = serve_home(docs.config_file, home if home.endswith("/") else f"{home}/", timeout)
    evidence.note("dev_addr", dev_addr)
    evidence.note("served at", served.url)
    problems = []
    if _host_port(dev_addr) != _host_port(wanted):
        problems.append(f"dev_addr is {dev_addr}, so mkdocs serve is not at {wanted}")
    if served.status != 200:
        got = f"answered {served.status}" if served.status else "never answered"
        problems.append(f"mkdocs serve's home page {got}: {' '.join(served.output.split()[-30:])}")
    assert not problems, f"{_shown(project, docs.config_file)}: " + "; ".join(problems)


@pytest.mark.parametrize(
    "rid", [pytest.param(rid, marks=requirement(rid), id=rid) for rid in site.SECTIONS]
)
def test_docs_have_the_section(
    rid: str, project: Project, params: dict[str, Any], evidence: Evidence
) -> None:
    docs = _docs(project, params)
    name, pattern = site.SECTIONS[rid]
    evidence.note("nav sections", [section.title for section in docs.sections])
    found = site.find_section(docs.sections, pattern)
    assert found is not None, f"{_shown(project, docs.config_file)}: the nav has no {name} section"
    evidence.note("pages", [page.path for page in found.pages])
    assert any(not page.is_empty for page in found.pages), (
        f"the {found.title!r} section has no page with more than a heading"
    )


def _openapi(http: httpx.Client, params: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The deployment's OpenAPI document (``openapi_file`` when set) and where it came from."""
    file = params["openapi_file"]
    if file:
        if not Path(file).is_file():
            pytest.fail(f"openapi_file {file}: no such file")
        text, source = Path(file).read_text(encoding="utf-8"), file
    else:
        path = params["openapi_path"]
        answer = http.get(path)
        if answer.status_code != 200:
            pytest.skip(
                f"GET {path} answered {answer.status_code}: set --param openapi_path=PATH of the "
                "deployment's OpenAPI document, or --param openapi_file=PATH"
            )
        text, source = answer.text, path
    return docs_api.parse_document(text, source), source


@requirement("DOC-API-COMPLETE")
def test_api_reference_names_every_operation(
    project: Project, params: dict[str, Any], http: httpx.Client, evidence: Evidence
) -> None:
    docs = _docs(project, params)
    section = site.find_section(docs.sections, site.SECTIONS["DOC-SECTION-API"][1])
    assert section is not None, f"{_shown(project, docs.config_file)}: the nav has no API reference"
    document, source = _openapi(http, params)
    missing = docs_api.undocumented(document, section.pages)
    evidence.note("OpenAPI document", source)
    evidence.note("API reference pages", [page.path for page in section.pages])
    evidence.note("undocumented", missing)
    total = len(docs_api.operations(document))
    assert not missing, (
        f"the API reference leaves out {len(missing)} of the {total} operations of {source}: "
        + ", ".join(missing)
    )


@requirement("DOC-DEPLOY-GITHUB-PAGES")
def test_gh_deploy_publishes_to_gh_pages(
    project: Project, params: dict[str, Any], tmp_path: Path, evidence: Evidence
) -> None:
    docs = _docs(project, params)
    if shutil.which("git") is None:
        pytest.skip("mkdocs gh-deploy needs git: install git where the harness runs")
    deployed = gh_deploy(
        docs.config_file.parent, docs.config_file.name, tmp_path, params["docs_build_timeout_s"]
    )
    evidence.note(
        "remote branches", {name: len(files) for name, files in deployed.branches.items()}
    )
    assert deployed.run.ok, "mkdocs gh-deploy: " + "; ".join(deployed.run.problems()[:3])
    published = deployed.branches.get("gh-pages")
    assert published is not None, (
        "mkdocs gh-deploy pushed no gh-pages branch (it pushed "
        f"{', '.join(deployed.branches) or 'nothing'}): see remote_branch in mkdocs.yml"
    )
    assert "index.html" in published, "the gh-pages branch has no index.html at its top"


@pytest.mark.parametrize(
    ("host", "file"),
    [
        pytest.param("Netlify", hosting.NETLIFY, marks=requirement("DOC-DEPLOY-NETLIFY"), id="n"),
        pytest.param("Vercel", hosting.VERCEL, marks=requirement("DOC-DEPLOY-VERCEL"), id="v"),
    ],
)
def test_static_host_publishes_the_built_site(
    host: str, file: str, project: Project, params: dict[str, Any], evidence: Evidence
) -> None:
    how, problems = hosting.judge_host(host, file, _docs(project, params), project.root)
    evidence.note("published with", how)
    assert not problems, "; ".join(problems)


@requirement("DOC-DEPLOY-STATIC")
def test_built_site_works_from_a_sub_path(
    project: Project, params: dict[str, Any], builds: SiteBuilds, evidence: Evidence
) -> None:
    params["docs_build_timeout_s"]  # the session's builds apply it: recorded in the row
    docs = _docs(project, params)
    run, built = builds.site(docs.config_file)
    assert run.ok, f"{run.command}: " + "; ".join(run.problems()[:3])
    # a project site's path (site_url), else one of the harness's: never the server's root
    prefix = urlsplit(str(docs.config.get("site_url") or "")).path.rstrip("/") or "/docs-site"
    # 404.html is served for any missing path, so its links are written from site_url: it is
    # judged only where site_url says where the site lives
    skip = frozenset() if docs.config.get("site_url") else frozenset({"404.html"})
    result = crawl(built, f"{prefix}/", skip)
    evidence.note("served from", f"{prefix}/")
    evidence.note("pages and URLs", [result.pages, result.urls])
    evidence.note("broken", result.broken[:50])
    assert result.pages, f"{run.command} wrote no HTML page"
    assert not result.broken, (
        f"served from {prefix}/, {len(result.broken)} links break: " + "; ".join(result.broken[:5])
    )


@requirement("DOC-TOPICS")
def test_docs_cover_every_topic_of_the_spec(
    project: Project, params: dict[str, Any], evidence: Evidence
) -> None:
    docs = _docs(project, params)
    missing = site.missing_topics(docs.pages)
    evidence.note("pages", {page.path: page.title for page in docs.pages})
    assert not missing, "no page (by its title) on " + ", ".join(missing)


@requirement("DOC-HELP")
def test_docs_say_where_to_get_help(
    project: Project, params: dict[str, Any], evidence: Evidence
) -> None:
    docs = _docs(project, params)
    contact = params["security_contact"]
    issues = sorted({m for page in docs.pages for m in _ISSUES.findall(page.text)})
    contacted = [page.path for page in docs.pages if contact.lower() in page.text.lower()]
    evidence.note("GitHub Issues", issues)
    evidence.note("pages naming the security contact", contacted)
    problems = []
    if not issues:
        problems.append(
            "no link to the project's GitHub Issues (https://github.com/OWNER/REPO/issues)"
        )
    if not contacted:
        problems.append(f"no page names the security contact {contact}")
    assert not problems, "; ".join(problems)


@requirement("DOC-CHANGELOG")
@pytest.mark.needs_path("health_path")
def test_version_history_has_the_deployed_version(
    project: Project, params: dict[str, Any], http: httpx.Client, evidence: Evidence
) -> None:
    docs = _docs(project, params)
    history = site.history_pages(docs.pages)
    assert history, "no version history page (titled Changelog, Version History or Release Notes)"
    answer = http.get(params["health_path"])
    try:
        reported = answer.json().get("version")
    except (ValueError, AttributeError):
        reported = None
    listed = set().union(*(site.versions(page.text) for page in history))
    evidence.note("version history", [page.path for page in history])
    evidence.note("versions listed", sorted(listed))
    evidence.note("deployment reports", reported)
    if not isinstance(reported, str) or not site.versions(reported):
        pytest.skip(f"{params['health_path']} reports no version to look for: {answer.text[:100]}")
    wanted = ["1.0.0", *site.versions(reported)]
    missing = [f"v{version}" for version in dict.fromkeys(wanted) if version not in listed]
    assert not missing, f"the version history ({history[0].path}) does not list " + ", ".join(
        missing
    )
