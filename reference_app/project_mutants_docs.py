"""Mutants of the reference repository's documentation (``docs/``: mkdocs.yml, the pages, the
Netlify and Vercel configurations). Each edits a copy of ``reference_app/project`` and breaks
the DOC- requirements it names: a section gone from the nav, a broken link, an endpoint the
API reference leaves out, and one defect for each other claim of the docs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from reference_app.project_mutants_audit import AuditMutant
from reference_app.project_mutants_ci import FileMutant, apply_edits

CONFIG = "docs/mkdocs.yml"
PAGES = "docs/docs"

# a copy of the tree with its changes, as the audit's mutants are
DocsMutant = AuditMutant


def _edits(name: str, rid: tuple[str, ...], description: str, path: str, *edits: str) -> DocsMutant:
    pairs = tuple(zip(edits[::2], edits[1::2], strict=True))
    mutant = FileMutant(name, rid, description, path, pairs)
    return DocsMutant(name, rid, description, lambda root: apply_edits(mutant, root))


def _all(*steps: Callable[[Path], None]) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        for step in steps:
            step(root)

    return apply


def _edit(path: str, old: str, new: str) -> Callable[[Path], None]:
    change = FileMutant(path, (), "", path, ((old, new),))
    return lambda root: apply_edits(change, root)


def _section(rid: str, title: str, nav: str) -> DocsMutant:
    """The nav without one section (its pages stay, outside the nav, as a forgotten entry
    leaves them: mkdocs only notes that)."""
    slug = title.lower().replace(" ", "-")
    return _edits(
        f"docs-no-{slug}-section", (rid,), f"the nav has no {title} section", CONFIG, nav, ""
    )


_MUTANTS = (
    _edits(
        "docs-theme-readthedocs",
        ("DOC-MKDOCS",),
        "mkdocs.yml uses the readthedocs theme, not Material",
        CONFIG,
        "  name: material\n",
        "  name: readthedocs\n",
    ),
    _edits(
        "docs-broken-link",
        ("DOC-BUILD", "DOC-DEPLOY-STATIC"),
        "the home page links to roadmap.md, which does not exist",
        f"{PAGES}/index.md",
        "- [Quick start](getting-started.md)",
        "- [Roadmap](roadmap.md): what comes next.\n- [Quick start](getting-started.md)",
    ),
    _edits(
        "docs-serve-other-port",
        ("DOC-SERVE",),
        "dev_addr is 127.0.0.1:8001: mkdocs serve is not where the spec says",
        CONFIG,
        "dev_addr: 127.0.0.1:8000\n",
        "dev_addr: 127.0.0.1:8001\n",
    ),
    _section(
        "DOC-SECTION-GETTING-STARTED",
        "Getting started",
        "  - Getting started:\n      - Quick start: getting-started.md\n",
    ),
    _edits(
        "docs-user-guide-empty",
        ("DOC-SECTION-USER",),
        "the user guide page has nothing but its heading",
        f"{PAGES}/user-guide.md",
        "Sign in with the account an administrator created, then create, search and edit "
        "formulas in\nthe frontend. Every formula has a name, an expression and an optional "
        "description.\n",
        "",
    ),
    _section("DOC-SECTION-API", "API reference", "  - API reference: api.md\n"),
    _section(
        "DOC-SECTION-ARCHITECTURE",
        "Architecture",
        "  - Architecture:\n      - Overview: architecture.md\n      - Monitoring: monitoring.md\n",
    ),
    _section(
        "DOC-SECTION-DEPLOYMENT",
        "Deployment",
        "  - Deployment:\n      - Deployment guide: deployment.md\n"
        "      - Publishing the docs: publishing.md\n",
    ),
    _section(
        "DOC-SECTION-DEVELOPMENT",
        "Development",
        "  - Development:\n      - Development guide: development.md\n"
        "      - Load testing: load-testing.md\n      - Performance: performance.md\n",
    ),
    _section(
        "DOC-SECTION-SECURITY",
        "Security",
        "  - Security:\n      - Security hardening: security.md\n"
        "      - Security checklist: security-checklist.md\n",
    ),
    _edits(
        "docs-undocumented-endpoint",
        ("DOC-API-COMPLETE",),
        "the API reference leaves out DELETE /api/v1/formulas/{formula_id}",
        f"{PAGES}/api.md",
        "| DELETE | `/api/v1/formulas/{formula_id}` | remove a formula (*token*) | 204, 404 |\n",
        "",
    ),
    _edits(
        "docs-gh-deploy-onto-main",
        ("DOC-DEPLOY-GITHUB-PAGES",),
        "remote_branch is main: gh-deploy would push the site over the sources",
        CONFIG,
        "remote_branch: gh-pages\n",
        "remote_branch: main\n",
    ),
    _edits(
        "docs-netlify-wrong-folder",
        ("DOC-DEPLOY-NETLIFY",),
        "netlify.toml publishes public/, but mkdocs build writes site/",
        "docs/netlify.toml",
        'publish = "site"',
        'publish = "public"',
    ),
    _edits(
        "docs-vercel-no-build",
        ("DOC-DEPLOY-VERCEL",),
        "vercel.json's build command only installs mkdocs",
        "docs/vercel.json",
        '"buildCommand": "mkdocs build"',
        '"buildCommand": "pip install mkdocs"',
    ),
    _edits(
        "docs-root-absolute-link",
        ("DOC-DEPLOY-STATIC",),
        "the home page links to /changelog/: right at a server's root, broken under a sub-path",
        f"{PAGES}/index.md",
        "- [Quick start](getting-started.md)",
        "- [Changes](/changelog/): what is new.\n- [Quick start](getting-started.md)",
    ),
    DocsMutant(
        "docs-no-troubleshooting",
        ("DOC-TOPICS",),
        "the troubleshooting page is gone (and its nav entry and links)",
        _all(
            lambda root: (root / PAGES / "troubleshooting.md").unlink(),
            _edit(CONFIG, "      - Troubleshooting: troubleshooting.md\n", ""),
            _edit(f"{PAGES}/index.md", "- [Troubleshooting](troubleshooting.md) and", "-"),
        ),
    ),
    _edits(
        "docs-no-security-contact",
        ("DOC-HELP",),
        "the help page asks for security reports without the contact address",
        f"{PAGES}/help.md",
        "[security@reasoner.ai](mailto:security@reasoner.ai)",
        "the security team",
    ),
    _edits(
        "docs-changelog-without-release",
        ("DOC-CHANGELOG",),
        "the changelog does not list v1.0.0, the version the deployment reports",
        f"{PAGES}/changelog.md",
        "## v1.0.0\n",
        "## Unreleased\n",
    ),
)
DOCS_MUTANTS = {mutant.name: mutant for mutant in _MUTANTS}
