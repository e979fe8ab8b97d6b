"""Build ``matrix.json`` from pytest reports; it is the contract other tools read."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from harness import __version__
from harness.report.attestations import Attestation, unattested_reason
from harness.report.verdicts import VERDICTS, headline, requirement_verdict
from harness.report.waivers import Waiver
from harness.spec import Catalogue

MATRIX_SCHEMA_VERSION = 2
PROPERTY = "harness"  # key of the user property that carries requirement ids and evidence
# a check's outcome over its phases: the worst one wins
_RANK = {"passed": 0, "not_applicable": 1, "skipped": 1, "blocked": 2, "failed": 3, "error": 4}


@dataclass
class CheckResult:
    nodeid: str
    requirements: list[str]
    outcome: str = "passed"
    duration_s: float = 0.0
    message: str | None = None
    evidence: list[dict[str, Any]] = field(default_factory=list)
    applied: dict[str, Any] = field(default_factory=dict)
    scaled: dict[str, Any] | None = None  # a load run the quick profile shortened
    blocked_by: str | None = None  # the requirement whose failure keeps this check from judging

    def merge(self, phase: str, outcome: str, message: str | None, duration: float) -> None:
        if phase != "call" and outcome == "failed":
            outcome = "error"  # a broken fixture is not a failed check, but it is no pass
        self.duration_s += duration
        if _RANK[outcome] > _RANK[self.outcome]:
            self.outcome = outcome
            self.message = message

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "nodeid": self.nodeid,
            "outcome": self.outcome,
            "duration_s": round(self.duration_s, 3),
        }
        if self.message:
            key = "skip_reason" if self.outcome in ("skipped", "not_applicable") else "message"
            data[key] = self.message
        if self.applied:
            data["applied"] = self.applied
        if self.scaled is not None:
            data["scaled"] = self.scaled
        if self.blocked_by is not None:
            data["blocked_by"] = self.blocked_by
        return data


def report_message(report: Any) -> str | None:
    """The one-line reason of a failed or skipped pytest report."""
    longrepr = report.longrepr
    if longrepr is None:
        return None
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # skip: (path, line, "Skipped: why")
        return str(longrepr[2]).removeprefix("Skipped: ")
    crash = getattr(longrepr, "reprcrash", None)
    text = str(crash.message) if crash is not None else str(longrepr)
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[0][:500] if lines else None


class MatrixBuilder:
    """Collects per-test reports (xdist workers' too) and folds them per requirement."""

    def __init__(
        self,
        catalogue: Catalogue,
        profile: str,
        params: Mapping[str, Any],
        waivers: Mapping[str, Waiver] | None = None,
        *,
        selected: Collection[str] = (),
        attestations: Mapping[str, Attestation] | None = None,
        today: date | None = None,
    ) -> None:
        self.catalogue = catalogue
        self.profile = profile
        self.params = params
        self.waivers = dict(waivers or {})
        self.attestations = dict(attestations or {})
        self.today = today or date.today()
        self.selected = frozenset(selected)  # empty: every requirement
        # requirements with checks the run left out (-k, -m, --ignore): deselected, not
        # uncovered, when none of their checks ran
        self.left_out: set[str] = set()
        self.checks: dict[str, CheckResult] = {}
        self.targets: dict[str, dict[str, Any]] = {}
        self.discovery: dict[str, Any] | None = None  # the first worker's that discovered

    def add(self, report: Any) -> None:
        props = dict(report.user_properties).get(PROPERTY)
        if not props:
            return
        check = self.checks.setdefault(
            report.nodeid, CheckResult(report.nodeid, list(props["requirements"]))
        )
        # the plugin classified the phase (a crash or an unexpected answer is an error)
        outcome = props.get("outcome") or report.outcome
        message = props.get("message") or report_message(report)
        check.merge(report.when, outcome, message, report.duration)
        if props.get("evidence"):
            check.evidence.extend(props["evidence"])
        check.applied.update(props.get("applied") or {})
        if props.get("scaled"):
            check.scaled = props["scaled"]
        if props.get("blocked_by"):
            check.blocked_by = props["blocked_by"]
        if props.get("target"):
            self.targets[json.dumps(props["target"], sort_keys=True)] = props["target"]
        if props.get("discovery") and self.discovery is None:
            self.discovery = props["discovery"]

    def build(self, target: Mapping[str, Any] | None = None) -> dict[str, Any]:
        by_requirement: dict[str, list[CheckResult]] = {}
        for check in self.checks.values():
            for rid in check.requirements:
                by_requirement.setdefault(rid, []).append(check)
        entries = [self._entry(req.id, by_requirement.get(req.id, [])) for req in self.catalogue]
        summary = {verdict: 0 for verdict in VERDICTS}
        for entry in entries:
            summary[entry["verdict"]] += 1
        return {
            "schema_version": MATRIX_SCHEMA_VERSION,
            "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "harness_version": __version__,
            "profile": self.profile,
            "headline": headline(summary),
            "targets": list(self.targets.values()) or ([dict(target)] if target else []),
            "summary": {"total": len(entries), **summary},
            "requirements": entries,
            "discovery": self.discovery,
        }

    def _entry(self, rid: str, checks: list[CheckResult]) -> dict[str, Any]:
        req = self.catalogue[rid]
        applicable = req.applies_to(self.profile)
        checks = sorted(checks, key=lambda c: c.nodeid)
        outcomes = [check.outcome for check in checks]
        scaled = [c.scaled for c in checks if c.scaled is not None and c.outcome == "passed"]
        waiver = self.waivers.get(rid)
        attestation = self.attestations.get(rid)
        attested = None
        if req.kind == "attestation":
            attested = attestation is not None and not attestation.expired(self.today)
        verdict = requirement_verdict(
            outcomes,
            applicable=applicable,
            waived=waiver is not None,
            scaled=bool(scaled),
            attested=attested,
            selected=(not self.selected or rid in self.selected)
            and bool(checks or rid not in self.left_out),
        )
        skip_reasons = sorted(
            {c.message for c in checks if c.outcome in ("skipped", "not_applicable") and c.message}
        )
        if not applicable:
            skip_reasons = [f"not applicable to profile {self.profile}"]
        elif verdict == "skipped" and attested is False:
            skip_reasons = [unattested_reason(attestation)]
        applied: dict[str, Any] = {}
        for check in checks:
            applied.update(check.applied)
        entry: dict[str, Any] = {
            "id": req.id,
            "title": req.title,
            "area": req.area,
            "kind": req.kind,
            "section": req.section,
            "profiles": list(req.profiles),
            "applicable": applicable,
            "verdict": verdict,
            "params": {name: self.params.get(name) for name in req.params},
            "applied": applied,
            "checks": [check.to_json() for check in checks],
            "skip_reasons": skip_reasons,
            "evidence": [
                {"check": check.nodeid, **item} for check in checks for item in check.evidence
            ],
        }
        if scaled:
            entry["scaled"] = scaled[0]
        if verdict == "blocked":
            entry["blocked_by"] = sorted({c.blocked_by for c in checks if c.blocked_by})
        if attestation is not None:
            entry["attestation"] = {
                **attestation.to_json(),
                "expired": attestation.expired(self.today),
            }
        if waiver is not None:
            # what the checks said, had the requirement not been waived
            said = requirement_verdict(outcomes, applicable=True, waived=False, scaled=bool(scaled))
            entry["waiver"] = {**waiver.to_json(), "checks_verdict": said}
        return entry


def write_reports(matrix: Mapping[str, Any], report_dir: Path) -> list[Path]:
    """Write matrix.json, its Markdown view and its HTML page; returns the paths written."""
    from harness.report.html import write_html
    from harness.report.markdown import render_markdown

    report_dir.mkdir(parents=True, exist_ok=True)
    json_path = report_dir / "matrix.json"
    md_path = report_dir / "matrix.md"
    json_path.write_text(json.dumps(matrix, indent=2, default=str) + "\n", encoding="utf-8")
    md_path.write_text(render_markdown(matrix), encoding="utf-8")
    return [json_path, md_path, write_html(matrix, report_dir / "matrix.html")]


def failed_ids(matrix: Mapping[str, Any]) -> list[str]:
    return ids_with(matrix, "failed")


def ids_with(matrix: Mapping[str, Any], verdict: str) -> list[str]:
    entries: Iterable[Mapping[str, Any]] = matrix["requirements"]
    return [entry["id"] for entry in entries if entry["verdict"] == verdict]
