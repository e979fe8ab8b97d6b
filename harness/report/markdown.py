"""The Markdown view of the matrix: a summary, then one row per requirement."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.report.summary import differences
from harness.report.verdicts import LABELS, VERDICTS


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _detail(entry: Mapping[str, Any]) -> str:
    verdict = entry["verdict"]
    parts: list[str] = []
    if verdict in ("failed", "error", "blocked"):
        messages = [c.get("message", "") for c in entry["checks"] if c["outcome"] == verdict]
        parts.append("; ".join(m for m in messages if m)[:300])
    elif verdict == "waived":
        w = entry["waiver"]
        parts.append(
            f"{w['reason']} (owner {w['owner']}, expires {w['expires']}; "
            f"its checks: {w['checks_verdict']})"
        )
    elif verdict == "scaled":
        parts.append(f"ran {entry['scaled']['share']}; only --load-profile full proves it")
    elif verdict in ("skipped", "partial", "not_applicable"):
        parts.append("; ".join(entry["skip_reasons"]))
    elif verdict == "uncovered":
        parts.append("no check yet")
    else:
        parts.append(f"{len(entry['checks'])} check(s)")
    applied = differences(entry)
    if applied:
        parts.append(applied)
    return "; ".join(part for part in parts if part)


def render_markdown(matrix: Mapping[str, Any]) -> str:
    summary = matrix["summary"]
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
        "| total | " + " | ".join(LABELS[v] for v in VERDICTS) + " |",
        "|---:|" + "---:|" * len(VERDICTS),
        f"| {summary['total']} | " + " | ".join(str(summary[v]) for v in VERDICTS) + " |",
        "",
    ]
    area = None
    for entry in matrix["requirements"]:
        if entry["area"] != area:
            area = entry["area"]
            lines += [
                "",
                f"## {area}",
                "",
                "| id | verdict | requirement | detail |",
                "|---|---|---|---|",
            ]
        lines.append(
            f"| {entry['id']} | {LABELS[entry['verdict']]} | {_cell(entry['title'])} | "
            f"{_cell(_detail(entry))} |"
        )
    return "\n".join(lines) + "\n"
