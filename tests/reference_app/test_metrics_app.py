"""The app's /metrics: exact counts by route template, the Redis cache and its counters, and
several uvicorn workers adding up (a real `serve --workers 2`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from harness.probes.metrics import Scrape
from reference_app.app import create_app
from reference_app.core.config import Settings
from tests.reference_app.conftest import Serve, free_port

ITEM = "/api/v1/formulas/{formula_id}"


async def _scrape(client: httpx.AsyncClient) -> Scrape:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return Scrape.parse(response.text)


async def _create(client: httpx.AsyncClient, name: str) -> int:
    created = await client.post("/api/v1/formulas", json={"name": name, "expression": "x + 1"})
    assert created.status_code == 201, created.text
    ident: int = created.json()["id"]
    return ident


@pytest.mark.anyio
async def test_requests_are_counted_by_route_template_never_by_path(
    client: httpx.AsyncClient,
) -> None:
    before = await _scrape(client)
    for ident in (2_000_000_001, 2_000_000_002, 2_000_000_003):
        assert (await client.get(f"/api/v1/formulas/{ident}")).status_code == 404
    assert (await client.get("/no/such/route")).status_code == 404
    assert (await client.delete("/health")).status_code == 405
    after = await _scrape(client)

    def rise(name: str, **labels: str) -> float:
        return after.value(name, **labels) - before.value_or_zero(name, **labels)

    assert rise("http_requests_total", route=ITEM, method="GET", status="404") == 3
    assert rise("http_request_errors_total", route=ITEM, status_class="4xx") == 3
    assert rise("http_request_duration_seconds_count", route=ITEM, method="GET") == 3
    assert rise("http_requests_total", route="unmatched", status="404") == 1
    assert rise("http_requests_total", route="/health", method="DELETE", status="405") == 1
    routes = after.label_values("http_requests_total", "route")
    assert not [route for route in routes if "2000000" in route]
    assert "/metrics" not in routes  # a scrape does not count itself
    assert {0.2, 0.5, 1.0} <= after.bucket_bounds("http_request_duration_seconds")


@pytest.mark.anyio
async def test_a_request_the_rate_limit_refuses_is_counted(
    make_settings: Callable[..., Settings], serve: Serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SECURITY_RATE_LIMIT_CALLS", "2")
    app = create_app(make_settings())
    client = await serve(app)
    # the scrapes come from another address, with a budget of their own (as Prometheus's)
    scraper = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("10.9.9.9", 4000)),
        base_url="http://testserver",
    )
    async with scraper:
        before = await _scrape(scraper)
        statuses = [(await client.get("/api/v1/formulas")).status_code for _ in range(4)]
        after = await _scrape(scraper)

    assert 429 in statuses
    refused = after.value("http_requests_total", status="429") - before.value_or_zero(
        "http_requests_total", status="429"
    )
    assert refused == statuses.count(429)


@pytest.mark.anyio
async def test_pool_gauges_and_process_gauges(client: httpx.AsyncClient) -> None:
    await client.get("/api/v1/formulas")
    found = await _scrape(client)

    assert found.value("db_pool_size") >= 1
    assert found.value("db_pool_connections_idle") >= 1
    assert found.value("db_pool_connections_in_use") == 0
    assert found.value("backend_process_cpu_seconds_total") > 0
    assert found.value("backend_process_resident_memory_bytes") > 2**20


@pytest.mark.anyio
async def test_logins_are_counted_by_outcome_and_the_user_becomes_active(
    make_settings: Callable[..., Settings], serve: Serve, redis_url: str
) -> None:
    client = await serve(create_app(make_settings(redis_url=redis_url)))
    account = {
        "username": "metrics-user",
        "email": "m@example.org",
        "password": "kT9!mQ2#vX7$wR4%zL",
    }
    registered = await client.post("/api/v1/auth/register", json=account)
    assert registered.status_code == 201, registered.text
    before = await _scrape(client)
    wrong = {"username": "metrics-user", "password": "nope"}
    assert (await client.post("/api/v1/auth/login", json=wrong)).status_code == 401
    right = {"username": "metrics-user", "password": account["password"]}
    login = await client.post("/api/v1/auth/login", json=right)
    assert login.status_code == 200
    token = login.json()["access_token"]
    me = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    after = await _scrape(client)

    assert me.status_code == 200
    for outcome in ("success", "failure"):
        moved = after.value("user_logins_total", outcome=outcome) - before.value(
            "user_logins_total", outcome=outcome
        )
        assert moved == 1, outcome
    assert after.value("active_users") >= 1


def _cache(scrape: Scrape) -> dict[str, float]:
    return {
        kind: scrape.value(f"cache_{kind}_total", cache="formulas")
        for kind in ("hits", "misses", "errors")
    }


def _moved(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {kind: after[kind] - before[kind] for kind in before}


@pytest.mark.anyio
async def test_reads_hit_the_cache_and_a_write_invalidates_it(
    make_settings: Callable[..., Settings], serve: Serve, redis_url: str
) -> None:
    client = await serve(create_app(make_settings(redis_url=redis_url)))
    ident = await _create(client, "cached")
    start = _cache(await _scrape(client))
    reads = [(await client.get(f"/api/v1/formulas/{ident}")).json() for _ in range(3)]
    assert reads[0] == reads[1] == reads[2]
    read = _cache(await _scrape(client))
    assert _moved(start, read) == {"hits": 2, "misses": 1, "errors": 0}

    changed = await client.patch(f"/api/v1/formulas/{ident}", json={"expression": "x + 2"})
    assert changed.status_code == 200
    again = await client.get(f"/api/v1/formulas/{ident}")
    assert again.json()["expression"] == "x + 2"
    assert _moved(read, _cache(await _scrape(client))) == {"hits": 0, "misses": 1, "errors": 0}

    assert (await client.delete(f"/api/v1/formulas/{ident}")).status_code == 204
    assert (await client.get(f"/api/v1/formulas/{ident}")).status_code == 404


@pytest.mark.anyio
async def test_unreachable_redis_serves_from_the_database_and_counts_errors(
    make_settings: Callable[..., Settings], serve: Serve
) -> None:
    client = await serve(create_app(make_settings(redis_url=f"redis://127.0.0.1:{free_port()}/0")))
    ident = await _create(client, "uncached")
    start = _cache(await _scrape(client))
    statuses = [(await client.get(f"/api/v1/formulas/{ident}")).status_code for _ in range(2)]
    changed = await client.patch(f"/api/v1/formulas/{ident}", json={"expression": "x + 3"})
    after = await _scrape(client)

    assert statuses == [200, 200]
    assert changed.status_code == 200
    moved = _moved(start, _cache(after))
    assert moved["hits"] == moved["misses"] == 0
    assert moved["errors"] == 3  # two reads and the invalidation of the write
    assert not after.series("active_users")  # its store did not answer: no figure at all


@pytest.mark.anyio
async def test_without_redis_nothing_is_cached_and_nothing_counted_as_an_error(
    client: httpx.AsyncClient,
) -> None:
    ident = await _create(client, "plain")
    start = _cache(await _scrape(client))
    assert (await client.get(f"/api/v1/formulas/{ident}")).status_code == 200
    assert _moved(start, _cache(await _scrape(client))) == {"hits": 0, "misses": 0, "errors": 0}


@pytest.fixture
def two_workers(db_url: str, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``serve --workers 2`` on a free port with its own PROMETHEUS_MULTIPROC_DIR, holding a
    stale value of an earlier run; yields the URL and that directory."""
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_1.db").write_bytes(b"stale")
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "ENVIRONMENT": "development",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
    }
    env.pop("REDIS_URL", None)
    argv = [sys.executable, "-m", "reference_app", "serve", "--port", str(port)]
    argv += ["--workers", "2", "--no-migrate", "--log-level", "warning"]
    process = subprocess.Popen(argv, env=env, cwd=tmp_path, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while not _answers(url + "/health"):
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "serve --workers 2 did not come up"
            time.sleep(0.2)
        yield url, metrics_dir
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _fresh_get(url: str) -> httpx.Response:
    # a new connection each time, so the kernel hands requests to either worker
    with httpx.Client(timeout=5) as one_shot:
        return one_shot.get(url)


def test_two_workers_add_up_exactly(two_workers: tuple[str, Path]) -> None:
    url, metrics_dir = two_workers
    sent = 40
    for n in range(sent):
        assert _fresh_get(f"{url}/api/v1/formulas/{2_000_000_000 + n}").status_code == 404
    scrapes = [Scrape.parse(_fresh_get(url + "/metrics").text) for _ in range(6)]

    assert not (metrics_dir / "counter_1.db").exists()  # the earlier run's values are gone
    pids = {path.stem.rsplit("_", 1)[-1] for path in metrics_dir.glob("counter_*.db")}
    assert len(pids) == 2, "both workers counted requests"
    for found in scrapes:  # whichever worker answers the scrape, it reports both
        assert found.value("http_requests_total", route=ITEM, status="404") == sent
        assert found.value("http_request_duration_seconds_count", route=ITEM) == sent
        assert found.value("db_pool_size") == 20  # 10 per worker, both live


def test_serve_makes_a_private_metrics_directory_and_sweeps_abandoned_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reference_app.__main__ import _metrics_directory

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "")  # unset, restored after the test
    abandoned = tmp_path / "reference-app-metrics-999999999-x"  # no such process
    running = tmp_path / f"reference-app-metrics-{os.getpid()}-y"
    for directory in (abandoned, running):
        directory.mkdir()

    private = _metrics_directory()

    assert private is not None
    assert private.parent == tmp_path
    assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(private)
    assert not abandoned.exists()
    assert running.exists()
