"""Mutants of the reference repository (``project/``): a copy of the tree with one defect in
its files, each breaking the requirements it names. ``python -m reference_app project-mutant
NAME DIR`` writes one; ``harness gate --project-root DIR`` must then fail those requirements."""

from __future__ import annotations

import functools
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reference_app.project_mutants_audit import AUDIT_MUTANTS
from reference_app.project_mutants_ci import CI_MUTANTS, apply_edits
from reference_app.project_mutants_compose import COMPOSE_MUTANTS
from reference_app.project_mutants_dashboards import DASHBOARD_MUTANTS
from reference_app.project_mutants_deploy import DEPLOY_MUTANTS
from reference_app.project_mutants_docs import DOCS_MUTANTS
from reference_app.project_mutants_monitoring import MONITORING_MUTANTS
from reference_app.project_mutants_ops import OPS_MUTANTS
from reference_app.project_mutants_opsfiles import OPS_FILE_MUTANTS

PROJECT = Path(__file__).resolve().parent / "project"


class UnknownProjectMutantError(LookupError):
    def __init__(self, name: str) -> None:
        known = ", ".join(sorted(PROJECT_MUTANTS))
        super().__init__(f"unknown project mutant {name!r}; known: {known}")


@dataclass(frozen=True)
class ProjectMutant:
    name: str
    breaks: tuple[str, ...]
    description: str
    apply: Callable[[Path], None]


PROJECT_MUTANTS: dict[str, ProjectMutant] = {}


def _register(
    name: str, breaks: tuple[str, ...], description: str
) -> Callable[[Callable[[Path], None]], Callable[[Path], None]]:
    def decorate(apply: Callable[[Path], None]) -> Callable[[Path], None]:
        PROJECT_MUTANTS[name] = ProjectMutant(name, breaks, description, apply)
        return apply

    return decorate


def _edit(root: Path, relative: str, old: str, new: str) -> None:
    """Replace ``old`` in one file; a mutant whose anchor is gone would break nothing, so it
    is an error rather than a silent copy of the clean tree."""
    path = root / relative
    text = path.read_text(encoding="utf-8")
    if old not in text:
        raise ValueError(f"{relative}: {old!r} is not in the reference tree any more")
    path.write_text(text.replace(old, new), encoding="utf-8")


LOAD = "backend/tests/load"


@_register("locustfile-without-users", ("LOAD-LOCUSTFILE",), "the locustfile defines no User")
def _no_users(root: Path) -> None:
    _edit(root, f"{LOAD}/locustfile.py", "class ApiUser(HttpUser):", "class ApiUser:")


@_register("locustfile-broken-import", ("LOAD-LOCUSTFILE",), "the locustfile does not import")
def _broken_import(root: Path) -> None:
    _edit(root, f"{LOAD}/locustfile.py", "from locust import", "from locusts import")


@_register("load-config-small-stress", ("LOAD-CONFIG",), "the stress scenario runs 100 users")
def _small_stress(root: Path) -> None:
    _edit(root, f"{LOAD}/load_test_config.py", '"stress": {"users": 200', '"stress": {"users": 100')


@_register("load-config-no-spike", ("LOAD-CONFIG",), "the spike scenario is missing")
def _no_spike(root: Path) -> None:
    _edit(root, f"{LOAD}/load_test_config.py", '"spike": {', '"burst": {')


@_register("load-readme-no-headless", ("LOAD-README",), "the README has no headless command")
def _no_headless(root: Path) -> None:
    _edit(root, f"{LOAD}/README.md", "  --headless \\\n", "")


@_register(
    "input-validation-module-missing",
    ("INP-MODULE",),
    "backend/app/core/input_validation.py is gone: the spec's validators cannot be imported",
)
def _no_input_validation(root: Path) -> None:
    (root / "backend/app/core/input_validation.py").unlink()


