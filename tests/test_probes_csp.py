"""The CSP parser and checks against a table of policies, edge cases included."""

from __future__ import annotations

import pytest

from harness.probes import csp
from harness.probes.headers import Headers

GOOD = (
    "default-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'; "
    "base-uri 'self'"
)


def _policy(value: str) -> csp.Policy:
    return csp.parse_csp(value).directives


def test_parse_basics() -> None:
    parsed = csp.parse_csp("Default-Src 'SELF' https://a.example;; script-src 'self';")
    assert parsed.directives == {
        "default-src": ("'self'", "https://a.example"),
        "script-src": ("'self'",),
    }


def test_first_directive_wins() -> None:
    parsed = csp.parse_csp("script-src 'self'; script-src 'unsafe-inline'")
    assert parsed.directives["script-src"] == ("'self'",)
    assert parsed.duplicates == ("script-src",)


def test_nonce_keeps_its_case() -> None:
    assert _policy("script-src 'nonce-AbC'")["script-src"] == ("'nonce-AbC'",)


SINGLE: list[tuple[Headers, bool]] = [
    ([("Content-Security-Policy", GOOD)], True),
    ([("content-security-policy", GOOD)], True),
    ([("Content-Security-Policy", GOOD), ("Content-Security-Policy", GOOD)], False),
    ([("Content-Security-Policy", GOOD + ", default-src 'none'")], False),
    ([("Content-Security-Policy", "")], False),
    ([("Content-Security-Policy", " ; ; ")], False),
    ([("Content-Security-Policy-Report-Only", GOOD)], False),
    ([], False),
]


@pytest.mark.parametrize(("headers", "ok"), SINGLE)
def test_single_policy(headers: Headers, ok: bool) -> None:
    assert (csp.single_policy(headers)[0] is not None) is ok


SCRIPT = [
    (GOOD, True),
    ("default-src 'self'", True),
    ("default-src 'none'", True),
    ("script-src 'self' https://cdn.example", True),
    ("default-src 'self' 'unsafe-inline'", False),  # the fallback trap
    ("default-src 'self' 'unsafe-inline'; script-src 'self'", True),
    ("default-src 'self'; script-src 'self' 'unsafe-inline'", False),
    ("script-src 'self' 'UNSAFE-INLINE'", False),
    ("script-src 'self' 'unsafe-eval'", False),
    ("default-src 'self' 'unsafe-eval'", False),
    ("script-src 'self' 'nonce-r4nd0m' 'unsafe-inline'", True),  # CSP2 ignores it
    ("script-src 'self' 'sha256-abc=' 'unsafe-inline'", True),
    ("script-src 'nonce-r4nd0m' 'unsafe-eval'", False),
    ("script-src 'self'; script-src-elem 'unsafe-inline'", False),
    ("script-src 'self'; script-src-attr 'unsafe-inline'", False),
    ("script-src 'self'; script-src-attr 'unsafe-inline' 'nonce-a'", False),
    ("script-src-elem 'self'", False),  # script-src absent: default-src missing too
    ("script-src-elem 'self'; default-src 'self'", True),
    ("object-src 'none'", False),  # scripts unrestricted
    ("style-src 'unsafe-inline'; default-src 'self'", True),
    ("script-src 'self'; script-src 'unsafe-inline'", True),  # the repeat is ignored
    ("script-src unsafe-inline", True),  # unquoted: a host named unsafe-inline
]


@pytest.mark.parametrize(("value", "ok"), SCRIPT)
def test_script(value: str, ok: bool) -> None:
    assert csp.check_script(_policy(value)).ok is ok


FRAME_ANCESTORS = [
    (GOOD, True),
    ("frame-ancestors 'NONE'", True),
    ("frame-ancestors", True),  # an empty list matches nothing
    ("frame-ancestors 'self'", False),
    ("frame-ancestors 'none' 'self'", False),
    ("frame-ancestors https://a.example", False),
    ("frame-ancestors *", False),
    ("default-src 'none'", False),  # frame-ancestors never falls back
    ("frame-ancestors none", False),  # unquoted: a host named none
]


@pytest.mark.parametrize(("value", "ok"), FRAME_ANCESTORS)
def test_frame_ancestors(value: str, ok: bool) -> None:
    assert csp.check_frame_ancestors(_policy(value)).ok is ok


OBJECT = [
    (GOOD, True),
    ("object-src 'none'", True),
    ("default-src 'none'", True),
    ("default-src 'none'; object-src 'none'", True),
    ("default-src 'none'; object-src 'self'", False),
    ("default-src 'self'", False),
    ("object-src 'self'", False),
    ("object-src *", False),
    ("object-src", True),
    ("", False),
]


@pytest.mark.parametrize(("value", "ok"), OBJECT)
def test_object_src(value: str, ok: bool) -> None:
    assert csp.check_object_src(_policy(value)).ok is ok


BASE_URI = [
    (GOOD, True),
    ("base-uri 'none'", True),
    ("base-uri 'SELF'", True),
    ("base-uri 'self' https://a.example", False),
    ("base-uri https://a.example", False),
    ("base-uri *", False),
    ("default-src 'none'", False),  # base-uri never falls back
    ("base-uri", True),
]


@pytest.mark.parametrize(("value", "ok"), BASE_URI)
def test_base_uri(value: str, ok: bool) -> None:
    assert csp.check_base_uri(_policy(value)).ok is ok
