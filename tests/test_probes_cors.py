"""CORS grants judged as a browser would, and the TLS version ordering."""

from __future__ import annotations

import pytest

from harness.probes import cors, tls
from harness.probes.headers import Headers

FOREIGN = "https://evil.example"
ALLOWED = "http://localhost:8080"
ACAO = "Access-Control-Allow-Origin"
ACAC = "Access-Control-Allow-Credentials"

FOREIGN_CASES: list[tuple[Headers, bool]] = [
    ([], True),
    ([("Vary", "Origin")], True),
    ([(ACAO, ALLOWED)], True),
    ([(ACAO, FOREIGN)], False),
    ([(ACAO, FOREIGN), (ACAC, "true")], False),
    ([("access-control-allow-origin", "*")], False),
    ([(ACAO, "*"), (ACAC, "true")], False),
    ([(ACAO, "null")], False),
    ([(ACAC, "true")], False),
    ([(ACAC, "TRUE")], True),  # only the exact value counts
]


@pytest.mark.parametrize(("headers", "ok"), FOREIGN_CASES)
def test_foreign(headers: Headers, ok: bool) -> None:
    assert cors.check_foreign(headers, FOREIGN).ok is ok


ALLOWED_CASES: list[tuple[Headers, bool]] = [
    ([(ACAO, ALLOWED), ("Vary", "Origin")], True),
    ([(ACAO, ALLOWED), ("Vary", "Accept-Encoding, origin")], True),
    ([(ACAO, ALLOWED), ("Vary", "Accept"), ("Vary", "Origin")], True),
    ([(ACAO, ALLOWED)], False),
    ([(ACAO, "*"), ("Vary", "Origin")], False),
    ([(ACAO, ALLOWED + "/"), ("Vary", "Origin")], False),
    ([(ACAO, ALLOWED), (ACAO, ALLOWED), ("Vary", "Origin")], False),
    ([("Vary", "Origin")], False),
]


@pytest.mark.parametrize(("headers", "ok"), ALLOWED_CASES)
def test_allowed(headers: Headers, ok: bool) -> None:
    assert cors.check_allowed(headers, ALLOWED).ok is ok


GRANTED: Headers = [(ACAO, ALLOWED), ("Vary", "Origin")]
PREFLIGHT_CASES: list[tuple[Headers, bool]] = [
    (
        [
            *GRANTED,
            ("Access-Control-Allow-Methods", "GET, POST"),
            ("Access-Control-Allow-Headers", "Content-Type"),
        ],
        True,
    ),
    (
        [*GRANTED, ("Access-Control-Allow-Methods", "*"), ("Access-Control-Allow-Headers", "*")],
        True,
    ),
    (
        [*GRANTED, ("Access-Control-Allow-Methods", "GET"), ("Access-Control-Allow-Headers", "*")],
        False,
    ),
    ([*GRANTED, ("Access-Control-Allow-Methods", "POST")], False),
    ([("Access-Control-Allow-Methods", "POST"), ("Access-Control-Allow-Headers", "*")], False),
]


@pytest.mark.parametrize(("headers", "ok"), PREFLIGHT_CASES)
def test_preflight(headers: Headers, ok: bool) -> None:
    assert cors.check_preflight(headers, ALLOWED, "POST", "content-type").ok is ok


@pytest.mark.parametrize(
    ("version", "ok"),
    [("TLSv1.3", True), ("TLSv1.2", True), ("TLSv1.1", False), ("TLSv1", False), (None, False)],
)
def test_tls_at_least(version: str | None, ok: bool) -> None:
    assert tls.at_least(version, "TLSv1.2") is ok


def test_tls_endpoint() -> None:
    assert tls.endpoint("https://127.0.0.1:8443/x") == ("127.0.0.1", 8443)
    assert tls.endpoint("https://example.com") == ("example.com", 443)
