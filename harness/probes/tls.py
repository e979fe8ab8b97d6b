"""TLS protocol versions an HTTPS endpoint negotiates."""

from __future__ import annotations

import socket
import ssl
import warnings
from dataclasses import dataclass
from urllib.parse import urlsplit

ORDER = ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")


@dataclass(frozen=True)
class Handshake:
    version: str | None  # None: the handshake failed
    error: str = ""


def endpoint(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "", parts.port or 443


def handshake(url: str, *, maximum: str | None = None, timeout: float = 5.0) -> Handshake:
    """Connect to ``url``'s host and port and report the negotiated version.

    The certificate is not verified (this probes protocol versions only), and with a
    ``maximum`` below TLS 1.2 the client's own floor and security level are lowered, so a
    failure means the server refused, not that this machine's OpenSSL did.
    """
    host, port = endpoint(url)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    if maximum is not None:
        with warnings.catch_warnings():
            # offering the deprecated versions is the point of the probe
            warnings.simplefilter("ignore", DeprecationWarning)
            context.maximum_version = ssl.TLSVersion[maximum.replace(".", "_")]
            if ORDER.index(maximum) < ORDER.index("TLSv1.2"):
                context.minimum_version = ssl.TLSVersion.TLSv1
                context.set_ciphers("DEFAULT:@SECLEVEL=0")
    try:
        with (
            socket.create_connection((host, port), timeout=timeout) as raw,
            context.wrap_socket(raw, server_hostname=host) as tls,
        ):
            return Handshake(tls.version())
    except (ssl.SSLError, ConnectionError) as exc:
        return Handshake(None, f"{type(exc).__name__}: {exc}")


def at_least(version: str | None, minimum: str) -> bool:
    return version in ORDER and ORDER.index(version) >= ORDER.index(minimum)