@_register("env-example-real-secret", ("DEP-ENV-EXAMPLE",), ".env.example holds a real key")
def _real_secret(root: Path) -> None:
    key = "q7Rt2VbX9kLm4Np8Zs1Wc6Yd3Fh5Jg0A"  # a random-looking value, as a leaked key is
    _edit(root, ".env.example", "SECRET_KEY=change-me-to-a-long-random-value", f"SECRET_KEY={key}")


@_register(
    "env-example-missing-variable",
    ("DEP-ENV-EXAMPLE",),
    ".env.example lacks a variable docker-compose.yml reads",
)
def _missing_variable(root: Path) -> None:
    _edit(root, ".env.example", "GRAFANA_ADMIN_PASSWORD=change-me\n", "")


@_register("backend-python-3-10", ("DEP-PREREQ-PYTHON",), "the backend runs Python 3.10")
def _old_python(root: Path) -> None:
    _edit(root, "backend/Dockerfile", "PYTHON_IMAGE=python:3.12-slim", "PYTHON_IMAGE=python:3.10")


@_register("frontend-node-16", ("DEP-PREREQ-NODE",), "the frontend is built with Node.js 16")
def _old_node(root: Path) -> None:
    _edit(root, "frontend/Dockerfile", "FROM node:20-alpine", "FROM node:16-alpine")


@_register("compose-misspelt-key", ("DEP-COMPOSE-VALID",), "the db service has a misspelt key")
def _compose_misspelt(root: Path) -> None:
    _edit(
        root,
        "docker-compose.yml",
        '    healthcheck:\n      test: ["CMD-SHELL"',
        '    healthchek:\n      test: ["CMD-SHELL"',
    )


@_register("compose-without-grafana", ("DEP-COMPOSE-VALID",), "the Grafana service is missing")
def _compose_no_grafana(root: Path) -> None:
    _edit(root, "docker-compose.yml", "\n  grafana:\n", "\n  dashboards:\n")


# the file mutants of the other modules, under one registry: the workflow and manifests
# (project_mutants_ci.py), Dockerfiles, nginx, Compose services, schedules and logs
# (project_mutants_ops.py), operations settings (project_mutants_opsfiles.py), Prometheus'
# configuration and rules (project_mutants_monitoring.py), and the deploy
# script's and the Compose runtime's, judged on Docker (project_mutants_deploy.py,
# project_mutants_compose.py)
for _file_mutant in (
    *CI_MUTANTS.values(),
    *OPS_MUTANTS.values(),
    *OPS_FILE_MUTANTS.values(),
    *DEPLOY_MUTANTS.values(),
    *COMPOSE_MUTANTS.values(),
    *MONITORING_MUTANTS.values(),
):
    PROJECT_MUTANTS[_file_mutant.name] = ProjectMutant(
        _file_mutant.name,
        _file_mutant.breaks,
        _file_mutant.description,
        functools.partial(apply_edits, _file_mutant),
    )


# the deployment configuration's, judged by `harness audit-config` (project_mutants_audit.py),
# Grafana's dashboards, data source and admin password (project_mutants_dashboards.py), and
# the documentation's MkDocs project (project_mutants_docs.py)
for _audit_mutant in (*AUDIT_MUTANTS.values(), *DASHBOARD_MUTANTS.values(), *DOCS_MUTANTS.values()):
    PROJECT_MUTANTS[_audit_mutant.name] = ProjectMutant(
        _audit_mutant.name, _audit_mutant.breaks, _audit_mutant.description, _audit_mutant.apply
    )


def write_project_mutant(name: str, destination: Path) -> ProjectMutant:
    """Copy the reference tree to ``destination`` (which must not exist) with the defect."""
    mutant = PROJECT_MUTANTS.get(name)
    if mutant is None:
        raise UnknownProjectMutantError(name)
    if destination.exists():
        raise FileExistsError(f"{destination} exists; name a new directory")
    shutil.copytree(PROJECT, destination)  # links become files: the copy stands alone
    mutant.apply(destination)
    return mutant
