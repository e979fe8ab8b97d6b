"""A raw HTTP/1.1 sender: the request line, headers and body go on the wire exactly as given.

HTTP clients normalise ``../`` and re-encode characters, which turns a traversal probe into
another request; this sender does neither. It can also send a body in chunks (chunked
transfer encoding) and declare a Content-Length that is not the body's length.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from harness.probes.forwarding import forwards_sources

DEFAULT_TIMEOUT_S = 10.0
_MAX_HEAD = 64 * 1024


class RawHTTPError(Exception):
    """The exchange failed: no connection, or no parsable response before the timeout."""


@dataclass(frozen=True)
class RawResponse:
    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    elapsed_s: float

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive)."""
        lower = name.lower()
        return next((value for key, value in self.headers if key.lower() == lower), None)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def build_head(
    method: str,
    target: str,
    headers: Sequence[tuple[str, str]],
    *,
    host: str | Sequence[str],
    body_length: int | None,
    chunked: bool = False,
    http_version: str = "HTTP/1.1",
) -> bytes:
    """The request line and headers. ``Content-Length`` and ``Connection`` given in
    ``headers`` win over the defaults; ``body_length`` None sends no Content-Length. ``host``
    is the one Host line, or several (a duplicate-Host probe); a Host in ``headers`` is
    dropped."""
    names = {name.lower() for name, _ in headers}
    lines = [f"{method} {target} {http_version}"]
    lines += [f"Host: {value}" for value in ([host] if isinstance(host, str) else host)]
    lines += [f"{name}: {value}" for name, value in headers if name.lower() != "host"]
    if chunked and "transfer-encoding" not in names:
        lines.append("Transfer-Encoding: chunked")
    elif body_length is not None and "content-length" not in names:
        lines.append(f"Content-Length: {body_length}")
    if "connection" not in names:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


def chunk_encode(chunks: Iterable[bytes]) -> Iterable[bytes]:
    """Chunked transfer encoding of ``chunks``, with the terminating zero-length chunk."""
    for chunk in chunks:
        if chunk:
            yield f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    yield b"0\r\n\r\n"


def _connect(url: str, local_address: str | None, timeout: float) -> tuple[socket.socket, str]:
    parts = urlsplit(url)
    if parts.hostname is None:
        raise RawHTTPError(f"not a URL: {url!r}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    source = (local_address, 0) if local_address else None
    try:
        sock = socket.create_connection((parts.hostname, port), timeout, source)
    except OSError as exc:
        raise RawHTTPError(f"cannot connect to {parts.hostname}:{port}: {exc}") from None
    if parts.scheme == "https":
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        sock = context.wrap_socket(sock, server_hostname=parts.hostname)
    host = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
    return sock, host


def _read_response(sock: socket.socket, started: float) -> RawResponse:
    data = b""
    while b"\r\n\r\n" not in data:
        piece = sock.recv(65536)
        if not piece:
            break
        data += piece
        if len(data) > _MAX_HEAD and b"\r\n\r\n" not in data:
            raise RawHTTPError("response head larger than 64 KiB")
    head, sep, rest = data.partition(b"\r\n\r\n")
    if not sep:
        raise RawHTTPError("connection closed before a complete response head")
    lines = head.decode("latin-1").split("\r\n")
    try:
        _, status, *reason = lines[0].split(" ", 2)
        code = int(status)
    except ValueError:
        raise RawHTTPError(f"malformed status line {lines[0]!r}") from None
    headers = tuple(
        (name.strip(), value.strip())
        for name, _, value in (line.partition(":") for line in lines[1:])
    )
    response = RawResponse(code, reason[0] if reason else "", headers, b"", 0.0)
    try:
        body = _read_body(sock, response, rest)
    except ValueError:  # a Content-Length or chunk size that is no number
        framing = response.header("content-length") or response.header("transfer-encoding")
        raise RawHTTPError(f"{code} answer with a malformed body framing ({framing!r})") from None
    return RawResponse(code, response.reason, headers, body, time.monotonic() - started)


def _read_body(sock: socket.socket, response: RawResponse, rest: bytes) -> bytes:
    length = response.header("content-length")
    chunked = "chunked" in (response.header("transfer-encoding") or "").lower()
    while True:
        if length is not None and len(rest) >= int(length):
            return rest[: int(length)]
        if chunked and rest.endswith(b"0\r\n\r\n"):
            return _dechunk(rest)
        try:
            piece = sock.recv(65536)
        except OSError:
            piece = b""
        if not piece:
            return _dechunk(rest) if chunked else rest
        rest += piece


def _dechunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out, data = out + data[:size], data[size + 2 :]
    return out


def send_raw(
    url: str,
    method: str,
    target: str,
    headers: Sequence[tuple[str, str]] = (),
    body: bytes | Iterable[bytes] = b"",
    *,
    chunked: bool = False,
    content_length: int | None = None,
    local_address: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    http_version: str = "HTTP/1.1",
    host_lines: Sequence[str] | None = None,
) -> RawResponse:
    """Send one request to the server of ``url`` and read its response.

    ``host_lines`` replaces the Host line naming the server of ``url`` (forged, duplicated).

    ``body`` bytes go with a Content-Length of their length unless ``content_length`` says
    otherwise (a lying length); an iterable of chunks with ``chunked`` goes chunk-encoded.
    The response is read even when the server answers before the whole body was sent.
    """
    sock, url_host = _connect(url, local_address, timeout)
    host: str | Sequence[str] = url_host if host_lines is None else host_lines
    if local_address is not None and forwards_sources(url):
        # a proxy hop the harness plays (harness.probes.forwarding): one more header line,
        # which servers join to the ones before it
        headers = [*headers, ("X-Forwarded-For", local_address)]
    started = time.monotonic()
    with sock:
        sock.settimeout(timeout)
        if isinstance(body, bytes) and not chunked:
            declared = content_length if content_length is not None else len(body)
            pieces: Iterable[bytes] = [body] if body else []
            head = build_head(
                method,
                target,
                headers,
                host=host,
                body_length=declared if body or content_length else None,
                http_version=http_version,
            )
        else:
            chunks = [body] if isinstance(body, bytes) else body
            pieces = chunk_encode(chunks)
            head = build_head(
                method,
                target,
                headers,
                host=host,
                body_length=None,
                chunked=True,
                http_version=http_version,
            )
        try:
            sock.sendall(head)
            for piece in pieces:
                sock.sendall(piece)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered early and closed: its response is still readable
        except TimeoutError:
            raise RawHTTPError(f"timed out after {timeout:.0f} s sending the request") from None
        try:
            return _read_response(sock, started)
        except TimeoutError:
            raise RawHTTPError(f"no response within {timeout:.0f} s") from None
        except ConnectionResetError:
            raise RawHTTPError("the server reset the connection without a response") from None
