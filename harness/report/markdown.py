"""The Markdown view of the matrix: a summary, then one row per requirement."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_ICONS = {"passed": "PASS", "failed": "FAIL", "skipped": "SKIP", "uncovered": "----"}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _detail(entry: Mapping[str, Any]) -> str:
    if entry["verdict"] == "failed":
        messages = [c.get("message", "") for c in entry["checks"] if c["outcome"] != "passed"]
        return "; ".join(m for m in messages if m)[:300]
    if entry["verdict"] == "skipped":
        return "; ".join(entry["skip_reasons"])
    if entry["verdict"] == "uncovered":
        return "no check yet"
    return f"{len(entry['checks'])} check(s)"


def render_markdown(matrix: Mapping[str, Any]) -> str:
    summary = matrix["summary"]
    lines = [
        "# Compliance matrix",
        "",
        f"Profile **{matrix['profile']}**, generated {matrix['generated_at']} by harness "
        f"{matrix['harness_version']}.",
        "",
    ]
    for target in matrix["targets"]:
        lines.append(f"- target: {target.get('kind')} {target.get('url', '')}")
    lines += [
        "",
        "| total | passed | failed | skipped | uncovered |",
        "|---:|---:|---:|---:|---:|",
        f"| {summary['total']} | {summary['passed']} | {summary['failed']} | "
        f"{summary['skipped']} | {summary['uncovered']} |",
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
            f"| {entry['id']} | {_ICONS[entry['verdict']]} | {_cell(entry['title'])} | "
            f"{_cell(_detail(entry))} |"
        )
    return "\n".join(lines) + "\n"
