"""The gate's closing summary on the terminal, read from matrix.json: the counts, what failed,
what was not proven grouped by cause with the command that would prove it, the headline."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.report.verdicts import counts_line

# the start of a skip reason -> (the cause as a group title, what would prove it)
CAUSES: tuple[tuple[str, str, str], ...] = (
    ("needs stack control", "needs stack control", "--stack containers"),
    ("needs a Redis component", "needs a Redis component", "--stack containers"),
    ("needs a frontend service", "needs a frontend service", "--stack containers"),
    ("needs a containers stack", "needs a containers stack", "--stack containers"),
    ("needs two backend replicas", "needs backend replicas", "--stack containers"),
    ("needs access to the audit log", "needs the audit log", "--stack containers"),
    ("needs a second instance", "needs a second app instance", "--stack containers"),
    ("needs a way to create user", "needs user accounts", "--stack containers"),
    ("needs distinct client addresses", "needs distinct client addresses", "a loopback target"),
    ("needs a host on the load/attack", "needs the load/attack allow-list", "--allow-host HOST"),
    ("needs a load generator address", "needs a load generator apart", "harness load SCENARIO"),
    ("the target has no HTTPS", "no HTTPS endpoint", "an https:// --target-url"),
    ("the target has no plain-HTTP", "no plain-HTTP entry", "--stack containers"),
    ("nothing listens for plain HTTP", "no plain-HTTP entry", "--stack containers"),
)


# more ids than this in one group are a wall: the matrix lists them all
MAX_IDS = 12


def _wrap(ids: list[str]) -> str:
    shown = ids if len(ids) <= MAX_IDS else [*ids[:MAX_IDS], f"... {len(ids) - MAX_IDS} more"]
    return textwrap.fill(
        ", ".join(shown),
        width=96,
        initial_indent="      ",
        subsequent_indent="      ",
        break_on_hyphens=False,
    )


def cause_of(reason: str) -> tuple[str, str]:
    """(cause, the option or setting that would prove it) of one skip reason."""
    for prefix, cause, remedy in CAUSES:
        if reason.startswith(prefix):
            return cause, remedy
    head = reason.split(";", maxsplit=1)[0].split(":", maxsplit=1)[0].strip()
    # a probe path the target does not have: the reason ends with the parameter to set
    _, setting, fix = reason.rpartition("set --param ")
    return head[:80], (setting + fix) if setting else "see the reason in matrix.md"


def not_proven(entries: list[Mapping[str, Any]]) -> dict[tuple[str, str], list[str]]:
    """Applicable requirements that are not proven, by (cause, remedy), in catalogue order."""
    groups: dict[tuple[str, str], list[str]] = {}
    for entry in entries:
        verdict = entry["verdict"]
        if verdict == "scaled":
            keys = [("scaled load scenarios (quick profile)", "--load-profile full")]
        elif verdict == "uncovered":
            keys = [("uncovered (no check yet)", "write a check")]
        elif verdict in ("skipped", "partial"):
            keys = [cause_of(reason) for reason in entry["skip_reasons"]] or [
                ("skipped without a reason", "see matrix.md")
            ]
        else:
            continue
        for key in dict.fromkeys(keys):
            groups.setdefault(key, []).append(entry["id"])
    return groups


def blocked_by_cause(entries: list[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Blocked requirements under the root cause that blocks them, in catalogue order."""
    causes: dict[str, list[str]] = {}
    for entry in entries:
        for cause in entry.get("blocked_by", ()) if entry["verdict"] == "blocked" else ():
            causes.setdefault(cause, []).append(entry["id"])
    return causes


def render_summary(matrix: Mapping[str, Any], report_dir: Path) -> str:
    s = matrix["summary"]
    entries = matrix["requirements"]
    lines = [
        "",
        f"requirements: {s['total']} in the catalogue, profile {matrix['profile']}",
        f"  {counts_line(s)}",
    ]
    broken = [e for e in entries if e["verdict"] in ("failed", "error")]
    blocked = blocked_by_cause(entries)
    for verdict in ("failed", "error"):
        of_kind = [e for e in broken if e["verdict"] == verdict]
        if of_kind:
            lines.append(f"{verdict}:")
        for entry in of_kind:
            reasons = [c.get("message", "") for c in entry["checks"] if c["outcome"] == verdict]
            lines.append(f"  {entry['id']}: {entry['title']}")
            lines += [f"      {reason}" for reason in reasons if reason][:3]
            if entry["id"] in blocked:
                lines.append(f"      blocks until fixed: {', '.join(blocked.pop(entry['id']))}")
    # a root cause that did not fail itself (deselected, skipped): its dependants still show
    lines += [f"blocked by {cause}: {', '.join(ids)}" for cause, ids in blocked.items()]
    waived = [e for e in entries if e["verdict"] == "waived"]
    if waived:
        lines.append("waived:")
        for entry in waived:
            w = entry["waiver"]
            lines.append(
                f"  {entry['id']}: {w['reason']} (owner {w['owner']}, expires {w['expires']}; "
                f"its checks: {w['checks_verdict']})"
            )
    groups = not_proven(entries)
    if groups:
        lines.append("not proven:")
        for (cause, remedy), ids in sorted(groups.items(), key=lambda kv: -len(kv[1])):
            lines.append(f"  {cause}: {len(ids)} -> {remedy}")
            lines.append(_wrap(ids))
    changed: dict[str, list[str]] = {}
    # a scaled run's shortened durations are said under "scaled load scenarios" already
    for entry in (e for e in entries if e["verdict"] != "scaled" and "scaled" not in e):
        for difference in _differences(entry):
            changed.setdefault(difference, []).append(entry["id"])
    if changed:
        lines.append("applied parameters that differ from the declared ones:")
        for difference, ids in changed.items():
            lines.append(f"  {difference} ({len(ids)})")
            lines.append(_wrap(ids))
    lines.append(f"reports: {report_dir / 'matrix.json'}, {report_dir / 'matrix.md'}")
    lines.append(f"verdict: {matrix['headline']}")
    return "\n".join(lines)


def _differences(entry: Mapping[str, Any]) -> list[str]:
    declared, applied = entry["params"], entry.get("applied", {})
    return [
        f"{name} {_value(declared[name])} declared, {_value(applied[name])} applied"
        for name in declared
        if name in applied and applied[name] != declared[name]
    ]


def differences(entry: Mapping[str, Any]) -> str:
    """``rate_limit_period_s 60 declared, 10 applied``, for each parameter where they differ."""
    return "; ".join(_differences(entry))


def _value(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value) if isinstance(value, str) else str(value)
