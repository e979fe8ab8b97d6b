"""A matrix with one row of every kind a page must show honestly (failed, error, blocked,
waived, scaled, partial, skipped, attested, ...), hostile strings where a target or a user
writes text, and a history value of the shape harness.report.history returns."""

from __future__ import annotations

from typing import Any

from harness.report.verdicts import VERDICTS, headline

HOSTILE = "</script><img src=x onerror=alert(1)><script>window.pwned=1</script>"


def _entry(rid: str, verdict: str, area: str = "security-headers", **extra: Any) -> dict[str, Any]:
    checks = extra.pop("checks", [])
    return {
        "id": rid,
        "title": f"{rid} holds",
        "area": area,
        "kind": "check",
        "section": "Security Hardening > Headers",
        "profiles": ["production"],
        "applicable": verdict != "not_applicable",
        "verdict": verdict,
        "params": extra.pop("params", {}),
        "applied": extra.pop("applied", {}),
        "checks": checks,
        "skip_reasons": extra.pop("skip_reasons", []),
        "evidence": extra.pop("evidence", []),
        **extra,
    }


def _check(name: str, outcome: str, **extra: Any) -> dict[str, Any]:
    return {"nodeid": f"suites/test_x.py::{name}", "outcome": outcome, "duration_s": 0.2, **extra}


def synthetic_matrix() -> dict[str, Any]:
    root = "SEC-RL-DEFAULT-LIMIT"
    entries = [
        _entry(
            "SEC-HDR-NOSNIFF",
            "failed",
            checks=[_check("nosniff", "failed", message=f"AssertionError: got {HOSTILE}")],
            evidence=[
                {"check": "suites/test_x.py::nosniff", "kind": "note", "label": "x", "value": 1},
                {
                    "check": "suites/test_x.py::nosniff",
                    "kind": "http",
                    "request": "GET /",
                    "status": 200,
                    "response_headers": {"authorization": "[redacted]"},
                    "body": HOSTILE,
                },
            ],
        ),
        _entry(
            root,
            "failed",
            area="rate-limiting",
            params={"rate_limit_period_s": 60},
            applied={"rate_limit_period_s": 10},
            checks=[_check("default", "failed", message="no rate limiter: 101 requests served")],
        ),
        _entry(
            "SEC-RL-BLOCKED",
            "blocked",
            area="rate-limiting",
            blocked_by=[root],
            checks=[_check("per_ip", "blocked", message=f"blocked by {root}: x", blocked_by=root)],
        ),
        _entry(
            "CFG-ERROR", "error", area="ops", checks=[_check("e", "error", message="GET /h: 500")]
        ),
        _entry(
            "SEC-HDR-HSTS",
            "waived",
            checks=[_check("hsts", "failed", message="no HSTS")],
            waiver={
                "reason": f"TLS ends at the load balancer {HOSTILE}",
                "owner": "platform-team",
                "expires": "2999-12-31",
                "checks_verdict": "failed",
            },
        ),
        _entry(
            "LOAD-SCENARIO-BASELINE",
            "scaled",
            area="load",
            checks=[_check("baseline", "passed", scaled={"share": "12 s of 2 min"})],
            scaled={"ran_s": 12, "spec_s": 120, "share": "12 s of 2 min"},
        ),
        _entry(
            "CFG-PARTIAL",
            "partial",
            area="ops",
            checks=[
                _check("a", "passed"),
                _check("b", "skipped", skip_reason="needs stack control: use --stack containers"),
            ],
            skip_reasons=["needs stack control: use --stack containers"],
        ),
        _entry(
            "CFG-SKIPPED",
            "skipped",
            area="ops",
            checks=[
                _check("c", "skipped", skip_reason="needs stack control: use --stack containers")
            ],
            skip_reasons=["needs stack control: use --stack containers"],
        ),
        _entry(
            "OPS-ATTESTED",
            "attested",
            area="ops",
            attestation={
                "by": "security-oncall@example.com",
                "on": "2026-11-28",
                "evidence": "https://wiki.example.com/review",
                "expires": "2026-12-31",
                "expired": False,
            },
        ),
        _entry("SEC-HDR-XFO", "passed", checks=[_check("xfo", "passed")]),
        _entry("CFG-DB-SSL", "not_applicable", area="ops", skip_reasons=["the database is SQLite"]),
        _entry("DOC-README", "uncovered", area="documentation"),
        _entry("DOC-SITE", "deselected", area="documentation"),
        _entry("EVIL-1", "hostile-verdict", area='ops" onclick="x'),
    ]
    summary = {verdict: 0 for verdict in VERDICTS}
    for entry in entries:
        summary[entry["verdict"]] = summary.get(entry["verdict"], 0) + 1
    return {
        "schema_version": 2,
        "generated_at": "2026-12-02T05:00:00+00:00",
        "harness_version": "0.1.0",
        "profile": "production",
        "headline": headline(summary),
        "targets": [{"kind": "url", "url": f"http://127.0.0.1:1/{HOSTILE}"}],
        "summary": {"total": len(entries), **summary},
        "requirements": entries,
        "discovery": None,
        "history": {
            "runs": 3,
            "window": 10,
            "requirements": {
                root: {"trend": "newly_failing", "recent": ["passed", "passed", "failed"]},
                "SEC-HDR-XFO": {"trend": "fixed", "recent": ["passed", "failed", "passed"]},
                "CFG-PARTIAL": {"trend": "steady", "recent": ["partial", "partial"]},
                "SEC-HDR-NOSNIFF": {"trend": "new", "recent": ["failed"]},
            },
        },
    }
