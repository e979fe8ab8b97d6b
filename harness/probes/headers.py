"""Security response headers, parsed the way browsers and the Mozilla Observatory parse them.

Header names are case-insensitive. A header that must carry one token is invalid when it is
sent twice or its value is comma-joined (that is how a proxy folds two copies into one line):
browsers then ignore it. Every analyser is a pure function of the response's header list.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

Headers = Sequence[tuple[str, str]]

RFC_XXSS_NOTE = (
    "the spec requires X-XSS-Protection, and current guidance (OWASP, MDN, the Observatory) "
    "is the value 0: the old filter is removed from browsers, and '1; mode=block' re-enables "
    "it where it survives, where it can be abused to blank or leak parts of a page"
)
# a version number next to a product name: nginx/1.27.0, uvicorn 0.30, Apache/2.4.1 (Unix)
_VERSION = re.compile(r"\d+\.\d+")
_DISCLOSING = ("x-powered-by", "x-aspnet-version", "x-aspnetmvc-version", "x-runtime")


@dataclass(frozen=True)
class Finding:
    """The verdict on one header of one response; ``reason`` says why it fails."""

    ok: bool
    value: str | None
    reason: str = ""


def values_of(headers: Headers, name: str) -> list[str]:
    """Every value of header ``name`` (case-insensitive), in the order sent."""
    wanted = name.lower()
    return [value for key, value in headers if key.lower() == wanted]


def single_token(headers: Headers, name: str) -> tuple[str | None, str]:
    """The header's one value (stripped), or None and why it is not usable."""
    values = values_of(headers, name)
    if not values:
        return None, f"{name} is missing"
    if len(values) > 1:
        return None, f"{name} is sent {len(values)} times ({values!r}): browsers ignore it"
    value = values[0].strip()
    if "," in value:
        return None, f"{name} is comma-joined ({value!r}): browsers ignore it"
    return value, ""


def _exact(headers: Headers, name: str, expected: str) -> Finding:
    value, problem = single_token(headers, name)
    if value is None:
        return Finding(False, None, problem)
    if value.lower() != expected.lower():
        return Finding(False, value, f"{name} is {value!r}, expected {expected!r}")
    return Finding(True, value)


def check_nosniff(headers: Headers) -> Finding:
    return _exact(headers, "X-Content-Type-Options", "nosniff")


# RFC 7034 2.1: "DENY" / "SAMEORIGIN" / ( "ALLOW-FROM" RWS SERIALIZED-ORIGIN ), case-insensitive
_XFO = re.compile(r"(?i:(deny)|(sameorigin)|(allow-from)[ \t]+\S+)")


def check_frame_options(headers: Headers) -> Finding:
    """RFC 7034: one value, surrounding whitespace trimmed; DENY is the only one we accept."""
    value, problem = single_token(headers, "X-Frame-Options")
    if value is None:
        return Finding(False, None, problem)
    found = _XFO.fullmatch(value)
    if found is None:
        return Finding(False, value, f"X-Frame-Options {value!r} is no RFC 7034 value: ignored")
    if found.group(1) is None:
        return Finding(False, value, f"X-Frame-Options is {value!r}, expected 'DENY'")
    return Finding(True, value)


def xss_protection_problem(value: str) -> str | None:
    """Why browsers that kept the XSS filter reject this X-XSS-Protection value (they then use
    their default, which is on); None when it is valid. Their parser reads the first character
    (0 switches off and ends parsing, 1 switches on), then ';'-separated mode= and report=
    directives, each at most once."""
    if not value or value[0] not in "01":
        return "its first character is not 0 or 1"
    rest = value[1:].strip()
    if value[0] == "0" or not rest:
        return None
    if not rest.startswith(";"):
        return "1 is followed by something other than ';'"
    return _xss_directives_problem(rest[1:].split(";"))


def _xss_directives_problem(parts: Iterable[str]) -> str | None:
    seen: set[str] = set()
    for raw in (part.strip() for part in parts):
        name, _, argument = raw.partition("=")
        name, argument = name.strip().lower(), argument.strip()
        if not raw:
            continue
        if name in seen:
            return f"the directive {name!r} is repeated"
        seen.add(name)
        if (name, argument.lower()) != ("mode", "block") and not (name == "report" and argument):
            return f"{raw!r} is no mode=block or report=URL directive"
    return None


def check_xss_protection(headers: Headers) -> Finding:
    """Present, valid and exactly ``0``; ``1; mode=block`` is a defect, and the reason says why."""
    value, problem = single_token(headers, "X-XSS-Protection")
    if value is None:
        return Finding(False, None, problem)
    invalid = xss_protection_problem(value)
    if invalid is not None:
        reason = (
            f"X-XSS-Protection {value!r} is invalid ({invalid}): browsers that keep the filter "
            "fall back to their default, which is on"
        )
        return Finding(False, value, reason)
    if value[0] == "1":
        reason = f"X-XSS-Protection is {value!r}, expected '0': {RFC_XXSS_NOTE}"
        return Finding(False, value, reason)
    if value != "0":
        reason = f"X-XSS-Protection {value!r} switches the filter off but is not exactly '0'"
        return Finding(False, value, reason)
    return Finding(True, value)


@dataclass(frozen=True)
class Hsts:
    max_age: int
    include_subdomains: bool
    preload: bool


