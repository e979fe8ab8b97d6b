"""Quick Start > Development Setup, as the spec writes it, on a throwaway Compose project of the
repository (harness/stacks/project_stack.py): ``cp .env.example .env``, ``docker-compose up
-d``, then ``docker-compose exec backend alembic upgrade head`` and ``docker-compose exec
backend python -m app.create_admin``, the admin logging in through the backend's API."""

from __future__ import annotations

import secrets
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest

from harness.config import HarnessConfig
from harness.report.evidence import Evidence
from harness.stacks.compose import ComposeUnavailable
from harness.stacks.project_stack import DrillError, ThrowawayProject, free_port
from harness.targets.deployment import totp_secret
from harness.targets.project import throwaway_compose_files, throwaway_source

requirement = pytest.mark.requirement
pytestmark = [pytest.mark.xdist_group("quickstart")]

NEEDS_CONTAINERS = "the Quick Start runs the Compose file on Docker: use --stack containers"
HEALTHY_WITHIN_S = 90.0
BACKEND_PORT = 8000  # the spec's: "The backend service publishes port 8000"


@dataclass
class QuickStart:
    project: ThrowawayProject
    backend: str  # the backend's URL on this machine
    up_output: str
    up_code: int


@pytest.fixture(scope="module")
def quickstart(
    harness_config: HarnessConfig, session_params: dict[str, Any]
) -> Iterator[QuickStart]:
    params = session_params
    root, example = throwaway_source(
        harness_config.project_root, harness_config.stack, params, NEEDS_CONTAINERS
    )
    files = throwaway_compose_files(params)
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="harness-quickstart-") as workdir:
        try:
            # .env is .env.example as it is: the Quick Start's `cp .env.example .env`
            with ThrowawayProject.create(root, Path(workdir), files, example) as project:
                (project.root / "harness-quickstart.yml").write_text(
                    "services:\n  backend:\n    ports:\n"
                    f'      - "127.0.0.1:{port}:{BACKEND_PORT}"\n'
                )
                project.env["COMPOSE_FILE"] = f"{files}:harness-quickstart.yml"
                code, output = project.run("up", "-d", "--build", timeout=600)
                yield QuickStart(project, f"http://127.0.0.1:{port}", output, code)
        except (ComposeUnavailable, DrillError) as exc:
            pytest.skip(f"the Quick Start cannot run here: {exc}")


def _health(url: str) -> tuple[int | None, str]:
    try:
        answer = httpx.get(url, timeout=5)
    except httpx.HTTPError:
        return None, "no answer"
    return answer.status_code, answer.text[:300]


@requirement("DEP-DEV-START")
def test_a_fresh_checkout_starts_with_the_example_settings_and_turns_healthy(
    quickstart: QuickStart, params: dict[str, Any], evidence: Evidence
) -> None:
    assert quickstart.up_code == 0, (
        f"docker compose up -d with .env copied from {params['env_example']} exited "
        f"{quickstart.up_code}: {quickstart.up_output.strip().splitlines()[-1:]}"
    )
    url = quickstart.backend + params["health_path"]
    deadline = time.monotonic() + HEALTHY_WITHIN_S
    status, body = _health(url)
    while status != 200 and time.monotonic() < deadline:
        time.sleep(2)
        status, body = _health(url)
    evidence.note("backend health", {"url": params["health_path"], "status": status, "body": body})
    evidence.note("services", quickstart.project.states())
    assert status == 200, (
        f"the backend's {params['health_path']} answered {status or 'nothing'} "
        f"{HEALTHY_WITHIN_S:.0f}s after up -d: {body}"
    )
    unhealthy = {s: st for s, st in quickstart.project.states().items() if "unhealthy" in st}
    assert not unhealthy, f"services unhealthy after up -d: {unhealthy}"


@requirement("DEP-CREATE-ADMIN")
def test_create_admin_makes_an_admin_who_logs_in_and_never_a_duplicate(
    quickstart: QuickStart, params: dict[str, Any], evidence: Evidence
) -> None:
    if quickstart.up_code != 0:
        pytest.fail("the stack did not start (DEP-DEV-START says why)")
    project = quickstart.project
    code, output = project.run("exec", "-T", "backend", "alembic", "upgrade", "head")
    assert code == 0, f"alembic upgrade head in the backend exited {code}: {output[-300:]}"
    username = f"harness{secrets.token_hex(3)}"
    password = f"Hx-{secrets.token_urlsafe(18)}9"
    module = f"{params['app_package']}.create_admin"
    command = ["exec", "-T", "backend", "python", "-m", module, "--username", username]
    first, said = project.run(*command, "--password-stdin", stdin=password + "\n")
    # the enrolment line carries the admin's TOTP secret: used, never recorded
    secret = totp_secret(said)
    said = "\n".join(line for line in said.splitlines() if not line.startswith("totp: "))
    evidence.note("first run", {"exit": first, "output": said.strip()[-300:]})
    assert first == 0, f"python -m {module} exited {first}: {said.strip()[-300:]}"
    body = {"username": username, "password": password}
    login = httpx.post(
        quickstart.backend + params["login_path"],
        json={**body, "otp": pyotp.TOTP(secret).now()} if secret else body,
        timeout=10,
    )
    evidence.note("login", {"status": login.status_code, "second factor": bool(secret)})
    assert login.status_code == 200, f"the new admin's login answered {login.status_code}"
    again, said = project.run(*command, "--password-stdin", stdin=password + "\n")
    evidence.note("second run", {"exit": again, "output": said.strip()[-300:]})
    assert again != 0, f"a second python -m {module} for {username} succeeded: a duplicate admin"
    assert "Traceback" not in said, f"the second run crashed instead of refusing: {said[-300:]}"
