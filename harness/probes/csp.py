"""Content-Security-Policy, parsed into directives as CSP Level 3 says (section 2.2.1).

Directives are ';'-separated; a directive's name is case-insensitive and only its first
occurrence counts; source keywords ('none', 'self', 'unsafe-inline') are case-insensitive.
A comma in one header value joins two policies, which is not the one policy the spec asks for.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from harness.probes.headers import Finding, Headers, values_of

Policy = Mapping[str, tuple[str, ...]]

_NAME = re.compile(r"^[a-z0-9-]+$")
# what script-src falls back to when it is absent (CSP3 "effective directive" fallback list)
_SCRIPT_DIRECTIVES = ("script-src", "script-src-elem", "script-src-attr")
_NONCE_OR_HASH = re.compile(r"^'(?:nonce-|sha256-|sha384-|sha512-)", re.I)


@dataclass(frozen=True)
class ParsedCsp:
    directives: dict[str, tuple[str, ...]]
    duplicates: tuple[str, ...] = field(default_factory=tuple)


def parse_csp(value: str) -> ParsedCsp:
    """The directives of one serialized policy; repeated directives are listed and ignored."""
    directives: dict[str, tuple[str, ...]] = {}
    duplicates: list[str] = []
    for part in value.split(";"):
        tokens = part.split()
        if not tokens:
            continue
        name = tokens[0].lower()
        if not _NAME.match(name):
            continue
        if name in directives:
            duplicates.append(name)
            continue
        directives[name] = tuple(_normalise(token) for token in tokens[1:])
    return ParsedCsp(directives, tuple(duplicates))


def _normalise(token: str) -> str:
    # keywords and nonces/hashes are quoted; only keywords are case-insensitive
    if token.startswith("'") and not _NONCE_OR_HASH.match(token):
        return token.lower()
    return token


def single_policy(headers: Headers) -> tuple[ParsedCsp | None, str]:
    """Exactly one CSP header holding one policy with at least one directive."""
    values = values_of(headers, "Content-Security-Policy")
    if not values:
        return None, "Content-Security-Policy is missing"
    if len(values) > 1:
        return None, f"Content-Security-Policy is sent {len(values)} times"
    if "," in values[0]:
        return None, "Content-Security-Policy joins several policies with a comma"
    parsed = parse_csp(values[0])
    if not parsed.directives:
        return None, f"Content-Security-Policy {values[0]!r} has no directives"
    return parsed, ""


def script_sources(policy: Policy) -> dict[str, tuple[str, ...]]:
    """Sources governing scripts: each script-src* directive present, else default-src."""
    found = {name: policy[name] for name in _SCRIPT_DIRECTIVES if name in policy}
    if "script-src" not in found and "default-src" in policy:
        found["default-src"] = policy["default-src"]
    return found


def check_script(policy: Policy) -> Finding:
    """No 'unsafe-eval'; no 'unsafe-inline' unless a nonce or hash neutralises it (CSP2+)."""
    governing = script_sources(policy)
    if "script-src" not in governing and "default-src" not in governing:
        # script-src-elem alone leaves inline event handlers (script-src-attr) unrestricted
        return Finding(False, None, "no script-src and no default-src: scripts are unrestricted")
    for name, sources in governing.items():
        if "'unsafe-eval'" in sources:
            return Finding(False, name, f"{name} allows 'unsafe-eval'")
        neutralised = any(_NONCE_OR_HASH.match(s) for s in sources) and name != "script-src-attr"
        if "'unsafe-inline'" in sources and not neutralised:
            return Finding(False, name, f"{name} allows 'unsafe-inline'")
    return Finding(True, ", ".join(governing))


def _only(sources: Sequence[str] | None, allowed: set[str]) -> bool:
    # an empty source list matches nothing, as 'none' does
    if sources is not None and not sources:
        return "'none'" in allowed
    return sources is not None and len(sources) == 1 and sources[0] in allowed


def check_frame_ancestors(policy: Policy) -> Finding:
    """frame-ancestors 'none'; it never falls back to default-src."""
    sources = policy.get("frame-ancestors")
    if _only(sources, {"'none'"}):
        return Finding(True, "'none'")
    shown = " ".join(sources) if sources is not None else None
    return Finding(False, shown, f"frame-ancestors is {shown or 'missing'}, expected 'none'")


def check_object_src(policy: Policy) -> Finding:
    """object-src 'none', directly or through default-src 'none'."""
    if "object-src" in policy:
        sources = policy["object-src"]
        if _only(sources, {"'none'"}):
            return Finding(True, "object-src 'none'")
        return Finding(False, " ".join(sources), f"object-src is {' '.join(sources) or 'empty'}")
    if _only(policy.get("default-src"), {"'none'"}):
        return Finding(True, "default-src 'none'")
    return Finding(False, None, "no object-src 'none' (and default-src is not 'none')")


def check_base_uri(policy: Policy) -> Finding:
    """base-uri 'none' or 'self'; it never falls back to default-src."""
    sources = policy.get("base-uri")
    if _only(sources, {"'none'", "'self'"}):
        return Finding(True, " ".join(sources or ("'none'",)))
    shown = " ".join(sources) if sources is not None else None
    return Finding(False, shown, f"base-uri is {shown or 'missing'}, expected 'none' or 'self'")
