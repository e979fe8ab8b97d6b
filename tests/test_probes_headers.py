"""The security-header analysers against a table of header values, edge cases included."""

from __future__ import annotations

import pytest

from harness.probes.headers import (
    Headers,
    check_cookie,
    check_disclosure,
    check_frame_options,
    check_hsts,
    check_nosniff,
    check_referrer_policy,
    check_xss_protection,
    effective_referrer_policy,
    parse_hsts,
    xss_protection_problem,
)

ONE_YEAR = 31536000
PRIVATE = ["no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"]


def _h(name: str, *values: str) -> Headers:
    return [(name, value) for value in values]


NOSNIFF = [
    (_h("X-Content-Type-Options", "nosniff"), True),
    (_h("x-content-type-options", "nosniff"), True),
    (_h("X-CONTENT-TYPE-OPTIONS", "NoSniff"), True),
    (_h("X-Content-Type-Options", " nosniff "), True),
    (_h("X-Content-Type-Options", "nosniff", "nosniff"), False),
    (_h("X-Content-Type-Options", "nosniff, nosniff"), False),
    (_h("X-Content-Type-Options", "sniff"), False),
    (_h("X-Content-Type-Options", ""), False),
    (_h("X-Content-Type-Options", "nosniff;"), False),
    (_h("X-Content-Type-Option", "nosniff"), False),
    ([], False),
]


@pytest.mark.parametrize(("headers", "ok"), NOSNIFF)
def test_nosniff(headers: Headers, ok: bool) -> None:
    assert check_nosniff(headers).ok is ok


FRAME = [
    (_h("X-Frame-Options", "DENY"), True),
    (_h("x-frame-options", "deny"), True),
    (_h("X-Frame-Options", "SAMEORIGIN"), False),
    (_h("X-Frame-Options", "ALLOW-FROM https://a.example"), False),
    (_h("X-Frame-Options", "DENY", "DENY"), False),
    (_h("X-Frame-Options", "DENY, SAMEORIGIN"), False),
    (_h("X-Frame-Options", "DENY, DENY"), False),
    (_h("X-Frame-Options", ""), False),
    ([], False),
]


@pytest.mark.parametrize(("headers", "ok"), FRAME)
def test_frame_options(headers: Headers, ok: bool) -> None:
    assert check_frame_options(headers).ok is ok


XXSS = [
    (_h("X-XSS-Protection", "0"), True),
    (_h("x-xss-protection", " 0 "), True),
    (_h("X-XSS-Protection", "1; mode=block"), False),
    (_h("X-XSS-Protection", "1"), False),
    (_h("X-XSS-Protection", "1; report=https://r.example"), False),
    (_h("X-XSS-Protection", "0; mode=block"), False),
    (_h("X-XSS-Protection", "00"), False),
    (_h("X-XSS-Protection", "0", "0"), False),
    (_h("X-XSS-Protection", "0, 0"), False),
    (_h("X-XSS-Protection", ""), False),
    ([], False),
]


@pytest.mark.parametrize(("headers", "ok"), XXSS)
def test_xss_protection(headers: Headers, ok: bool) -> None:
    assert check_xss_protection(headers).ok is ok


def test_xss_block_evidence_says_why() -> None:
    reason = check_xss_protection(_h("X-XSS-Protection", "1; mode=block")).reason
    assert "expected '0'" in reason
    assert "filter" in reason


HSTS = [
    ("max-age=31536000; includeSubDomains", True),
    ("max-age=31536000; includesubdomains; preload", True),
    ("includeSubDomains; max-age=63072000", True),
    ('max-age="31536000"; includeSubDomains', True),
    ("MAX-AGE=31536000; INCLUDESUBDOMAINS", True),
    ("max-age=31536000 ; includeSubDomains ;", True),
    ("max-age=31535999; includeSubDomains", False),
    ("max-age=31536000", False),
    ("max-age=0; includeSubDomains", False),
    ("max-age=86400; includeSubDomains", False),
    ("includeSubDomains", False),
    ("max-age=; includeSubDomains", False),
    ("max-age=-1; includeSubDomains", False),
    ("max-age=1e9; includeSubDomains", False),
    ("max-age=31536000; max-age=31536000; includeSubDomains", False),
    ("max-age=31536000; includeSubDomains; includeSubDomains", False),
    ("max-age=31536000, includeSubDomains", False),
    ("", False),
]


