"""The local images at run time: PostgreSQL takes the official env contract, Redis persists,
the frontend terminates TLS and sets its headers on every response. Everything a test starts
carries the run label and is removed in ``finally``."""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
import ssl
import tarfile
import time
import uuid
from collections.abc import Iterator
from typing import Any

import asyncpg
import docker.errors
import httpx
import pytest
import trustme

from harness.stacks.docker_env import LABEL_RUN
from tests.stacks.conftest import require_image


@pytest.fixture
def containers(docker_client: Any) -> Iterator[list[Any]]:
    """Containers a test starts; removed with their volumes however the test ends."""
    started: list[Any] = []
    yield started
    for container in started:
        with contextlib.suppress(docker.errors.NotFound):
            container.remove(force=True, v=True)


def _exec(container: Any, command: str) -> tuple[int, str]:
    code, output = container.exec_run(["sh", "-c", command])
    return int(code), output.decode(errors="replace")


def _wait_for_log(container: Any, pattern: str, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        logs: str = container.logs().decode(errors="replace")
        if re.search(pattern, logs, re.S):
            return logs
        container.reload()
        if container.status == "exited":
            break
        time.sleep(0.3)
    pytest.fail(f"no {pattern!r} in the logs:\n{container.logs().decode(errors='replace')}")


def _uid_of_pid_1(container: Any) -> int:
    _, status = _exec(container, "cat /proc/1/status")
    match = re.search(r"^Uid:\s+(\d+)", status, re.M)
    assert match, status
    return int(match.group(1))


def test_postgres_takes_the_official_env_contract(
    docker_client: Any, containers: list[Any], run_labels: dict[str, str]
) -> None:
    image = require_image(docker_client, "postgres")
    password = uuid.uuid4().hex
    db = docker_client.containers.run(
        image,
        detach=True,
        labels=run_labels,
        environment={"POSTGRES_USER": "app", "POSTGRES_PASSWORD": password, "POSTGRES_DB": "f"},
        ports={"5432/tcp": ("127.0.0.1", None)},
    )
    containers.append(db)
    _wait_for_log(db, r"init process complete.*database system is ready to accept connections")
    db.reload()
    port = int(db.ports["5432/tcp"][0]["HostPort"])
    assert db.ports["5432/tcp"][0]["HostIp"] == "127.0.0.1"

    async def probe() -> tuple[str, str]:
        conn = await asyncpg.connect(
            host="127.0.0.1", port=port, user="app", password=password, database="f"
        )
        try:
            row = await conn.fetchrow("select current_user, current_database()")
            return str(row[0]), str(row[1])
        finally:
            await conn.close()

    async def wrong_password() -> None:
        await asyncpg.connect(host="127.0.0.1", port=port, user="app", password="x", database="f")

    assert asyncio.run(probe()) == ("app", "f")
    with pytest.raises(asyncpg.InvalidPasswordError):
        asyncio.run(wrong_password())
    assert _uid_of_pid_1(db) != 0
    assert _exec(db, "pg_isready -q -h 127.0.0.1 -U app")[0] == 0


def test_redis_persists_as_a_non_root_user(
    docker_client: Any, containers: list[Any], run_labels: dict[str, str]
) -> None:
    image = require_image(docker_client, "redis")
    redis = docker_client.containers.run(image, detach=True, labels=run_labels)
    containers.append(redis)
    _wait_for_log(redis, r"Ready to accept connections")
    assert _exec(redis, "redis-cli set harness-key 42")[1].strip() == "OK"
    code, files = _exec(redis, "ls -R /data")
    assert code == 0
    assert "appendonly" in files
    assert _uid_of_pid_1(redis) != 0


def _tls_archive(cert: Any) -> bytes:
    files = {
        "tls/tls.crt": cert.cert_chain_pems[0].bytes(),
        "tls/tls.key": cert.private_key_pem.bytes(),
    }
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.uid, info.gid, info.mode = len(content), 101, 101, 0o600
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def test_the_frontend_serves_tls_and_sets_its_headers_also_on_errors(
    docker_client: Any, run_labels: dict[str, str]
) -> None:
    image = require_image(docker_client, "frontend")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    network = docker_client.networks.create(f"harness-{run_labels[LABEL_RUN]}", labels=run_labels)
    web = None
    try:
        # alone on its network: /api/ finds no backend
        web = docker_client.containers.create(
            image,
            labels=run_labels,
            network=network.name,
            ports={"8080/tcp": ("127.0.0.1", None), "8443/tcp": ("127.0.0.1", None)},
        )
        assert web.put_archive("/etc/nginx", _tls_archive(cert))
        web.start()
        web.reload()
        http = f"http://127.0.0.1:{web.ports['8080/tcp'][0]['HostPort']}"
        https = f"https://127.0.0.1:{web.ports['8443/tcp'][0]['HostPort']}"
        context = ssl.create_default_context()
        ca.configure_trust(context)
        with httpx.Client(verify=context, timeout=10) as client:
            _wait_until(lambda: client.get(http + "/health").status_code == 200)
            assert client.get(http + "/health").json()["status"] == "healthy"
            moved = client.get(http + "/index.html")
            assert moved.status_code == 301
            assert moved.headers["location"] == "https://127.0.0.1:8443/index.html"
            assert "strict-transport-security" not in moved.headers

            page = client.get(https + "/")
            script = client.get(https + _an_asset(".js"), headers={"Accept-Encoding": "gzip"})
            missing = client.get(https + "/assets/missing.js")
            api_down = client.get(https + "/api/formulas")
    finally:
        if web is not None:
            web.remove(force=True, v=True)
        network.remove()
    assert page.status_code == 200
    assert script.headers["content-encoding"] == "gzip"
    assert script.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert (missing.status_code, missing.headers["content-type"]) == (404, "text/html")
    assert "cache-control" not in missing.headers
    assert api_down.status_code == 502
    assert api_down.headers["content-type"] == "application/json"
    for response in (page, script, missing, api_down):
        headers = response.headers
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
        assert headers["server"] == "nginx"  # no version


def _an_asset(suffix: str) -> str:
    from reference_app.frontend import STATIC_ROOT

    path = next(STATIC_ROOT.rglob(f"*{suffix}"))
    return "/" + path.relative_to(STATIC_ROOT).as_posix()


def _wait_until(check: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            pytest.fail("the frontend did not answer /health")
        time.sleep(0.2)
