"""CSP3 source expressions (section 2.3.1), each matched as a whole whitespace-separated token.

A token that matches no source grammar (a hash glued to the next token, a nonce without its
closing quote, an empty nonce) is ignored by browsers, so it neither allows anything nor
switches 'unsafe-inline' off.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# base64-value = 1*( ALPHA / DIGIT / "+" / "/" / "-" / "_" )*2( "=" ): base64 and base64url
_BASE64 = r"[A-Za-z0-9+/_-]+={0,2}"
_NONCE = re.compile(rf"'nonce-{_BASE64}'", re.IGNORECASE)
_HASH = re.compile(rf"'(sha256|sha384|sha512)-({_BASE64})'", re.IGNORECASE)
_DIGEST_BYTES = {"sha256": 32, "sha384": 48, "sha512": 64}
# scheme-source = scheme-part ":"
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
# host-source = [ scheme-part "://" ] host-part [ ":" port-part ] [ path-part ]
_HOST_SOURCE = re.compile(
    r"(?:(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://)?"
    r"(?P<host>\*|(?:\*\.)?[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)"
    r"(?::(?:[0-9]+|\*))?"
    r"(?:/[^\s;,]*)?"
)
KEYWORDS = frozenset(
    {
        "'none'",
        "'self'",
        "'unsafe-inline'",
        "'unsafe-eval'",
        "'strict-dynamic'",
        "'unsafe-hashes'",
        "'report-sample'",
        "'unsafe-allow-redirects'",
        "'wasm-unsafe-eval'",
        "'inline-speculation-rules'",
        "'trusted-types-eval'",
    }
)
# schemes that carry scripts in clear text, where anyone on the path can swap them
_INSECURE = frozenset({"http", "ws", "ftp"})


def normalise(token: str) -> str:
    """Keywords are case-insensitive; nonce and hash values, hosts and paths keep their case."""
    lowered = token.lower()
    return lowered if lowered in KEYWORDS else token


def is_nonce(token: str) -> bool:
    """A nonce-source: quoted, the 'nonce-' prefix, a non-empty base64 value."""
    return _NONCE.fullmatch(token) is not None


def is_hash(token: str) -> bool:
    """A hash-source whose base64 value decodes to its algorithm's digest length.

    The grammar alone accepts any length; a digest of the wrong size matches no script, so a
    policy that leans on it to switch 'unsafe-inline' off is not counted as doing so.
    """
    found = _HASH.fullmatch(token)
    if found is None:
        return False
    value = found.group(2)
    digits = value.rstrip("=")
    if len(digits) != len(value) and len(value) % 4:
        return False  # padding only ever completes a 4-character group
    return len(digits) * 6 // 8 == _DIGEST_BYTES[found.group(1).lower()]


def is_nonce_or_hash(token: str) -> bool:
    return is_nonce(token) or is_hash(token)


def is_source(token: str) -> bool:
    """Whether browsers accept ``token`` as a source expression at all."""
    return (
        token.lower() in KEYWORDS
        or is_nonce_or_hash(token)
        or _SCHEME.fullmatch(token) is not None
        or _HOST_SOURCE.fullmatch(token) is not None
    )


def broad_reason(source: str) -> str | None:
    """Why ``source`` lets a script come from a host nobody vetted or over clear text."""
    if source == "*":
        return "the wildcard * matches every host"
    if _SCHEME.fullmatch(source):
        return f"the scheme source {source} matches every {source[:-1].lower()} URL"
    found = _HOST_SOURCE.fullmatch(source)
    if found is None:
        return None
    if found.group("host") == "*":
        return f"{source} matches every host"
    scheme = (found.group("scheme") or "").lower()
    if scheme in _INSECURE:
        return f"{source} is fetched over plain {scheme}"
    return None


def allows_all_inline(sources: Sequence[str]) -> bool:
    """CSP3 "does a source list allow all inline behavior": 'unsafe-inline' counts unless a
    nonce, a hash or 'strict-dynamic' is in the same list (CSP2 and later ignore it then)."""
    if any(is_nonce_or_hash(s) or s == "'strict-dynamic'" for s in sources):
        return False
    return "'unsafe-inline'" in sources


def strict_dynamic(sources: Sequence[str]) -> bool:
    """'strict-dynamic' with a nonce or hash to start from: host and scheme sources (and
    'self') are ignored for scripts, so broad ones there are fallbacks for old browsers."""
    return "'strict-dynamic'" in sources and any(is_nonce_or_hash(s) for s in sources)


def broad_source(sources: Sequence[str]) -> str | None:
    """The first source that admits scripts from anywhere or over clear text, with why."""
    if strict_dynamic(sources):
        return None
    for source in sources:
        reason = broad_reason(source)
        if reason is not None:
            return reason
    return None
