"""The deployment's repository (``--project-root``): the load test files, the example
environment file and the prerequisites, read at the spec's paths."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.errors import UnexpectedAnswer
from harness.probes.loadfiles import (
    SCENARIO_NAMES,
    LoadFileError,
    configured_scenarios,
    locust_users,
    readme_gaps,
)
from harness.probes.repofiles import (
    base_images,
    compose_variables,
    env_values,
    final_base,
    parse_version,
    real_secrets,
    version_text,
)
from harness.report.evidence import Evidence
from harness.targets.project import Project

requirement = pytest.mark.requirement


def _load_file(project: Project, params: dict[str, Any], name: str) -> Path:
    return project.file(f"{params['load_test_dir']}/{name}", "load_test_dir")


@requirement("LOAD-LOCUSTFILE")
def test_locustfile_loads_with_locust(
    project: Project, params: dict[str, Any], evidence: Evidence
) -> None:
    locustfile = _load_file(project, params, "locustfile.py")
    try:
        users = locust_users(locustfile)
    except LoadFileError as exc:
        pytest.fail(f"locust -f {locustfile.relative_to(project.root)} --list: {exc}")
    evidence.note("user classes", users)
    assert users, f"locust found no user class in {locustfile.relative_to(project.root)}"


@requirement("LOAD-CONFIG")
def test_load_config_defines_the_five_scenarios(
    project: Project, params: dict[str, Any], evidence: Evidence
) -> None:
    config = _load_file(project, params, "load_test_config.py")
    try:
        found = configured_scenarios(config)
    except LoadFileError as exc:
        pytest.fail(f"{config.relative_to(project.root)} did not load: {exc}")
    evidence.note("scenarios", {name: [s.users, s.duration_s] for name, s in sorted(found.items())})
    problems: list[str] = []
    for name in SCENARIO_NAMES:
        users, duration_s = params[f"{name}_users"], params[f"{name}_duration_s"]
        scenario = found.get(name)
        if scenario is None:
            problems.append(f"no {name} scenario with users and a duration")
        elif (scenario.users, scenario.duration_s) != (users, duration_s):
            problems.append(
                f"{name}: {scenario.users} users for {scenario.duration_s:g} s, "
                f"the spec says {users} users for {duration_s} s"
            )
    assert not problems, f"{config.relative_to(project.root)}: {'; '.join(problems)}"


@requirement("LOAD-README")
def test_load_readme_documents_scenarios_commands_and_targets(
    project: Project, params: dict[str, Any]
) -> None:
    readme = _load_file(project, params, "README.md")
    gaps = readme_gaps(readme.read_text(encoding="utf-8", errors="replace"))
    assert not gaps, f"{readme.relative_to(project.root)} does not document {', '.join(gaps)}"


@requirement("DEP-ENV-EXAMPLE")
def test_env_example_names_every_variable_with_placeholders(
    project: Project, params: dict[str, Any], evidence: Evidence
) -> None:
    example = params["env_example"]
    values = env_values(project.read_text(example, "env_example"))
    read = compose_variables(project.read_text(params["compose_file"], "compose_file"))
    evidence.note("variables", sorted(values))
    missing = sorted(read - set(values))
    assert not missing, (
        f"{example} does not name {', '.join(missing)}, which {params['compose_file']} reads"
    )
    secrets = real_secrets(values)
    assert not secrets, (
        f"{example} holds real-looking secrets in {', '.join(secrets)}: keep placeholders "
        "(change-me) and put real values in .env only"
    )


@requirement("DEP-PREREQ-PYTHON")
def test_backend_image_runs_a_recent_python(
    project: Project, params: dict[str, Any], evidence: Evidence
) -> None:
    path = params["backend_dockerfile"]
    final = final_base(base_images(project.read_text(path, "backend_dockerfile")))
    if final is None or final.image != "python" or final.version() is None:
        got = f"FROM {final.image}:{final.tag}" if final else "no FROM line"
        raise UnexpectedAnswer(path, "a python:<version> base image in the final stage", got)
    version = final.version()
    assert version is not None
    evidence.note("final stage", f"{final.image}:{final.tag}")
    wanted = parse_version(params["min_python_version"])
    assert version >= wanted, (
        f"{path}: the backend runs on {final.image}:{final.tag}, "
        f"older than Python {params['min_python_version']}"
    )


@requirement("DEP-PREREQ-NODE")
def test_frontend_is_built_with_a_recent_node(
    project: Project, params: dict[str, Any], evidence: Evidence
) -> None:
    path = params["frontend_dockerfile"]
    stages = base_images(project.read_text(path, "frontend_dockerfile"))
    nodes = [s for s in stages if s.image == "node" and s.version() is not None]
    evidence.note("stages", [f"{s.image}:{s.tag}" for s in stages])
    assert nodes, f"{path}: no stage is built FROM node:<version> (the spec's Node.js build)"
    wanted = parse_version(params["min_node_version"])
    old = [f"node:{s.tag}" for s in nodes if (s.version() or ())[: len(wanted)] < wanted]
    assert not old, (
        f"{path}: builds with {', '.join(old)}, older than Node.js "
        f"{params['min_node_version']} ({version_text(wanted)})"
    )