@pytest.mark.parametrize(("value", "ok"), HSTS)
def test_hsts(value: str, ok: bool) -> None:
    assert check_hsts(_h("Strict-Transport-Security", value), ONE_YEAR).ok is ok


def test_hsts_twice_is_invalid() -> None:
    value = "max-age=31536000; includeSubDomains"
    assert not check_hsts(_h("strict-transport-security", value, value), ONE_YEAR).ok


def test_hsts_subdomains_optional_when_configured() -> None:
    assert check_hsts(_h("Strict-Transport-Security", "max-age=31536000"), ONE_YEAR, False).ok


def test_parse_hsts_fields() -> None:
    assert parse_hsts("max-age=5; preload") == parse_hsts("preload;max-age=5")
    parsed = parse_hsts("max-age=5; preload")
    assert parsed is not None
    assert parsed.max_age == 5
    assert parsed.preload
    assert not parsed.include_subdomains


REFERRER = [
    (("no-referrer",), True),
    (("strict-origin-when-cross-origin",), True),
    (("same-origin",), True),
    (("STRICT-ORIGIN",), True),
    (("unsafe-url",), False),
    (("origin",), False),
    (("no-referrer-when-downgrade",), False),
    (("origin-when-cross-origin",), False),
    (("unsafe-url, no-referrer",), True),  # the last valid token wins
    (("no-referrer, unsafe-url",), False),
    (("no-referrer, made-up-policy",), True),  # unknown tokens are skipped
    (("made-up-policy",), False),
    (("unsafe-url", "strict-origin"), True),  # two headers: the later one wins
    (("strict-origin", "unsafe-url"), False),
    (("",), False),
    ((" no-referrer ,",), True),
    (("no-referrer;",), False),
]


@pytest.mark.parametrize(("values", "ok"), REFERRER)
def test_referrer_policy(values: tuple[str, ...], ok: bool) -> None:
    assert check_referrer_policy(_h("Referrer-Policy", *values), PRIVATE).ok is ok


def test_referrer_missing_and_effective() -> None:
    assert not check_referrer_policy([], PRIVATE).ok
    assert effective_referrer_policy(["origin, bogus"]) == "origin"
    assert effective_referrer_policy([]) is None


DISCLOSURE = [
    ([], True),
    (_h("Server", "nginx"), True),
    (_h("server", "uvicorn"), True),
    (_h("Server", "nginx/1.27.0"), False),
    (_h("Server", "Apache/2.4.62 (Debian)"), False),
    (_h("Server", "uvicorn 0.30.6"), False),
    (_h("X-Powered-By", "FastAPI"), False),
    (_h("x-powered-by", "PHP/8.3"), False),
    (_h("X-AspNet-Version", "4.0.30319"), False),
    (_h("X-Runtime", "0.01"), False),
]


@pytest.mark.parametrize(("headers", "ok"), DISCLOSURE)
def test_disclosure(headers: Headers, ok: bool) -> None:
    assert check_disclosure(headers).ok is ok


COOKIES = [
    ("sid=1; Secure; HttpOnly; SameSite=Lax", True, True),
    ("sid=1; secure; httponly; samesite=strict", True, True),
    ("sid=1; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=60", True, True),
    ("sid=1; HttpOnly; SameSite=Lax", True, False),
    ("sid=1; HttpOnly; SameSite=Lax", False, True),
    ("sid=1; Secure; SameSite=Lax", False, False),
    ("sid=1; Secure; HttpOnly", True, False),
    ("sid=1; Secure; HttpOnly; SameSite=None", True, False),
    ("sid=1; Secure; HttpOnly; SameSite", True, False),
    ("sid=1", False, False),
    ("sid=Secure; HttpOnly; SameSite=Lax", True, False),  # the value is not an attribute
]


@pytest.mark.parametrize(("value", "secure", "ok"), COOKIES)
def test_cookie(value: str, secure: bool, ok: bool) -> None:
    assert check_cookie(value, require_secure=secure).ok is ok


# The edge cases of the specs, each with its verdict and the clause it follows.
FRAME_RFC7034: list[tuple[str, bool, str]] = [
    (" DENY ", True, "RFC 7034 2.1: surrounding whitespace is no part of the value"),
    ("\tdeny", True, "RFC 7034 2.1: tokens are case-insensitive, OWS trimmed"),
    ("DENY;", False, "RFC 7034 2.1: 'DENY;' is no token of the grammar: ignored"),
    ("DENYALL", False, "unknown token: ignored, framing allowed"),
    ("ALLOWALL", False, "unknown token (a legacy value of one server): ignored"),
    ("DENY DENY", False, "one token only"),
    ("ALLOW-FROM", False, "ALLOW-FROM needs an origin"),
    ("ALLOW-FROM https://a.example", False, "valid, but browsers ignore ALLOW-FROM; not DENY"),
    ("SAMEORIGIN", False, "valid, but the spec asks for DENY"),
]


