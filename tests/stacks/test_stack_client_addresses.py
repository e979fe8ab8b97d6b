"""Client addresses on the container stack: the harness plays the one proxy hop the backend
trusts, relay containers are the untrusted clients, and the per-address checks judge there
(each fails on its mutant)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.probes.forwarding import ForwardedSource, play_trusted_hop, stop_playing
from harness.probes.http import RetryAfter429, client_for
from harness.probes.rawhttp import send_raw
from harness.stacks.clients import DENIED, UNTRUSTED, Trust
from reference_app.mutants import MUTANTS
from tests.conftest import suite_runner
from tests.stacks.stack_helpers import require_stack_images
from tests.verdicts import assert_killed

HOP = "http://127.0.0.1:9"  # registered, never connected to: a MockTransport answers
# the mutants of the checks that need distinct client addresses or an untrusted peer
CLIENT_ADDRESS_MUTANTS = (
    "ratelimit-global-budget",
    "ratelimit-trusts-forwarded-for",
    "ipfilter-ignores-denylist",
    "ipfilter-trusts-any-forwarded-for",
    "ipfilter-ignores-forwarded-for",
    "ipfilter-ignores-allowlist",
    "ipfilter-hardcoded-lists",
)
CLIENT_ADDRESS_CHECKS = sorted(
    {rid for name in CLIENT_ADDRESS_MUTANTS for rid in MUTANTS[name].breaks}
)


@pytest.fixture
def hop() -> Iterator[str]:
    play_trusted_hop([HOP])
    yield HOP
    stop_playing([HOP])


def _forwarded(source: str, url: str, **headers: str) -> list[str]:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.extend(request.headers.get_list("x-forwarded-for"))
        return httpx.Response(200)

    transport = ForwardedSource(httpx.MockTransport(answer), source)
    with httpx.Client(transport=transport) as client:
        client.get(url, headers=headers)
    return seen


def test_sources_travel_as_forwarded_for_to_the_hop_only(hop: str) -> None:
    assert _forwarded("127.1.0.5", hop + "/x") == ["127.1.0.5"]
    assert _forwarded("127.1.0.5", "http://127.0.0.1:10/x") == []  # not a trusted-hop origin


def test_a_repeated_request_carries_its_source_once(hop: str) -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["x-forwarded-for"])
        return httpx.Response(429 if len(seen) == 1 else 200, headers={"Retry-After": "0"})

    inner = ForwardedSource(httpx.MockTransport(answer), "127.1.0.5")
    transport = RetryAfter429(inner, sleep=lambda _: None, source="127.1.0.5")
    with httpx.Client(transport=transport) as client:
        assert client.get(hop).status_code == 200
    assert seen == ["127.1.0.5", "127.1.0.5"]


def test_a_spoofed_forwarded_for_stays_in_front_of_the_source(hop: str) -> None:
    # as nginx's $proxy_add_x_forwarded_for: the backend takes the right-most untrusted entry
    seen = _forwarded("127.1.0.5", hop, **{"X-Forwarded-For": "203.0.113.77"})
    assert seen == ["203.0.113.77, 127.1.0.5"]


@pytest.fixture
def echo_server() -> Iterator[str]:
    """A loopback server answering with its peer address and the X-Forwarded-For it got."""

    class Echo(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            forwarded = ",".join(self.headers.get_all("X-Forwarded-For") or [])
            body = f"{self.client_address[0]}|{forwarded}".encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_clients_and_raw_sender_present_their_source(echo_server: str) -> None:
    with client_for(echo_server, local_address="127.1.0.6", retry_429=False) as client:
        assert client.get("/").text == "127.1.0.6|"  # not a hop: the socket address only
        play_trusted_hop([echo_server])
        try:
            assert client.get("/").text == "127.1.0.6|127.1.0.6"
            raw = send_raw(echo_server, "GET", "/", local_address="127.1.0.7")
            assert raw.text == "127.1.0.7|127.1.0.7"
            assert send_raw(echo_server, "GET", "/").text == "127.0.0.1|"  # no source: none
        finally:
            stop_playing([echo_server])


def test_backend_trusts_the_gateway_and_frontend_and_exempts_the_gateway() -> None:
    addresses = {"frontend": "172.18.0.4", UNTRUSTED: "172.18.0.5", DENIED: "172.18.0.6"}
    env = Trust("172.18.0.1", addresses).backend_env()
    assert env["SECURITY_TRUSTED_PROXIES"] == "172.18.0.1,172.18.0.4"
    assert env["SECURITY_IP_BLACKLIST"] == "127.0.0.253,172.18.0.6"
    assert env["SECURITY_RATE_LIMIT_EXEMPT"] == "172.18.0.1"


def test_per_address_checks_judge_on_the_stack(docker_client: Any, tmp_path: Path) -> None:
    require_stack_images(docker_client)
    run = suite_runner(tmp_path)(
        "--stack", "containers", *(f"--requirement={rid}" for rid in CLIENT_ADDRESS_CHECKS)
    )  # fmt: skip
    assert run.matrix is not None, run.output
    verdicts = {e["id"]: e["verdict"] for e in run.matrix["requirements"]}
    assert {rid: verdicts[rid] for rid in CLIENT_ADDRESS_CHECKS} == dict.fromkeys(
        CLIENT_ADDRESS_CHECKS, "passed"
    ), run.output[-4000:]


@pytest.mark.parametrize("name", CLIENT_ADDRESS_MUTANTS)
def test_client_address_mutant_fails_on_the_stack(
    name: str, docker_client: Any, tmp_path: Path
) -> None:
    require_stack_images(docker_client)
    mutant = MUTANTS[name]
    run = suite_runner(tmp_path)(
        "--stack", "containers", "--mutant", name,
        *(f"--requirement={rid}" for rid in mutant.breaks),
    )  # fmt: skip
    assert_killed(run, name, mutant.description, mutant.breaks)
