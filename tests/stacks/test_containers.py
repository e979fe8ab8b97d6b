"""The container stack in this process: labels, loopback ports, TLS, control, exec, logs,
inspection, a worker attaching by JSON, and nothing left behind."""

from __future__ import annotations

import os
import ssl
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from harness.stacks.containers import ContainerStack
from harness.stacks.docker_env import LABEL, LABEL_KIND, LABEL_RUN
from harness.targets.containers import ContainersTarget
from tests.stacks.stack_helpers import require_stack_images, resources_of_run

STARTUP_BUDGET_S = 30


def _health(url: str) -> httpx.Response:
    return httpx.get(url + "/health", timeout=10)


def _wait_status(url: str, status: int, timeout: float = 20) -> httpx.Response:
    deadline = time.monotonic() + timeout
    response = _health(url)
    while response.status_code != status and time.monotonic() < deadline:
        time.sleep(0.2)
        response = _health(url)
    return response


def _environ() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}


@pytest.fixture(scope="module")
def stack(docker_client: Any) -> Iterator[ContainerStack]:
    require_stack_images(docker_client)
    env_before = _environ()
    started = time.monotonic()
    with ContainerStack(profile="production") as running:
        running.info.to_json()  # JSON-safe
        assert time.monotonic() - started < STARTUP_BUDGET_S
        yield running
    assert _environ() == env_before, "the stack left os.environ changed"
    assert not resources_of_run(docker_client, running.run_id)
    assert not os.path.exists(running.info.workdir)


def test_everything_is_labelled_and_published_on_loopback_only(
    stack: ContainerStack, docker_client: Any
) -> None:
    info = stack.info
    assert set(info.containers) == {
        "database", "redis", "backend", "backend-replica", "frontend",
        "untrusted-client", "denied-client",  # relays the backend does not trust
    }  # fmt: skip
    for service in info.containers:
        attrs = stack.control.inspect_container(service)
        labels = attrs["Config"]["Labels"]
        assert (labels[LABEL], labels[LABEL_RUN]) == ("1", info.run_id), service
        assert labels[LABEL_KIND] == "stack", service
        assert list(attrs["NetworkSettings"]["Networks"]) == [info.network], service
        for bindings in (attrs["HostConfig"]["PortBindings"] or {}).values():
            assert all(b["HostIp"] == "127.0.0.1" for b in bindings), (service, bindings)
    assert not stack.control.inspect_container("database")["HostConfig"]["PortBindings"]
    network = docker_client.networks.get(info.network)
    assert (network.attrs["Labels"][LABEL], network.attrs["Labels"][LABEL_RUN]) == (
        "1",
        info.run_id,
    )
    aliases = stack.control.inspect_container("backend")["NetworkSettings"]["Networks"][
        info.network
    ]
    assert "backend" in aliases["Aliases"]
    # the backend trusts the gateway (the harness's hop) and the frontend, not the relays
    env = dict(
        e.partition("=")[::2] for e in stack.control.inspect_container("backend")["Config"]["Env"]
    )
    assert env["SECURITY_TRUSTED_PROXIES"] == f"{info.gateway},{info.addresses['frontend']}"
    assert info.addresses["untrusted-client"] not in env["SECURITY_TRUSTED_PROXIES"].split(",")
    assert env["SECURITY_IP_BLACKLIST"].split(",")[-1] == info.addresses["denied-client"]


def test_health_through_backend_and_frontend(stack: ContainerStack) -> None:
    info = stack.info
    body = _health(info.backend_url).json()
    assert body["components"]["database"]["status"] == "up"
    assert body["components"]["redis"]["status"] == "up"
    # the frontend's certificate verifies against the stack's CA
    with httpx.Client(verify=ssl.create_default_context(cafile=info.ca_file)) as client:
        assert client.get(info.frontend_url + "/health").status_code == 200
        api = client.get(info.frontend_url + "/api/v1/formulas")
        assert api.status_code == 200, api.text  # proxied to the migrated backend
    redirect = httpx.get(info.frontend_http_url + "/", timeout=10)
    assert redirect.status_code in (301, 308)
    assert redirect.headers["location"].startswith("https://")


def test_stop_and_start_services(stack: ContainerStack) -> None:
    url = stack.info.backend_url
    stack.control.stop("database")
    down = _wait_status(url, 503)
    assert down.status_code == 503
    assert down.json()["components"]["database"]["status"] == "down"
    stack.control.start("database")
    assert _wait_status(url, 200).status_code == 200
    stack.control.restart("redis")
    assert _wait_status(url, 200).status_code == 200
    stack.control.restart("backend")  # published on the same port again
    assert _health(url).status_code == 200
    ports = stack.control.inspect_container("backend")["NetworkSettings"]["Ports"]["8000/tcp"]
    assert url.endswith(f":{ports[0]['HostPort']}")


def test_exec_logs_and_inspection(stack: ContainerStack) -> None:
    code, output = stack.control.exec("backend", ["id", "-u"])
    assert (code, output.strip()) == (0, "10001")
    code, output = stack.control.exec("database", ["sh", "-c", "exit 3"])
    assert code == 3
    assert "ready to accept connections" in stack.control.logs("database")
    assert "GET /health" in stack.control.logs("backend")
    image = stack.control.inspect_image("backend")
    assert image["Config"]["User"].startswith("10001")
    assert stack.control.inspect_container("backend")["State"]["Running"]
    with pytest.raises(KeyError, match="no 'grafana' service"):
        stack.control.logs("grafana")


def test_a_worker_attaches_by_json_and_controls(stack: ContainerStack) -> None:
    owner = ContainersTarget(stack.info)
    worker = ContainersTarget.from_json(owner.to_json())
    try:
        assert worker.url == stack.info.backend_url
        assert worker.exec("redis", ["redis-cli", "ping"]) == (0, "PONG\n")
        with worker.outage("redis"):
            assert _wait_status(worker.url, 503).json()["components"]["redis"]["status"] == "down"
        assert _wait_status(worker.url, 200).status_code == 200
        assert worker.inspect_image("frontend")["Id"].startswith("sha256:")
        assert worker.describe()["run_id"] == stack.run_id
    finally:
        worker.close()
        owner.close()  # not the owner of the stack: closing it leaves the stack running
    assert _health(stack.info.backend_url).status_code == 200
