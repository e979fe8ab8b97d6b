"""Image roles and `make images` without an engine: resolution, the roles' contract, one-line
errors when Docker is missing, the generated deploy files."""

from __future__ import annotations

import re
import subprocess
import sys

import docker.errors
import pytest

from harness.stacks import docker_env
from harness.stacks.builder import ImageBuildError
from harness.stacks.docker_env import DockerUnavailable, docker_client, docker_required
from harness.stacks.images import IMAGES, resolve_image
from tests.conftest import REPO, clean_env

MISSING_SOCKET = "unix:///nonexistent/harness-test/docker.sock"


class _Images:
    def __init__(self, present: set[str]) -> None:
        self.present = present

    def get(self, tag: str) -> object:
        if tag not in self.present:
            raise docker.errors.ImageNotFound(tag)
        return object()


class FakeClient:
    """Only what resolve_image asks of an engine: does this tag exist?"""

    def __init__(self, *present: str) -> None:
        self.images = _Images(set(present))


def test_resolve_prefers_the_env_var_then_the_local_tag_then_the_public_default() -> None:
    spec = IMAGES["postgres"]
    with_local = FakeClient(spec.local_tag)
    env = {spec.env_var: "registry.example/pg:16"}
    assert resolve_image("postgres", env=env, client=with_local) == "registry.example/pg:16"
    assert resolve_image("postgres", env={}, client=with_local) == spec.local_tag
    assert resolve_image("postgres", env={}, client=FakeClient()) == "postgres:16-alpine"
    # an empty variable counts as unset
    assert resolve_image("postgres", env={spec.env_var: " "}, client=FakeClient()) == (
        "postgres:16-alpine"
    )


def test_the_reference_images_resolve_to_their_local_tags_without_a_default() -> None:
    assert resolve_image("backend", env={}, client=FakeClient()) == IMAGES["backend"].local_tag
    assert resolve_image("frontend", env={"HARNESS_IMAGE_FRONTEND": "me/web:2"}) == "me/web:2"


def test_unknown_role_is_one_line() -> None:
    with pytest.raises(ImageBuildError, match=r"^unknown image role 'mysql'; choose from base, "):
        resolve_image("mysql", env={}, client=FakeClient())


def test_the_roles_are_those_of_docs_stacks_md() -> None:
    table = (REPO / "docs" / "docs" / "stacks.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\w+) \| `(\w+)` \| `([^`]+)`[^|]*\| `?([^|`]+?)`? \|$", table, re.M)
    documented = {role: (env, tag, default) for role, env, tag, default in rows}
    assert set(documented) == set(IMAGES)
    for role, spec in IMAGES.items():
        env, tag, default = documented[role]
        assert (env, tag) == (spec.env_var, spec.local_tag)
        assert default == (spec.public_default or "(built locally)")


def test_dependencies_come_first() -> None:
    assert IMAGES["backend"].depends_on == ("python",)
    assert IMAGES["frontend"].depends_on == ("nginx",)
    for role in ("postgres", "redis", "python", "nginx", "prometheus"):
        assert IMAGES[role].depends_on == ("base",)


def test_testcontainers_settings() -> None:
    assert docker_env.testcontainers_env() == {
        "TESTCONTAINERS_RYUK_DISABLED": "true",
        "TESTCONTAINERS_CONNECTION_MODE": "docker_host",
        "TC_HOST": "127.0.0.1",
    }


def test_missing_docker_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", MISSING_SOCKET)
    with pytest.raises(DockerUnavailable) as info:
        docker_client(timeout=5)
    assert str(info.value) == (
        f"Docker is not available (cannot connect to {MISSING_SOCKET}); "
        "install docker.io and start dockerd --ip=127.0.0.1"
    )


@pytest.mark.parametrize("command", [["build"], ["list"]])
def test_the_command_fails_with_one_line_and_exit_2_without_docker(command: list[str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "harness.stacks", *command],
        env=clean_env() | {"DOCKER_HOST": MISSING_SOCKET},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.splitlines() == [
        f"harness: error: Docker is not available (cannot connect to {MISSING_SOCKET}); "
        "install docker.io and start dockerd --ip=127.0.0.1"
    ]


def test_require_docker_reads_the_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for value, expected in (("1", True), ("true", True), ("0", False), ("", False)):
        monkeypatch.setenv("HARNESS_REQUIRE_DOCKER", value)
        assert docker_required() is expected


def test_nginx_conf_in_deploy_is_the_rendered_template() -> None:
    from harness.stacks.contexts import image_nginx_conf
    from harness.stacks.reference import app_paths

    committed = (app_paths().deploy / "nginx.conf").read_text(encoding="utf-8")
    assert committed == image_nginx_conf(), (
        "reference_app/deploy/nginx.conf is stale: "
        ".venv/bin/python -m harness.stacks nginx-conf > reference_app/deploy/nginx.conf"
    )


def test_the_runtime_requirements_are_pinned_as_in_pyproject() -> None:
    from harness.stacks.contexts import runtime_requirements

    pins = runtime_requirements()
    assert all("==" in pin for pin in pins)
    assert any(pin.startswith("fastapi==") for pin in pins)
    assert not any(pin.startswith(("pytest", "testcontainers", "docker")) for pin in pins)
