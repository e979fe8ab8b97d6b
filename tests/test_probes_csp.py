"""The CSP parser and checks against a table of policies, edge cases included."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from harness.probes import csp
from harness.probes.headers import Finding, Headers

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


# CSP3 2.2.1 "parse a serialized CSP": (value, directives, the clause it follows); the values
# are the MDN HTTP Observatory's parser vectors (test/csp-parser.test.js) and their kin
PARSE: list[tuple[str, dict[str, tuple[str, ...]], str]] = [
    ("  ", {}, "whitespace only: no directive"),
    ("", {}, "empty: no directive"),
    ("\r\n", {}, "CR and LF are ASCII whitespace, stripped"),
    ("\r\n" * 6, {}, "CR/LF only, repeated"),
    (";;; ;;;", {}, "empty tokens are skipped"),
    ("default-src 'none';;; ;;;style-src 'self'", {
        "default-src": ("'none'",), "style-src": ("'self'",)}, "runs of empty directives"),
    ("default-src 'none'; default-src 'self'", {"default-src": ("'none'",)},
     "adjacent repeat: ignored after the first (the Observatory rejects the policy)"),
    ("default-src 'none'; img-src 'self'; default-src *", {
        "default-src": ("'none'",), "img-src": ("'self'",)}, "non-adjacent repeat: ignored"),
    ("default-src", {"default-src": ()}, "a valueless directive: an empty source list"),
    ("defa", {"defa": ()}, "an unknown directive is kept and never used"),
    ("script-src\t'self'\r\n'nonce-a'", {"script-src": ("'self'", "'nonce-a'")},
     "tab, CR and LF split values"),
    ("script-src\x0b'self'", {"script-src\x0b'self'": ()}, "a vertical tab is no ASCII space"),
    ("script-src 'unsafe-inline' https://\u00e9.example; default-src 'self'",
     {"default-src": ("'self'",)}, "a non-ASCII directive is skipped whole"),
    ("SCRIPT-SRC 'SELF' 'Nonce-AbC'", {"script-src": ("'self'", "'Nonce-AbC'")},
     "names and keywords lower-cased, nonce values not"),
]  # fmt: skip


@pytest.mark.parametrize(("value", "directives", "clause"), PARSE)
def test_parse_edge_cases(value: str, directives: dict[str, tuple[str, ...]], clause: str) -> None:
    assert csp.parse_csp(value).directives == directives, clause


def test_repeats_and_unknown_are_listed() -> None:
    parsed = csp.parse_csp("report-uri /a; report-uri /b; defa; script-src 'self'")
    assert parsed.duplicates == ("report-uri",)
    assert parsed.unknown == ("defa",)


# SEC-HDR-CSP: exactly one policy with a directive browsers know (docs/docs/security-headers.md)
SINGLE: list[tuple[Headers, bool, str]] = [
    ([("Content-Security-Policy", GOOD)], True, "one policy"),
    ([("content-security-policy", GOOD)], True, "header names are case-insensitive"),
    ([("Content-Security-Policy", GOOD), ("Content-Security-Policy", GOOD)], False,
     "two headers: two policies, both enforced, but not the one policy asked for"),
    ([("Content-Security-Policy", GOOD + ", default-src 'none'")], False,
     "a comma joins two policies (CSP3 2.2.2)"),
    ([("Content-Security-Policy", GOOD + ",")], True, "an empty list element is no policy"),
    ([("Content-Security-Policy", "")], False, "no directive"),
    ([("Content-Security-Policy", " ; ; ")], False, "no directive"),
    ([("Content-Security-Policy", "\r\n")], False, "CR/LF only"),
    ([("Content-Security-Policy", "defa")], False, "only unknown directives"),
    ([("Content-Security-Policy", "defa; upgrade-insecure-requests")], True, "one known"),
    ([("Content-Security-Policy", "default-src")], True, "valueless default-src: 'none'"),
    ([("Content-Security-Policy", "default-src 'none'; default-src 'none'")], True,
     "a repeated directive is ignored, the policy stands"),
    ([("Content-Security-Policy-Report-Only", GOOD)], False, "report-only enforces nothing"),
    ([], False, "missing"),
]  # fmt: skip


@pytest.mark.parametrize(("headers", "ok", "clause"), SINGLE)
def test_single_policy(headers: Headers, ok: bool, clause: str) -> None:
    assert (csp.single_policy(headers)[0] is not None) is ok, clause
    assert csp.check_single(headers).ok is ok, clause


def test_single_policy_says_why() -> None:
    assert "2 times" in csp.check_single([("Content-Security-Policy", GOOD)] * 2).reason
    assert "defa" in csp.check_single([("Content-Security-Policy", "defa")]).reason


ENFORCED: list[tuple[Headers, int]] = [
    ([("Content-Security-Policy", GOOD)], 1),
    ([("Content-Security-Policy", GOOD), ("Content-Security-Policy", "img-src 'none'")], 2),
    ([("Content-Security-Policy", "img-src 'none', , script-src 'self'")], 2),
    ([("Content-Security-Policy", " , ;")], 0),
    ([("Content-Security-Policy-Report-Only", GOOD)], 0),
]


@pytest.mark.parametrize(("headers", "count"), ENFORCED)
def test_enforced_policies(headers: Headers, count: int) -> None:
    policies, problem = csp.enforced_policies(headers)
    assert len(policies) == count
    assert bool(problem) is (count == 0)


# the directive checks judge several policies by their intersection (CSP3: "the effect of
# multiple policies")
SEVERAL = [
    (csp.check_frame_ancestors, ("frame-ancestors 'self'", "frame-ancestors 'none'"), True),
    (csp.check_frame_ancestors, ("frame-ancestors *", "default-src 'none'"), False),
    (csp.check_object_src, ("default-src 'self'", "object-src 'none'"), True),
    (csp.check_object_src, ("object-src *", "object-src 'self'"), False),
    (csp.check_base_uri, ("base-uri *", "base-uri 'self'"), True),
    (csp.check_base_uri, ("base-uri *", "default-src 'none'"), False),
]


@pytest.mark.parametrize(("check", "values", "ok"), SEVERAL)
def test_directives_of_several_policies(
    check: Callable[..., Finding], values: tuple[str, ...], ok: bool
) -> None:
    assert check(*(_policy(value) for value in values)).ok is ok
    assert not check().ok  # no policy restricts nothing


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
