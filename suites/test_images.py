"""Deployment Automation > Docker Containerization: the images, and nginx in front of the app."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from harness.probes import frontend as fe
from harness.probes import images as im
from harness.probes.http import client_for
from harness.report.evidence import Evidence
from harness.targets import Capability, Target
from harness.targets.base import ContainerAccess

requirement = pytest.mark.requirement
HEALTHY_TIMEOUT_S = 90.0


@pytest.fixture
def frontend(target: Target, evidence: Evidence) -> Iterator[httpx.Client]:
    """A client for the frontend (HTTPS where the target terminates TLS)."""
    url = target.require(Capability.FRONTEND)
    with client_for(url, on_response=evidence.exchange) as client:
        yield client


@pytest.fixture
def containers(target: Target) -> ContainerAccess:
    """Exec into the services and inspect their images (a containers target only)."""
    return target.require(Capability.CONTAINERS)


def _image(containers: ContainerAccess, service: str, evidence: Evidence) -> dict[str, Any]:
    image = containers.inspect_image(service)
    evidence.note(f"{service} image", {"id": image.get("Id"), "tags": image.get("RepoTags")})
    return image


# --- the images ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "rid"),
    [
        pytest.param("backend", "DEP-BACKEND-NONROOT", marks=requirement("DEP-BACKEND-NONROOT")),
        pytest.param("frontend", "DEP-FRONTEND-NONROOT", marks=requirement("DEP-FRONTEND-NONROOT")),
    ],
)
def test_image_runs_as_non_root(
    containers: ContainerAccess, evidence: Evidence, service: str, rid: str
) -> None:
    image = _image(containers, service, evidence)
    user = im.image_user(image)
    evidence.note("image USER", user or "(none: root)")
    assert not im.is_root_user(user), f"the {service} image runs as root (USER {user!r})"
    code, status = containers.exec(service, ["cat", "/proc/1/status"])
    uid = im.proc_status_uid(status)
    evidence.note("uid of PID 1", uid)
    assert code == 0, f"cannot read PID 1's status in {service}: {status[:200]}"
    assert uid not in (None, 0), f"PID 1 of the {service} container runs with uid {uid}"


@requirement("DEP-BACKEND-HEALTHCHECK")
def test_backend_image_healthcheck_turns_healthy(
    containers: ContainerAccess, evidence: Evidence, params: dict[str, Any]
) -> None:
    test = im.healthcheck_test(_image(containers, "backend", evidence))
    evidence.note("HEALTHCHECK", test)
    assert test is not None, "the backend image defines no HEALTHCHECK"
    assert any(params["health_path"] in part for part in test), (
        f"the HEALTHCHECK does not probe {params['health_path']}: {test}"
    )
    deadline = time.monotonic() + HEALTHY_TIMEOUT_S
    status = None
    while time.monotonic() < deadline:
        health = (containers.inspect_container("backend").get("State") or {}).get("Health") or {}
        status = health.get("Status")
        if status == "healthy":
            break
        time.sleep(1)
    evidence.note("container health", status)
    assert status == "healthy", f"the backend container is {status!r}, not healthy"


@requirement("DEP-BACKEND-NO-COMPILER")
def test_backend_image_has_no_build_tools(containers: ContainerAccess, evidence: Evidence) -> None:
    _image(containers, "backend", evidence)
    _, output = containers.exec("backend", ["sh", "-c", im.FIND_BUILD_TOOLS])
    tools = im.found_paths(output)
    evidence.note("build tools found", tools)
    assert not tools, f"the final backend image contains build tools: {', '.join(tools)}"


@requirement("DEP-BACKEND-NO-SECRETS")
def test_backend_image_holds_no_secrets(containers: ContainerAccess, evidence: Evidence) -> None:
    image = _image(containers, "backend", evidence)
    in_env = im.secret_env(image)
    in_history = im.secret_history(containers.image_history("backend"))
    _, output = containers.exec("backend", ["sh", "-c", im.FIND_PRIVATE_KEYS])
    in_files = im.found_paths(output)
    evidence.note("secrets", {"env": in_env, "history": in_history, "files": in_files})
    assert not in_env, f"the image's environment sets secrets: {in_env}"
    assert not in_history, f"the image's build history holds secrets: {in_history}"
    assert not in_files, f"the image contains private keys or .env files: {in_files}"


# --- nginx in front of the app ------------------------------------------------------------


def _assets(frontend: httpx.Client) -> tuple[httpx.Response, list[str]]:
    page = frontend.get("/", headers={"Accept-Encoding": "identity"})
    assert page.status_code == 200, f"the frontend's / answered {page.status_code}"
    return page, fe.referenced_assets(page.text)


@requirement("DEP-FRONTEND-GZIP")
def test_frontend_gzips_text(frontend: httpx.Client, evidence: Evidence) -> None:
    _, assets = _assets(frontend)
    for path in ["/", *assets]:
        plain = frontend.get(path, headers={"Accept-Encoding": "identity"}).content
        response = frontend.get(path, headers={"Accept-Encoding": "gzip"})
        encoding = response.headers.get("content-encoding")
        evidence.note(path, {"content-encoding": encoding, "bytes": len(plain)})
        assert encoding == "gzip", f"{path} ({len(plain)} bytes) is served without gzip"
        # httpx decodes gzip itself: the decoded body must be the identity body
        assert response.content == plain, f"{path} decompresses to something else"


@requirement("DEP-FRONTEND-ASSET-CACHE")
def test_static_assets_are_cached_and_the_shell_revalidated(
    frontend: httpx.Client, evidence: Evidence, params: dict[str, Any]
) -> None:
    page, assets = _assets(frontend)
    shell_cache = page.headers.get("cache-control")
    evidence.note("index.html Cache-Control", shell_cache)
    assert fe.must_revalidate(shell_cache), (
        f"index.html is cached without revalidation (Cache-Control: {shell_cache!r}): "
        "a deploy would not reach returning users"
    )
    assert assets, "index.html loads no scripts or stylesheets to check"
    minimum = params["static_cache_min_max_age_s"]
    for path in assets:
        value = frontend.get(path).headers.get("cache-control")
        evidence.note(path, value)
        assert fe.is_fingerprinted(path), f"{path} has no content hash in its name"
        age = fe.max_age(value)
        assert age is not None, f"{path} has no max-age (Cache-Control {value!r})"
        assert age >= minimum, f"{path} has Cache-Control {value!r}; expected max-age >= {minimum}"


def _media_type(response: httpx.Response) -> str:
    return str(response.headers.get("content-type", "")).split(";")[0].strip().lower()


@requirement("DEP-FRONTEND-PROXY")
def test_frontend_serves_the_app_and_forwards_the_api(
    frontend: httpx.Client, http: httpx.Client, params: dict[str, Any], evidence: Evidence
) -> None:
    page = frontend.get("/")
    assert page.status_code == 200, f"the frontend's / answered {page.status_code}"
    assert _media_type(page) == "text/html", f"the frontend's / is {_media_type(page)!r}"
    path = params["api_probe_path"]
    direct, through = http.get(path), frontend.get(path)
    answers = {
        "backend": [direct.status_code, _media_type(direct)],
        "frontend": [through.status_code, _media_type(through)],
    }
    evidence.note(path, answers)
    # the app's own routes answer with its HTML shell: an API path that does too is not proxied
    assert answers["frontend"] == answers["backend"], (
        f"{path} through the frontend answers {through.status_code} {_media_type(through)}, "
        f"the backend {direct.status_code} {_media_type(direct)}: the API is not proxied"
    )


@requirement("DEP-FRONTEND-HEADERS")
def test_frontend_headers_on_its_own_404(frontend: httpx.Client, evidence: Evidence) -> None:
    response = frontend.get(f"/assets/missing-{uuid.uuid4().hex}.js")
    assert response.status_code == 404, f"a missing asset answered {response.status_code}"
    missing = fe.missing_headers(dict(response.headers), fe.FRONTEND_SECURITY_HEADERS)
    assert not missing, f"nginx's 404 lacks {', '.join(missing)}"


@requirement("DEP-FRONTEND-HEADERS")
@pytest.mark.disruptive
def test_frontend_headers_on_5xx(
    target: Target, frontend: httpx.Client, evidence: Evidence
) -> None:
    with target.require(Capability.CONTROL).outage("backend"):
        response = frontend.get("/api/v1/formulas")
    assert response.status_code >= 500, (
        f"with the backend down /api answered {response.status_code}"
    )
    missing = fe.missing_headers(dict(response.headers), fe.FRONTEND_SECURITY_HEADERS)
    assert not missing, f"nginx's {response.status_code} lacks {', '.join(missing)}"
