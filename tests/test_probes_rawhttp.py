"""The raw HTTP sender against a loopback socket server that records the bytes it gets."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator

import pytest

from harness.probes.rawhttp import RawHTTPError, build_head, chunk_encode, send_raw

Reply = Callable[[bytes], bytes]
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Seen: yes\r\n\r\nok"


class Recorder:
    """Accepts connections; reads until the request looks complete, answers ``reply``."""

    def __init__(self, reply: Reply, read_until: Callable[[bytes], bool]) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.reply, self.read_until = reply, read_until
        self.received: list[bytes] = []
        self.peers: list[str] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, peer = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                data = b""
                try:
                    while not self.read_until(data):
                        piece = conn.recv(65536)
                        if not piece:
                            break
                        data += piece
                    self.received.append(data)
                    self.peers.append(peer[0])
                    conn.sendall(self.reply(data))
                except OSError:
                    continue  # the client gave up first

    def close(self) -> None:
        self.sock.close()


def _head_done(data: bytes) -> bool:
    return b"\r\n\r\n" in data


@pytest.fixture
def server() -> Iterator[Callable[..., Recorder]]:
    started: list[Recorder] = []

    def start(
        reply: Reply = lambda _: OK, read_until: Callable[[bytes], bool] = _head_done
    ) -> Recorder:
        started.append(Recorder(reply, read_until))
        return started[-1]

    yield start
    for recorder in started:
        recorder.close()


def test_target_goes_on_the_wire_unchanged(server: Callable[..., Recorder]) -> None:
    rec = server()
    target = "/get/../../etc/passwd?x=<script>&y=a\\b%2e%2e"
    response = send_raw(rec.url, "GET", target)
    assert response.status == 200
    assert response.body == b"ok"
    assert response.header("x-seen") == "yes"
    first_line = rec.received[0].split(b"\r\n", 1)[0]
    assert first_line == f"GET {target} HTTP/1.1".encode()


def test_host_is_the_target_and_record_host_is_dropped(server: Callable[..., Recorder]) -> None:
    rec = server()
    send_raw(rec.url, "GET", "/", [("Host", "localhost"), ("X-A", "1")])
    head = rec.received[0].decode()
    assert f"Host: {rec.url.removeprefix('http://')}" in head
    assert "Host: localhost" not in head
    assert "X-A: 1" in head
    assert "Connection: close" in head


def test_body_gets_its_content_length(server: Callable[..., Recorder]) -> None:
    rec = server(read_until=lambda d: d.endswith(b"hello"))
    send_raw(rec.url, "POST", "/post", body=b"hello")
    assert b"Content-Length: 5\r\n" in rec.received[0]
    assert rec.received[0].endswith(b"\r\n\r\nhello")


def test_record_content_length_is_kept() -> None:
    head = build_head("POST", "/", [("Content-Length", "113")], host="h", body_length=5)
    assert head.count(b"Content-Length") == 1
    assert b"Content-Length: 113" in head


def test_lying_content_length(server: Callable[..., Recorder]) -> None:
    rec = server(read_until=lambda d: d.endswith(b"abc"))
    send_raw(rec.url, "POST", "/", body=b"abc", content_length=999)
    assert b"Content-Length: 999\r\n" in rec.received[0]
    assert rec.received[0].endswith(b"\r\n\r\nabc")


def test_chunked_body(server: Callable[..., Recorder]) -> None:
    rec = server(read_until=lambda d: d.endswith(b"0\r\n\r\n"))
    send_raw(rec.url, "POST", "/", body=[b"abc", b"", b"defgh"], chunked=True)
    raw = rec.received[0]
    assert b"Transfer-Encoding: chunked" in raw
    assert b"Content-Length" not in raw
    assert raw.endswith(b"\r\n\r\n3\r\nabc\r\n5\r\ndefgh\r\n0\r\n\r\n")
    assert b"".join(chunk_encode([b"x" * 17])) == b"11\r\n" + b"x" * 17 + b"\r\n0\r\n\r\n"


def test_sends_from_a_chosen_loopback_address(server: Callable[..., Recorder]) -> None:
    rec = server()
    send_raw(rec.url, "GET", "/", local_address="127.0.0.77")
    assert rec.peers == ["127.0.0.77"]


def test_chunked_and_unframed_responses(server: Callable[..., Recorder]) -> None:
    chunked = b"HTTP/1.1 413 Too Large\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbody\r\n0\r\n\r\n"
    rec = server(reply=lambda _: chunked)
    response = send_raw(rec.url, "GET", "/")
    assert (response.status, response.reason, response.body) == (413, "Too Large", b"body")
    until_close = server(reply=lambda _: b"HTTP/1.1 400 Bad\r\n\r\nuntil close")
    assert send_raw(until_close.url, "GET", "/").text == "until close"


def test_early_answer_is_read_although_the_body_was_not_taken(
    server: Callable[..., Recorder],
) -> None:
    early = b"HTTP/1.1 413 Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    rec = server(reply=lambda _: early)
    response = send_raw(rec.url, "POST", "/", body=b"x" * (8 * 1024 * 1024), timeout=10)
    assert response.status == 413


def test_errors_are_one_line(server: Callable[..., Recorder]) -> None:
    silent = server(reply=lambda _: b"", read_until=lambda d: False)
    with pytest.raises(RawHTTPError, match="no response within 1 s"):
        send_raw(silent.url, "GET", "/", timeout=1)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    with pytest.raises(RawHTTPError, match="cannot connect"):
        send_raw(f"http://127.0.0.1:{port}", "GET", "/")
    garbage = server(reply=lambda _: b"NOT HTTP\r\n\r\n")
    with pytest.raises(RawHTTPError, match="malformed status line"):
        send_raw(garbage.url, "GET", "/")


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: many\r\n\r\nok",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nbody\r\n0\r\n\r\n",
    ],
    ids=["content-length", "chunk-size"],
)
def test_malformed_body_framing_is_one_line(server: Callable[..., Recorder], answer: bytes) -> None:
    rec = server(reply=lambda _: answer)
    with pytest.raises(RawHTTPError, match=r"^200 answer with a malformed body framing \('"):
        send_raw(rec.url, "GET", "/", timeout=2)
