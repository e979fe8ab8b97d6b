"""The images `make images` built: labels, idempotency, derived images, the reference images'
build-time properties. Only images built beforehand are used (else: "run make images")."""

from __future__ import annotations

import contextlib
from typing import Any

import docker.errors
import pytest

from harness.stacks.builder import ImageBuildError
from harness.stacks.docker_env import KIND_LOCAL_IMAGE, LABEL, LABEL_KIND, LABEL_ROLE, LABEL_RUN
from harness.stacks.images import IMAGES, build_derived_image, build_images, resolve_image
from tests.stacks.conftest import require_image, run_once, skip_or_fail


def test_the_local_images_exist_and_carry_the_labels(docker_client: Any) -> None:
    missing = []
    for role, spec in IMAGES.items():
        if resolve_image(role, client=docker_client) != spec.local_tag:
            continue  # HARNESS_IMAGE_<ROLE> or the public default is in use
        try:
            labels = docker_client.images.get(spec.local_tag).labels
        except docker.errors.ImageNotFound:
            missing.append(spec.local_tag)
            continue
        assert labels[LABEL] == "1", role
        assert labels[LABEL_KIND] == KIND_LOCAL_IMAGE, role
        assert labels[LABEL_ROLE] == role, role
        assert LABEL_RUN not in labels, role  # kept between runs, never swept
    if missing:
        skip_or_fail(f"images missing ({', '.join(missing)}); run make images")


def test_build_images_skips_what_exists(
    docker_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_image(docker_client, "base")
    require_image(docker_client, "redis")
    monkeypatch.setenv("HARNESS_IMAGE_POSTGRES", "registry.example/postgres:16")
    lines: list[str] = []
    outcomes = build_images(["redis", "postgres"], progress=lines.append, client=docker_client)
    assert [(o.role, o.status) for o in outcomes] == [
        ("base", "present"),
        ("redis", "present"),
        ("postgres", "configured"),
    ]
    assert "HARNESS_IMAGE_POSTGRES=registry.example/postgres:16: not building" in lines[2]
    assert lines[-1].startswith("images: 3 ready in ")


def test_build_derived_image(docker_client: Any, run_labels: dict[str, str]) -> None:
    base = require_image(docker_client, "base")
    tag = f"prodready-test/derived:{run_labels[LABEL_RUN]}"
    dockerfile = "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nCOPY hello.txt /hello.txt\nUSER 4242\n"
    try:
        image_id = build_derived_image(
            base, dockerfile, tag, labels=run_labels, files={"hello.txt": b"hi"}
        )
        image = docker_client.images.get(tag)
        assert image.id == image_id
        assert image.labels[LABEL_RUN] == run_labels[LABEL_RUN]
        assert image.attrs["Config"]["User"] == "4242"
        assert run_once(docker_client, tag, ["cat", "/hello.txt"]) == (0, "hi")
    finally:
        with contextlib.suppress(docker.errors.ImageNotFound):
            docker_client.images.remove(tag, force=True)


def test_a_failed_build_shows_its_last_lines(
    docker_client: Any, run_labels: dict[str, str]
) -> None:
    base = require_image(docker_client, "base")
    tag = f"prodready-test/broken:{run_labels[LABEL_RUN]}"
    dockerfile = "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nRUN echo about to fail && false\n"
    with pytest.raises(ImageBuildError) as info:
        build_derived_image(base, dockerfile, tag, labels=run_labels)
    first, *tail = str(info.value).splitlines()
    assert first.startswith(f"building {tag} failed: The command '/bin/sh -c echo about to")
    assert any("about to fail" in line for line in tail)
    with pytest.raises(docker.errors.ImageNotFound):
        docker_client.images.get(tag)


def test_the_backend_image_is_lean_unprivileged_and_checks_its_health(
    docker_client: Any,
) -> None:
    image = require_image(docker_client, "backend")
    config = docker_client.images.get(image).attrs["Config"]
    assert config["User"] == "10001:10001"
    assert "8000/tcp" in config["ExposedPorts"]
    assert "http://127.0.0.1:8000/health" in " ".join(config["Healthcheck"]["Test"])
    assert config["Cmd"][-1] == "--no-migrate"
    names = {entry.split("=", 1)[0] for entry in config["Env"]}
    assert not names & {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "POSTGRES_PASSWORD"}
    # no compiler, build tools or pip in the final stage
    probe = ["-c", "command -v gcc cc make c++ pip pip3"]
    code, found = run_once(docker_client, image, probe, entrypoint=["sh"])
    assert (code != 0, found) == (True, "")
    assert run_once(docker_client, image, ["id", "-u"], entrypoint=[]) == (0, "10001\n")


def test_the_frontend_image_holds_no_key_and_runs_unprivileged(docker_client: Any) -> None:
    image = require_image(docker_client, "frontend")
    config = docker_client.images.get(image).attrs["Config"]
    assert config["User"] == "101:101"
    assert {"8080/tcp", "8443/tcp"} <= set(config["ExposedPorts"])
    assert config["Healthcheck"]["Test"] == ["CMD", "/usr/local/bin/frontend-healthcheck"]
    probe = ["-c", "grep -rl 'PRIVATE KEY' /etc /usr/share/nginx /var/cache/frontend"]
    assert run_once(docker_client, image, probe, entrypoint=["sh"], user="0") == (1, "")