@pytest.mark.parametrize(("value", "ok", "clause"), FRAME_RFC7034)
def test_frame_options_rfc7034(value: str, ok: bool, clause: str) -> None:
    assert check_frame_options(_h("X-Frame-Options", value)).ok is ok, clause


def test_frame_options_unknown_token_says_so() -> None:
    assert "RFC 7034" in check_frame_options(_h("X-Frame-Options", "ALLOWALL")).reason
    assert "expected 'DENY'" in check_frame_options(_h("X-Frame-Options", "sameorigin")).reason


# the parser of the browsers that kept the filter (WebKit, old Chromium); the value None is valid
XXSS_PARSE: list[tuple[str, str | None, str]] = [
    ("0", None, "0: filter off"),
    ("0; mode=block", None, "a leading 0 ends parsing"),
    ("1", None, "1: filter on"),
    ("1; mode=block", None, "1 with mode=block"),
    ("1;mode=block", None, "whitespace is optional"),
    ("1; report=https://r.example/x", None, "1 with a report URL"),
    ("2", "first character", "the first digit must be 0 or 1"),
    ("2; mode=block", "first character", "the first digit must be 0 or 1"),
    ("whimsy", "first character", "not a digit at all"),
    ("", "first character", "empty"),
    ("1; mode=block; mode=block", "repeated", "a directive at most once"),
    ("1; report=/a; mode=block; report=/b", "repeated", "a directive at most once"),
    ("1; mode=allow", "no mode=block", "mode's only value is block"),
    ("1; foo=bar", "no mode=block", "unknown directive"),
    ("1 mode=block", "other than ';'", "directives follow a ';'"),
]


@pytest.mark.parametrize(("value", "problem", "clause"), XXSS_PARSE)
def test_xss_protection_parse(value: str, problem: str | None, clause: str) -> None:
    found = xss_protection_problem(value)
    assert (found is None) is (problem is None), clause
    assert problem is None or (found is not None and problem in found), clause


XXSS_VERDICT: list[tuple[str, bool, str]] = [
    ("1; mode=block; mode=block", False, "invalid: the browser default (on) applies"),
    ("2", False, "invalid: the browser default (on) applies"),
    ("0; mode=block", False, "off in browsers, but not exactly 0 (our rule)"),
    ("0", True, "exactly 0"),
]


@pytest.mark.parametrize(("value", "ok", "clause"), XXSS_VERDICT)
def test_xss_protection_verdict(value: str, ok: bool, clause: str) -> None:
    finding = check_xss_protection(_h("X-XSS-Protection", value))
    assert finding.ok is ok, clause
    if value[0] not in "01" or "repeated" in clause:
        assert "invalid" in finding.reason


# Referrer Policy 8.1: the last token the browser knows wins; a value outside the grammar
# (policy-token = known / 1*( ALPHA / "-" )) fails to parse and leaves no policy
REFERRER_SPEC: list[tuple[tuple[str, ...], str | None, str]] = [
    (("made-up, other-made-up",), None, "only unknown tokens: no policy"),
    (("made-up",), None, "one unknown token: no policy"),
    (("no-referrer, made-up",), "no-referrer", "unknown tokens are skipped"),
    (("made-up", "same-origin"), "same-origin", "several headers: one list"),
    (("no-referrer, foo_bar",), None, "'_' is outside extension-token: no policy"),
    (("no-referrer", "a b"), None, "a space inside a token: no policy"),
    (("no-referrer,,",), "no-referrer", "empty list elements are allowed"),
    (("No-Referrer",), "no-referrer", "browsers compare tokens case-insensitively"),
]


@pytest.mark.parametrize(("values", "policy", "clause"), REFERRER_SPEC)
def test_referrer_policy_spec(values: tuple[str, ...], policy: str | None, clause: str) -> None:
    assert effective_referrer_policy(values) == policy, clause
    verdict = check_referrer_policy(_h("Referrer-Policy", *values), PRIVATE)
    assert verdict.ok is (policy in PRIVATE), clause
