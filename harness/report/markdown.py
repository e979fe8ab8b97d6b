"""The Markdown view of the matrix: the headline, the failures by root cause, what was not
proven by cause, the rest by area; deselected and uncovered requirements last, compactly."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.report.summary import causes, reason
from harness.report.verdicts import LABELS, VERDICTS

# verdicts that make the gate FAIL; ``blocked`` rows are shown under the root cause they name
BROKEN = ("failed", "error", "blocked")
COMPACT = ("deselected", "uncovered")  # nothing of them ran: ids only
# a person's statement, not a check: a section of its own, never among the passes
STATED = ("attested",)
HEADER = ["| id | verdict | requirement | detail |", "|---|---|---|---|"]

Entry = Mapping[str, Any]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _row(entry: Entry) -> str:
    label = LABELS.get(entry["verdict"], entry["verdict"])
    detail = reason(entry)
    if entry["verdict"] in ("failed", "error"):
        detail = detail[:300]
    return f"| {entry['id']} | {label} | {_cell(entry['title'])} | {_cell(detail)} |"


def failure_order(entries: list[Entry]) -> list[Entry]:
    """The failed and errored rows, each followed by the blocked rows naming it as their root
    cause (``blocked_by``); blocked rows naming no failed row last."""
    broken = [e for e in entries if e["verdict"] in BROKEN]
    roots = [e for e in broken if e["verdict"] != "blocked"]
    blocked = [e for e in broken if e["verdict"] == "blocked"]
    ordered: list[Entry] = []
    for root in roots:
        ordered.append(root)
        ordered += [e for e in blocked if root["id"] in (e.get("blocked_by") or ())]
    placed = {e["id"] for e in roots}
    ordered += [e for e in blocked if not placed.intersection(e.get("blocked_by") or ())]
    return ordered


def _failures(entries: list[Entry]) -> list[str]:
    ordered = failure_order(entries)
    if not ordered:
        return []
    return ["", f"## Failures ({len(ordered)})", "", *HEADER, *(_row(e) for e in ordered)]


def unproven_groups(entries: list[Entry]) -> list[tuple[tuple[str, str], list[Entry]]]:
    """Applicable, not failed, not proven: ((cause, remedy), rows) by each row's first cause,
    the largest group first; deselected and uncovered rows are listed apart."""
    groups: dict[tuple[str, str], list[Entry]] = {}
    for entry in entries:
        if entry["verdict"] in COMPACT:
            continue
        found = causes(entry)
        if found:
            groups.setdefault(found[0], []).append(entry)
    return sorted(groups.items(), key=lambda kv: -len(kv[1]))


def _not_proven(entries: list[Entry]) -> tuple[list[str], set[str]]:
    lines: list[str] = []
    groups = unproven_groups(entries)
    for (cause, remedy), rows in groups:
        lines += ["", f"## Not proven: {cause} ({len(rows)})", "", f"To prove: {remedy}.", ""]
        lines += HEADER
        lines += [_row(e) for e in rows]
    return lines, {e["id"] for _, rows in groups for e in rows}


def _by_area(entries: list[Entry]) -> list[str]:
    areas: dict[str, list[Entry]] = {}
    for entry in entries:
        areas.setdefault(entry["area"], []).append(entry)
    lines: list[str] = []
    for area, rows in areas.items():
        lines += ["", f"## {area}", "", *HEADER, *(_row(e) for e in rows)]
    return lines


def _compact(entries: list[Entry], verdict: str, title: str) -> list[str]:
    areas: dict[str, list[str]] = {}
    for entry in entries:
        if entry["verdict"] == verdict:
            areas.setdefault(entry["area"], []).append(entry["id"])
    if not areas:
        return []
    total = sum(len(ids) for ids in areas.values())
    lines = ["", f"## {title} ({total})", ""]
    return lines + [f"- {area}: {', '.join(ids)}" for area, ids in areas.items()]


def render_markdown(matrix: Mapping[str, Any]) -> str:
    summary = matrix["summary"]
    entries: list[Entry] = matrix["requirements"]
    verdicts = [*VERDICTS, *(v for v in summary if v not in VERDICTS and v != "total")]
    lines = [
        "# Compliance matrix",
        "",
        f"**{matrix['headline']}**: profile **{matrix['profile']}**, generated "
        f"{matrix['generated_at']} by harness {matrix['harness_version']}.",
        "",
    ]
    for target in matrix["targets"]:
        lines.append(f"- target: {target.get('kind')} {target.get('url', '')}")
    lines += [
        "",
        "| total | " + " | ".join(LABELS.get(v, v) for v in verdicts) + " |",
        "|---:|" + "---:|" * len(verdicts),
        f"| {summary['total']} | " + " | ".join(str(summary.get(v, 0)) for v in verdicts) + " |",
    ]
    lines += _failures(entries)
    unproven, shown = _not_proven(entries)
    lines += unproven
    excluded = (*BROKEN, *COMPACT, *STATED)
    rest = [e for e in entries if e["verdict"] not in excluded and e["id"] not in shown]
    lines += _by_area(rest)
    attested = [e for e in entries if e["verdict"] in STATED]
    if attested:
        lines += ["", f"## Attested: a person's statement, not a check ({len(attested)})", ""]
        lines += [*HEADER, *(_row(e) for e in attested)]
    lines += _compact(entries, "deselected", "Deselected: left out by this run's selection")
    lines += _compact(entries, "uncovered", "Uncovered: no check yet")
    return "\n".join(lines) + "\n"
