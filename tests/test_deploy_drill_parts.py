"""The deploy drills' parts that need no Docker: the drill's .env, the writer's bookkeeping
(acknowledged, lost, downtime) against a small local API, and the skip without containers."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from harness.probes.writer import Writer
from harness.stacks.project_stack import drill_env_file
from reference_app.project_mutants import PROJECT
from tests.conftest import REPO, clean_env


def test_the_drill_env_replaces_placeholders_and_applies_overrides() -> None:
    example = "# comment\nPOSTGRES_PASSWORD=change-me\nLOG_LEVEL=info\nSECRET_KEY=changeme-long\n"
    env = drill_env_file(example, {"LOG_LEVEL": "debug", "EXTRA": "1"})
    values = dict(line.split("=", 1) for line in env.splitlines() if "=" in line)
    assert env.startswith("# comment\n")
    assert values["LOG_LEVEL"] == "debug"
    assert values["EXTRA"] == "1"
    for key in ("POSTGRES_PASSWORD", "SECRET_KEY"):
        assert values[key].startswith("drill-"), values
        assert len(values[key]) > 30, values
    assert values["POSTGRES_PASSWORD"] != values["SECRET_KEY"]


class _Store:
    """Acknowledges writes; drops the ones listed in ``forget``; down while ``down`` is set."""

    def __init__(self) -> None:
        self.rows: dict[str, str] = {}
        self.down = threading.Event()
        self.forget: set[str] = set()
        self.next_id = 0


def _handler(store: _Store) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _answer(self, status: int, body: object) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            if store.down.is_set():
                self._answer(502, {"detail": "down"})
                return
            store.next_id += 1
            ident = str(store.next_id)
            if ident not in store.forget:
                store.rows[ident] = "x"
            self._answer(201, {"id": store.next_id})

        def do_GET(self) -> None:
            ident = self.path.rsplit("/", 1)[-1]
            self._answer(200 if ident in store.rows else 404, {})

    return Handler


@pytest.fixture
def api() -> Iterator[tuple[str, _Store]]:
    store = _Store()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(store))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/items", store
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_the_writer_counts_lost_writes_and_the_longest_outage(api: tuple[str, _Store]) -> None:
    url, store = api
    store.forget = {"2"}
    writer = Writer(url, '{"n": {n}}', "t")
    with writer:
        time.sleep(1.0)
        store.down.set()
        time.sleep(1.2)
        store.down.clear()
        time.sleep(0.8)
    report = writer.verify(url)
    assert report.lost == ["2"]
    assert report.outcomes["502"] >= 4
    assert 1.0 <= report.downtime_s <= 2.5, report.downtime_s
    assert len(report.acknowledged) == report.outcomes["201"]
    assert "1 lost" in report.summary()


def test_a_writer_that_never_reaches_the_api_reports_no_acknowledged_write() -> None:
    writer = Writer("http://127.0.0.1:9/items", "{}", "t")
    with writer:
        time.sleep(0.5)
    assert writer.report.acknowledged == []
    assert writer.report.outcomes["refused"] >= 1
    assert writer.report.downtime_s > 0


def test_without_the_containers_stack_the_drills_skip_naming_the_option(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "suites/test_deploy.py", "-q", "-p", "no:cacheprovider",
         f"--project-root={PROJECT}", f"--report-dir={tmp_path}", "-rs"],
        cwd=REPO, env=clean_env(), capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert "use --stack containers" in done.stdout, done.stdout[-3000:]
    assert " passed" not in done.stdout.splitlines()[-1], done.stdout[-3000:]
