"""Deployment Automation > Docker Compose, read as the repository's file (``--project-root``):
the Compose file as Docker Compose v2 itself resolves it (harness/stacks/compose.py)."""

from __future__ import annotations

from typing import Any

import pytest

from harness.report.evidence import Evidence
from harness.stacks.compose import ComposeConfigError, ComposeUnavailable, compose_config
from harness.targets.project import Project

requirement = pytest.mark.requirement


@requirement("DEP-COMPOSE-VALID")
def test_compose_file_validates_and_defines_the_services(
    project: Project, params: dict[str, Any], evidence: Evidence
) -> None:
    compose_file = project.file(params["compose_file"], "compose_file")
    example = project.path(params["env_example"])
    # the example's placeholders stand in for the secrets a real .env holds; without it the
    # file is judged uninterpolated
    env_file = example if example.is_file() else None
    try:
        resolved = compose_config(project.root, compose_file, env_file)
    except ComposeUnavailable as exc:
        pytest.skip(str(exc))
    except ComposeConfigError as exc:
        pytest.fail(f"docker compose config refuses {params['compose_file']}: {exc}")
    services = resolved.get("services")
    assert isinstance(services, dict), f"{params['compose_file']} defines no services"
    evidence.note("services", sorted(services))
    evidence.note("interpolated from", params["env_example"] if env_file else "nothing")
    missing = [name for name in params["compose_services"] if name not in services]
    assert not missing, (
        f"{params['compose_file']} has no service {', '.join(missing)} "
        "(the parameter compose_services names them when yours are called otherwise)"
    )
