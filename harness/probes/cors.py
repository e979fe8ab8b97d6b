"""CORS responses judged as a browser would (Fetch standard, "CORS check")."""

from __future__ import annotations

from dataclasses import dataclass

from harness.probes.headers import Finding, Headers, values_of


@dataclass(frozen=True)
class Grant:
    """What a response grants to the requesting origin."""

    allow_origin: str | None
    credentials: bool
    vary_origin: bool
    methods: tuple[str, ...]
    headers: tuple[str, ...]


def _tokens(values: list[str]) -> tuple[str, ...]:
    return tuple(t.strip() for v in values for t in v.split(",") if t.strip())


def grant_of(headers: Headers) -> Grant:
    origins = values_of(headers, "Access-Control-Allow-Origin")
    credentials = values_of(headers, "Access-Control-Allow-Credentials")
    vary = {t.lower() for t in _tokens(values_of(headers, "Vary"))}
    return Grant(
        allow_origin=", ".join(origins) if origins else None,
        # the Fetch standard accepts only the exact, case-sensitive value "true"
        credentials=len(credentials) == 1 and credentials[0].strip() == "true",
        vary_origin="origin" in vary or "*" in vary,
        methods=tuple(
            m.upper() for m in _tokens(values_of(headers, "Access-Control-Allow-Methods"))
        ),
        headers=tuple(
            h.lower() for h in _tokens(values_of(headers, "Access-Control-Allow-Headers"))
        ),
    )


def check_foreign(headers: Headers, origin: str) -> Finding:
    """A foreign origin gets nothing: not echoed, no wildcard, no credentials."""
    grant = grant_of(headers)
    if grant.allow_origin is not None and grant.allow_origin.strip() == origin:
        extra = " with credentials" if grant.credentials else ""
        return Finding(False, grant.allow_origin, f"foreign origin {origin} is echoed{extra}")
    if grant.allow_origin is not None and grant.allow_origin.strip() == "*":
        extra = " together with credentials" if grant.credentials else ""
        return Finding(False, "*", f"wildcard Access-Control-Allow-Origin{extra}")
    if grant.allow_origin is not None and grant.allow_origin.strip().lower() == "null":
        return Finding(False, "null", "Access-Control-Allow-Origin: null grants sandboxed pages")
    if grant.credentials:
        return Finding(False, "true", "Access-Control-Allow-Credentials sent to a foreign origin")
    return Finding(True, grant.allow_origin)


def check_allowed(headers: Headers, origin: str) -> Finding:
    """An allowed origin is echoed exactly, once, with Vary: Origin."""
    grant = grant_of(headers)
    if grant.allow_origin != origin:
        return Finding(
            False,
            grant.allow_origin,
            f"Access-Control-Allow-Origin is {grant.allow_origin!r}, expected exactly {origin!r}",
        )
    if not grant.vary_origin:
        return Finding(False, origin, "Vary does not name Origin: caches may serve the grant")
    return Finding(True, origin)


def check_preflight(headers: Headers, origin: str, method: str, header: str) -> Finding:
    """A preflight grant covers the origin, the method and the request header asked for."""
    allowed = check_allowed(headers, origin)
    if not allowed.ok:
        return allowed
    grant = grant_of(headers)
    if method.upper() not in grant.methods and "*" not in grant.methods:
        return Finding(False, ", ".join(grant.methods), f"preflight does not allow {method}")
    if header.lower() not in grant.headers and "*" not in grant.headers:
        return Finding(False, ", ".join(grant.headers), f"preflight does not allow {header}")
    return Finding(True, origin)
