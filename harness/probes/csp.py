"""Content-Security-Policy, parsed as CSP Level 3 says (2.2.1 and 2.2.2) and judged as enforced.

A header value holds comma-separated policies; every policy of every header is enforced, so a
resource loads only when each policy allows it. The directive checks therefore judge the
intersection. SEC-HDR-CSP still asks for exactly one policy (see docs/docs/security-headers.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from harness.probes import csp_sources as sources
from harness.probes.headers import Finding, Headers, values_of

Policy = Mapping[str, tuple[str, ...]]

# "ASCII whitespace" of the Infra standard: a vertical tab or a no-break space is not one
_WHITESPACE = "\t\n\x0c\r "
_SPLIT = re.compile(f"[{_WHITESPACE}]+")
KNOWN_DIRECTIVES = frozenset(
    {
        "base-uri", "block-all-mixed-content", "child-src", "connect-src", "default-src",
        "fenced-frame-src", "font-src", "form-action", "frame-ancestors", "frame-src",
        "img-src", "manifest-src", "media-src", "navigate-to", "object-src", "prefetch-src",
        "report-to", "report-uri", "require-trusted-types-for", "sandbox", "script-src",
        "script-src-attr", "script-src-elem", "style-src", "style-src-attr", "style-src-elem",
        "trusted-types", "upgrade-insecure-requests", "webrtc", "worker-src",
    }
)  # fmt: skip
# CSP3 "get the fallback list": where each script check falls back to
_FALLBACK = {
    "script-src-elem": ("script-src-elem", "script-src", "default-src"),
    "script-src-attr": ("script-src-attr", "script-src", "default-src"),
    "script-src": ("script-src", "default-src"),
}


@dataclass(frozen=True)
class ParsedCsp:
    directives: dict[str, tuple[str, ...]]
    duplicates: tuple[str, ...] = field(default_factory=tuple)

    @property
    def unknown(self) -> tuple[str, ...]:
        """Directive names no browser knows: kept, as the spec keeps them, and never used."""
        return tuple(name for name in self.directives if name not in KNOWN_DIRECTIVES)


def parse_csp(value: str) -> ParsedCsp:
    """One serialized policy (CSP3 2.2.1): ';'-separated, names lower-cased, a repeated
    directive ignored after its first occurrence, a non-ASCII directive skipped."""
    directives: dict[str, tuple[str, ...]] = {}
    duplicates: list[str] = []
    for part in value.split(";"):
        token = part.strip(_WHITESPACE)
        if not token or not token.isascii():
            continue
        name, *values = _SPLIT.split(token)
        name = name.lower()
        if name in directives:
            duplicates.append(name)
            continue
        directives[name] = tuple(sources.normalise(value) for value in values)
    return ParsedCsp(directives, tuple(duplicates))


def enforced_policies(headers: Headers) -> tuple[list[ParsedCsp], str]:
    """Every policy a browser enforces (CSP3 2.2.2): each comma-separated part of each header,
    those without directives dropped; an empty list comes with the reason."""
    values = values_of(headers, "Content-Security-Policy")
    if not values:
        return [], "Content-Security-Policy is missing"
    parsed = [parse_csp(part) for value in values for part in value.split(",")]
    policies = [policy for policy in parsed if policy.directives]
    if not policies:
        return [], f"Content-Security-Policy {', '.join(values)!r} has no directives"
    return policies, ""


def single_policy(headers: Headers) -> tuple[ParsedCsp | None, str]:
    """Exactly one CSP header holding one policy with at least one directive browsers know."""
    policies, problem = enforced_policies(headers)
    if not policies:
        return None, problem
    sent = len(values_of(headers, "Content-Security-Policy"))
    if sent > 1:
        return None, f"Content-Security-Policy is sent {sent} times"
    if len(policies) > 1:
        return None, f"Content-Security-Policy joins {len(policies)} policies with a comma"
    policy = policies[0]
    if len(policy.unknown) == len(policy.directives):
        names = " ".join(policy.unknown)
        return None, f"Content-Security-Policy has no directive browsers know (only {names!r})"
    return policy, ""


def check_single(headers: Headers) -> Finding:
    policy, problem = single_policy(headers)
    if policy is None:
        return Finding(False, None, problem)
    repeated = f" (repeated, ignored: {' '.join(policy.duplicates)})" if policy.duplicates else ""
    return Finding(True, "; ".join(policy.directives) + repeated)


def _effective(policy: Policy, directive: str) -> tuple[str, tuple[str, ...]] | None:
    for name in _FALLBACK[directive]:
        if name in policy:
            return name, policy[name]
    return None


@dataclass(frozen=True)
class ScriptRisks:
    """What one policy still lets scripts do, each as the sentence that says so."""

    inline: str | None
    eval: str | None
    broad: str | None


def script_risks(policy: Policy) -> ScriptRisks:
    """Inline code (elements and event-handler attributes), eval, and script URLs from
    anywhere or over clear text, each through its CSP3 fallback list."""
    inline = broad = None
    for directive in ("script-src-elem", "script-src-attr"):
        found = _effective(policy, directive)
        if found is None:
            inline = inline or f"no {directive}, script-src or default-src: inline scripts run"
        elif sources.allows_all_inline(found[1]):
            ignored = " ".join(s for s in found[1] if not sources.is_source(s))
            why = f"; browsers ignore {ignored}" if ignored else ""
            inline = inline or f"{found[0]} allows 'unsafe-inline' (no valid nonce or hash{why})"
    # script elements load through script-src-elem; workers and the rest through script-src
    for directive in ("script-src-elem", "script-src"):
        found = _effective(policy, directive)
        if found is None:
            broad = broad or f"no {directive} or default-src: scripts load from anywhere"
        elif (reason := sources.broad_source(found[1])) is not None:
            broad = broad or f"{found[0]}: {reason}"
    governing = _effective(policy, "script-src")
    if governing is None:
        evaluation: str | None = "no script-src or default-src: eval() runs"
    elif "'unsafe-eval'" in governing[1]:
        evaluation = f"{governing[0]} allows 'unsafe-eval'"
    else:
        evaluation = None
    return ScriptRisks(inline, evaluation, broad)


def check_script(*policies: Policy) -> Finding:
    """No inline scripts, no eval, no script URL from anywhere or over clear text. With several
    policies a risk remains only when every policy leaves it open (the intersection)."""
    if not policies:
        return Finding(False, None, "no Content-Security-Policy")
    risks = [script_risks(policy) for policy in policies]
    columns = zip(*((r.inline, r.eval, r.broad) for r in risks), strict=True)
    still_open = [str(column[0]) for column in columns if all(column)]
    if still_open:
        every = f" (in every one of the {len(risks)} policies)" if len(risks) > 1 else ""
        return Finding(False, None, "; ".join(still_open) + every)
    governing = {found[0] for policy in policies if (found := _effective(policy, "script-src"))}
    return Finding(True, ", ".join(sorted(governing)) or "script-src-elem, script-src-attr")


def _any_policy(check: Callable[[Policy], Finding], policies: Sequence[Policy]) -> Finding:
    # a policy restricting a directive restricts the intersection, whatever the others say
    if not policies:
        return Finding(False, None, "no Content-Security-Policy")
    findings = [check(policy) for policy in policies]
    return next((finding for finding in findings if finding.ok), findings[0])


def _only(listed: Sequence[str] | None, allowed: set[str]) -> bool:
    # an empty source list matches nothing, as 'none' does
    if listed is not None and not listed:
        return "'none'" in allowed
    return listed is not None and len(listed) == 1 and listed[0] in allowed


def _frame_ancestors(policy: Policy) -> Finding:
    listed = policy.get("frame-ancestors")
    if _only(listed, {"'none'"}):
        return Finding(True, "'none'")
    shown = " ".join(listed) if listed is not None else None
    return Finding(False, shown, f"frame-ancestors is {shown or 'missing'}, expected 'none'")


def check_frame_ancestors(*policies: Policy) -> Finding:
    """frame-ancestors 'none'; it never falls back to default-src."""
    return _any_policy(_frame_ancestors, policies)


def _object_src(policy: Policy) -> Finding:
    if "object-src" in policy:
        listed = policy["object-src"]
        if _only(listed, {"'none'"}):
            return Finding(True, "object-src 'none'")
        return Finding(False, " ".join(listed), f"object-src is {' '.join(listed) or 'empty'}")
    if _only(policy.get("default-src"), {"'none'"}):
        return Finding(True, "default-src 'none'")
    return Finding(False, None, "no object-src 'none' (and default-src is not 'none')")


def check_object_src(*policies: Policy) -> Finding:
    """object-src 'none', directly or through default-src 'none'."""
    return _any_policy(_object_src, policies)


def _base_uri(policy: Policy) -> Finding:
    listed = policy.get("base-uri")
    if _only(listed, {"'none'", "'self'"}):
        return Finding(True, " ".join(listed or ("'none'",)))
    shown = " ".join(listed) if listed is not None else None
    return Finding(False, shown, f"base-uri is {shown or 'missing'}, expected 'none' or 'self'")


def check_base_uri(*policies: Policy) -> Finding:
    """base-uri 'none' or 'self'; it never falls back to default-src."""
    return _any_policy(_base_uri, policies)
