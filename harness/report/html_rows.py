"""The matrix page's requirement rows (requirement, verdict, reason, then its checks, parameters
and evidence) and its history trend; every matrix value is escaped here, where it is written."""

from __future__ import annotations

import json
from collections.abc import Mapping
from html import escape
from typing import Any

from harness.report.summary import reason
from harness.report.verdicts import LABELS

Entry = Mapping[str, Any]
TRENDS = {
    "newly_failing": "newly failing",
    "fixed": "fixed",
    "flaky": "flaky",
    "new": "new",
    "steady": "steady",
}
CHANGED = ("newly_failing", "fixed", "flaky")  # what "changed since the last run" keeps


def text(value: Any) -> str:
    return escape(str(value), quote=True)


def verdict_badge(verdict: str) -> str:
    # the class comes from the known verdicts only: a matrix value never names a class
    css = f"v-{verdict}" if verdict in LABELS else "v-other"
    return f'<span class="verdict {css}">{text(LABELS.get(verdict, verdict))}</span>'


def link(rid: str) -> str:
    return f'<a href="#req-{text(rid)}">{text(rid)}</a>'


def _json(value: Any) -> str:
    return text(json.dumps(value, indent=2, default=str, ensure_ascii=False))


def _trend(history: Mapping[str, Any] | None, rid: str) -> Mapping[str, Any]:
    if history is None:
        return {}
    found = (history.get("requirements") or {}).get(rid)
    return found if isinstance(found, Mapping) else {}


def changed(trend: Mapping[str, Any]) -> bool:
    """Its verdict moved: newly failing, fixed or flaky, or the last two runs differ."""
    recent = trend.get("recent")
    recent = recent if isinstance(recent, list) else []
    return trend.get("trend") in CHANGED or (len(recent) >= 2 and recent[-1] != recent[-2])


def trend_cell(trend: Mapping[str, Any]) -> str:
    if not trend:
        return '<td class="trend"></td>'
    name = str(trend.get("trend", ""))
    css = f"trend-{name}" if name in TRENDS else ""
    recent = trend.get("recent")
    chips = "".join(verdict_badge(str(v)) for v in (recent if isinstance(recent, list) else []))
    return (
        f'<td class="trend"><span class="{css}">{text(TRENDS.get(name, name))}</span>'
        f'<div class="recent" title="oldest to newest">{chips}</div></td>'
    )


def trend_section(history: Mapping[str, Any]) -> list[str]:
    """How many runs the trend rests on and which requirements moved."""
    per: dict[str, list[str]] = {}
    for rid, trend in (history.get("requirements") or {}).items():
        if isinstance(trend, Mapping):
            per.setdefault(str(trend.get("trend", "")), []).append(str(rid))
    runs = history.get("runs", "?")
    lines = [
        '<h2 id="trend">Trend</h2>',
        f'<p class="meta" id="history-runs">{text(runs)} run{"" if runs == 1 else "s"} of this '
        f"target and profile (window {text(history.get('window', '?'))})</p>",
        '<ul class="groups">',
    ]
    for name, label in TRENDS.items():
        ids = per.get(name, [])
        listed = f'<div class="ids">{"".join(link(rid) for rid in ids)}</div>'
        shown = listed if ids and name in CHANGED else ""
        lines.append(f'<li><span class="trend-{name}">{label}</span>: {len(ids)}{shown}</li>')
    return [*lines, "</ul>"]


def _checks(entry: Entry) -> list[str]:
    lines = ["<table><tr><th>check</th><th>outcome</th><th>s</th><th>said</th></tr>"]
    for check in entry.get("checks") or ():
        said = check.get("message") or check.get("skip_reason") or ""
        if check.get("scaled"):
            said = f"{said} (ran {check['scaled'].get('share', '?')})".strip()
        if check.get("blocked_by"):
            said = f"{said} (blocked by {check['blocked_by']})".strip()
        lines.append(
            f"<tr><td><code>{text(check.get('nodeid', ''))}</code></td>"
            f"<td>{text(check.get('outcome', ''))}</td>"
            f"<td>{text(check.get('duration_s', ''))}</td><td>{text(said)}</td></tr>"
        )
    return [*lines, "</table>"]


def _params(entry: Entry) -> list[str]:
    declared = entry.get("params") or {}
    applied = entry.get("applied") or {}
    if not declared and not applied:
        return []
    lines = ["<table><tr><th>parameter</th><th>declared</th><th>applied</th></tr>"]
    for name in dict.fromkeys([*declared, *applied]):
        was, used = declared.get(name), applied.get(name, declared.get(name))
        css = " class=differs" if name in applied and used != was else ""
        lines.append(
            f"<tr{css}><td><code>{text(name)}</code></td>"
            f"<td>{text(json.dumps(was, default=str))}</td>"
            f"<td>{text(json.dumps(used, default=str))}</td></tr>"
        )
    return [*lines, "</table>"]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _details(entry: Entry) -> list[str]:
    """What the row rests on: its checks, parameters, the user's own statement, evidence."""
    checks, evidence = entry.get("checks") or [], entry.get("evidence") or []
    parts: list[str] = []
    if checks:
        parts += [f"<h3>Checks ({len(checks)})</h3>", *_checks(entry)]
    params = _params(entry)
    if params:
        parts += ["<h3>Parameters</h3>", *params]
    for key in ("scaled", "waiver", "attestation"):
        if entry.get(key):
            parts += [f"<h3>{key.capitalize()}</h3>", f"<pre>{_json(entry[key])}</pre>"]
    if evidence:
        parts.append(f"<h3>Evidence ({len(evidence)})</h3>")
        for item in evidence:
            parts.append(f"<pre>{_json(item)}</pre>")
    if not parts:
        return []
    summary = f"{_count(len(checks), 'check')}, {_count(len(evidence), 'evidence item')}"
    return [f"<details><summary>{summary}</summary>", *parts, "</details>"]


def _row(entry: Entry, history: Mapping[str, Any] | None, columns: int) -> list[str]:
    rid, verdict = str(entry["id"]), str(entry["verdict"])
    trend = _trend(history, rid)
    lines = [
        f'<tbody class="req" id="req-{text(rid)}" data-id="{text(rid)}" '
        f'data-area="{text(entry["area"])}" data-verdict="{text(verdict)}" '
        f'data-changed="{1 if changed(trend) else 0}">',
        f'<tr class="main"><td class="id">{link(rid)}</td><td>{verdict_badge(verdict)}</td>',
        f"<td>{text(entry['title'])}<div class=sub>{text(entry['area'])} · "
        f"{text(entry.get('section', ''))}</div></td>",
        f'<td class="reason">{text(reason(entry))}</td>',
    ]
    if history is not None:
        lines.append(trend_cell(trend))
    lines.append("</tr>")
    details = _details(entry)
    if details:
        lines += [f'<tr class="detail"><td></td><td colspan="{columns - 1}">', *details]
        lines.append("</td></tr>")
    return [*lines, "</tbody>"]


def requirement_rows(entries: list[Entry], history: Mapping[str, Any] | None) -> list[str]:
    """The table of every requirement in catalogue order, one ``tbody`` each (the filters
    hide and show whole ``tbody`` elements)."""
    head = ["requirement", "verdict", "title", "reason"]
    if history is not None:
        head.append("trend (oldest to newest)")
    lines = ['<table id="requirement-table"><thead><tr>']
    lines += [f"<th>{name}</th>" for name in head]
    lines.append("</tr></thead>")
    for entry in entries:
        lines += _row(entry, history, len(head))
    return [*lines, "</table>"]