def parse_hsts(value: str) -> Hsts | None:
    """RFC 6797 6.1: ';'-separated directives, names case-insensitive, each at most once;
    max-age required (quoted or not). None when the value is invalid."""
    seen: dict[str, str | None] = {}
    for raw_part in value.split(";"):
        part = raw_part.strip()
        if not part:
            continue
        name, eq, raw = part.partition("=")
        name = name.strip().lower()
        if not re.fullmatch(r"[a-z0-9!#$%&'*+.^_`|~-]+", name) or name in seen:
            return None
        seen[name] = raw.strip() if eq else None
    raw_age = seen.get("max-age")
    if raw_age is None:
        return None
    if len(raw_age) >= 2 and raw_age[0] == raw_age[-1] == '"':
        raw_age = raw_age[1:-1]
    if not raw_age.isdigit() or not raw_age.isascii():
        return None
    return Hsts(int(raw_age), "includesubdomains" in seen, "preload" in seen)


def check_hsts(headers: Headers, min_max_age: int, require_subdomains: bool = True) -> Finding:
    values = values_of(headers, "Strict-Transport-Security")
    if not values:
        return Finding(False, None, "Strict-Transport-Security is missing")
    if len(values) > 1 or "," in values[0]:
        return Finding(False, ", ".join(values), "Strict-Transport-Security is sent more than once")
    value = values[0].strip()
    hsts = parse_hsts(value)
    if hsts is None:
        return Finding(False, value, f"Strict-Transport-Security {value!r} does not parse")
    if hsts.max_age < min_max_age:
        return Finding(False, value, f"HSTS max-age {hsts.max_age} is below {min_max_age} s")
    if require_subdomains and not hsts.include_subdomains:
        return Finding(False, value, "HSTS lacks includeSubDomains")
    return Finding(True, value)


REFERRER_TOKENS = frozenset(
    {
        "no-referrer",
        "no-referrer-when-downgrade",
        "same-origin",
        "origin",
        "strict-origin",
        "origin-when-cross-origin",
        "strict-origin-when-cross-origin",
        "unsafe-url",
    }
)


# Referrer Policy 4.1: policy-token = the known tokens / extension-token, extension-token =
# 1*( ALPHA / "-" ); a header value outside this grammar is a parse failure
_REFERRER_TOKEN = re.compile(r"[A-Za-z-]+")


def effective_referrer_policy(values: Iterable[str]) -> str | None:
    """The policy a browser applies (Referrer Policy 8.1): the comma-separated tokens of every
    header in order, the last one it knows wins; unknown tokens are skipped (that is how new
    policies degrade), and a value outside the grammar leaves no policy at all."""
    tokens = [raw.strip(" \t") for value in values for raw in value.split(",")]
    tokens = [token for token in tokens if token]
    if any(not _REFERRER_TOKEN.fullmatch(token) for token in tokens):
        return None
    known = [token.lower() for token in tokens if token.lower() in REFERRER_TOKENS]
    return known[-1] if known else None


def check_referrer_policy(headers: Headers, allowed: Iterable[str]) -> Finding:
    values = values_of(headers, "Referrer-Policy")
    if not values:
        return Finding(False, None, "Referrer-Policy is missing")
    joined = ", ".join(values)
    policy = effective_referrer_policy(values)
    if policy is None:
        reason = f"Referrer-Policy {joined!r} has no valid token: browsers apply their default"
        return Finding(False, joined, reason)
    accepted = {item.lower() for item in allowed}
    if policy not in accepted:
        return Finding(
            False, joined, f"effective Referrer-Policy is {policy!r}, not one of {sorted(accepted)}"
        )
    return Finding(True, policy)


def check_disclosure(headers: Headers) -> Finding:
    """No X-Powered-By (and kin); a Server header, if any, names no version."""
    for name in _DISCLOSING:
        found = values_of(headers, name)
        if found:
            return Finding(False, found[0], f"{name} discloses {found[0]!r}")
    for server in values_of(headers, "Server"):
        if _VERSION.search(server):
            return Finding(False, server, f"Server discloses a version: {server!r}")
    return Finding(True, None)


@dataclass(frozen=True)
class Cookie:
    name: str
    secure: bool
    http_only: bool
    same_site: str | None  # lower-case value, None when absent


def parse_set_cookie(value: str) -> Cookie:
    """One Set-Cookie header (RFC 6265 5.2): attribute names case-insensitive."""
    first, *attributes = value.split(";")
    name = first.partition("=")[0].strip()
    flags: dict[str, str] = {}
    for attribute in attributes:
        key, _, raw = attribute.partition("=")
        flags[key.strip().lower()] = raw.strip().lower()
    return Cookie(name, "secure" in flags, "httponly" in flags, flags.get("samesite"))


def check_cookie(value: str, *, require_secure: bool) -> Finding:
    cookie = parse_set_cookie(value)
    problems = []
    if require_secure and not cookie.secure:
        problems.append("no Secure")
    if not cookie.http_only:
        problems.append("no HttpOnly")
    if cookie.same_site not in {"lax", "strict"}:
        problems.append(f"SameSite is {cookie.same_site or 'missing'}, expected Lax or Strict")
    if problems:
        return Finding(False, cookie.name, f"cookie {cookie.name!r}: {', '.join(problems)}")
    return Finding(True, cookie.name)
