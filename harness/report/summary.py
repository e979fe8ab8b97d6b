"""The gate's closing summary on the terminal, read from matrix.json."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def _wrap(ids: list[str]) -> str:
    return textwrap.fill(
        ", ".join(ids),
        width=96,
        initial_indent="    ",
        subsequent_indent="    ",
        break_on_hyphens=False,
    )


def render_summary(matrix: Mapping[str, Any], report_dir: Path) -> str:
    s = matrix["summary"]
    entries = matrix["requirements"]
    not_applicable = sum(1 for e in entries if not e["applicable"])
    lines = [
        "",
        f"requirements: {s['total']} in the catalogue, profile {matrix['profile']}",
        f"  passed {s['passed']}   failed {s['failed']}   skipped {s['skipped']}"
        f" ({not_applicable} not applicable to {matrix['profile']})   uncovered {s['uncovered']}",
    ]
    failed = [e for e in entries if e["verdict"] == "failed"]
    if failed:
        lines.append("failed:")
        for entry in failed:
            reasons = [c.get("message", "") for c in entry["checks"] if c["outcome"] != "passed"]
            lines.append(f"  {entry['id']}: {entry['title']}")
            lines += [f"      {reason}" for reason in reasons if reason][:3]
    skipped = [e for e in entries if e["verdict"] == "skipped" and e["applicable"]]
    if skipped:
        lines.append("skipped:")
        lines += [f"  {e['id']}: {'; '.join(e['skip_reasons'])}" for e in skipped]
    uncovered = [e["id"] for e in entries if e["verdict"] == "uncovered"]
    if uncovered:
        lines.append(f"uncovered (no check yet): {len(uncovered)}")
        lines.append(_wrap(uncovered))
    lines.append(f"reports: {report_dir / 'matrix.json'}, {report_dir / 'matrix.md'}")
    lines.append("verdict: " + ("FAIL" if failed else "PASS"))
    return "\n".join(lines)
