"""The matrix as one self-contained HTML page: the headline, the counts, the failures and what
was not proven, then every requirement with its checks, verdict and evidence, filterable by
area, verdict and (with a history) change. Every value of the matrix is untrusted text: it is
escaped where it is written, and the page's policy lets only its own script and style run."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.report.html_assets import SCRIPT, STYLE
from harness.report.html_rows import link, requirement_rows, text, trend_section, verdict_badge
from harness.report.markdown import COMPACT, failure_order, unproven_groups
from harness.report.summary import reason
from harness.report.verdicts import LABELS, NOT_PROVEN, VERDICTS

Entry = Mapping[str, Any]
EXPLAINED = {
    "PASS": "every applicable, selected requirement passed, is waived or is attested",
    "FAIL": "a requirement failed or errored",  # said with the counts
    "INCOMPLETE": "nothing failed, but applicable requirements are not proven",
}


def _csp() -> str:
    def digest(source: str) -> str:
        return base64.b64encode(hashlib.sha256(source.encode()).digest()).decode()

    return (
        f"default-src 'none'; script-src 'sha256-{digest(SCRIPT)}'; "
        f"style-src 'sha256-{digest(STYLE)}'; img-src data:; base-uri 'none'; form-action 'none'"
    )


def _verdicts(summary: Mapping[str, Any]) -> list[str]:
    return [*VERDICTS, *(v for v in summary if v not in VERDICTS and v != "total")]


def _head(matrix: Mapping[str, Any]) -> list[str]:
    summary = matrix["summary"]
    verdict = str(matrix["headline"])
    unproven = sum(int(summary.get(v, 0)) for v in NOT_PROVEN)
    why = EXPLAINED.get(verdict, "")
    if verdict == "INCOMPLETE":
        why = f"nothing failed, but {unproven} applicable requirements are not proven"
    elif verdict == "FAIL":
        why = f"{summary.get('failed', 0)} failed, {summary.get('error', 0)} errored"
    css = verdict if verdict in EXPLAINED else ""
    lines = [
        "<h1>Compliance matrix</h1>",
        f'<p><span class="headline {css}" id="headline">{text(verdict)}</span>{text(why)}</p>',
        f'<p class="meta">profile <b>{text(matrix["profile"])}</b>, generated '
        f"{text(matrix['generated_at'])} by harness {text(matrix['harness_version'])}</p>",
        '<ul class="meta">',
        *(
            f"<li>target: {text(t.get('kind', ''))} {text(t.get('url') or '')}</li>"
            for t in matrix.get("targets") or ()
        ),
        "</ul>",
    ]
    verdicts = _verdicts(summary)
    lines += [
        '<table class="counts" id="counts"><tr><th>total</th>',
        *(f"<th>{text(LABELS.get(v, v))}</th>" for v in verdicts),
        f'</tr><tr><td data-count="total"><button type="button" data-verdict="">'
        f"{text(summary['total'])}</button></td>",
    ]
    for v in verdicts:
        count = text(summary.get(v, 0))
        cell = f'<button type="button" data-verdict="{text(v)}">{count}</button>'
        lines.append(f'<td data-count="{text(v)}">{cell if summary.get(v) else count}</td>')
    return [*lines, "</tr></table>"]


def _failures(entries: list[Entry]) -> list[str]:
    ordered = failure_order(entries)
    if not ordered:
        return []
    lines = [f'<h2 id="failures">Failures ({len(ordered)})</h2>', '<ul class="groups">']
    for entry in ordered:
        css = ' class="blocked-row"' if entry["verdict"] == "blocked" else ""
        said = text(reason(entry, False)[:300])
        lines.append(f"<li{css}>{link(entry['id'])} {verdict_badge(entry['verdict'])} {said}</li>")
    return [*lines, "</ul>"]


def _ids(rows: list[Entry]) -> str:
    return '<div class="ids">' + "".join(link(e["id"]) for e in rows) + "</div>"


def _not_proven(entries: list[Entry]) -> list[str]:
    """The groups matrix.md has, with what would prove each; then uncovered and deselected."""
    groups = unproven_groups(entries)
    apart = {v: [e for e in entries if e["verdict"] == v] for v in COMPACT}
    if not groups and not any(apart.values()):
        return []
    lines = ['<h2 id="not-proven">Not proven</h2>', '<ul class="groups">']
    for (cause, remedy), rows in groups:
        lines.append(
            f"<li><b>{text(cause)}</b> ({len(rows)}): to prove, "
            f"<code>{text(remedy)}</code>{_ids(rows)}</li>"
        )
    if apart["uncovered"]:
        rows = apart["uncovered"]
        lines.append(
            f"<li><b>uncovered: no check yet</b> ({len(rows)}): to prove, "
            f"<code>write a check</code>{_ids(rows)}</li>"
        )
    if apart["deselected"]:
        rows = apart["deselected"]
        lines.append(
            f'<li class="note">deselected: left out by this run\'s selection ({len(rows)}), '
            "not judged</li>"
        )
    return [*lines, "</ul>"]


def _parameters(entries: list[Entry]) -> list[str]:
    """Each parameter of the requirements whose checks ran, with the values they applied."""
    rows: dict[str, dict[str, Any]] = {}
    for entry in (e for e in entries if e.get("checks")):  # what ran applied something
        for name, declared in (entry.get("params") or {}).items():
            row = rows.setdefault(name, {"declared": declared, "applied": [], "ids": []})
            applied = (entry.get("applied") or {}).get(name, declared)
            if applied not in row["applied"]:
                row["applied"].append(applied)
            row["ids"].append(entry["id"])
    if not rows:
        return []
    lines = [
        '<h2 id="parameters">Parameters</h2>',
        f"<details><summary>declared and applied values ({len(rows)} parameters)</summary><table>",
        "<tr><th>parameter</th><th>declared</th><th>applied</th><th>requirements</th></tr>",
    ]
    for name, row in sorted(rows.items()):
        differs = any(value != row["declared"] for value in row["applied"])
        applied = ", ".join(json.dumps(v, default=str) for v in row["applied"])
        lines.append(
            f"<tr{' class=differs' if differs else ''}><td><code>{text(name)}</code></td>"
            f"<td>{text(json.dumps(row['declared'], default=str))}</td><td>{text(applied)}</td>"
            f"<td class=ids>{''.join(link(rid) for rid in row['ids'])}</td></tr>"
        )
    return [*lines, "</table></details>"]


def render_html(matrix: Mapping[str, Any]) -> str:
    """The page for an already-redacted matrix (what matrix.json holds)."""
    entries: list[Entry] = list(matrix["requirements"])
    history = matrix.get("history")
    history = history if isinstance(history, Mapping) else None
    areas = list(dict.fromkeys(str(e["area"]) for e in entries))
    summary = matrix["summary"]
    options = [v for v in _verdicts(summary) if summary.get(v)]
    filters = [
        '<div class="filters">',
        '<span><label for="filter-area">area</label> <select id="filter-area">'
        '<option value="">all areas</option>',
        *(f'<option value="{text(a)}">{text(a)}</option>' for a in areas),
        '</select></span><span><label for="filter-verdict">verdict</label> '
        '<select id="filter-verdict"><option value="">all verdicts</option>',
        *(
            f'<option value="{text(v)}">{text(LABELS.get(v, v))} ({text(summary[v])})</option>'
            for v in options
        ),
        "</select></span>",
    ]
    if history is not None:
        filters.append(
            '<span><label><input type="checkbox" id="filter-changed"> '
            "changed since the last run</label></span>"
        )
    if summary.get("deselected"):
        filters.append(
            '<span><label><input type="checkbox" id="filter-deselected" checked> hide the '
            f"{text(summary['deselected'])} deselected</label></span>"
        )
    filters.append(f'<span><b id="shown">{len(entries)}</b> of {len(entries)} shown</span></div>')
    body = [
        *_head(matrix),
        *_failures(entries),
        *_not_proven(entries),
        *(trend_section(history) if history is not None else []),
        *_parameters(entries),
        '<h2 id="requirements">Requirements</h2>',
        *filters,
        *requirement_rows(entries, history),
    ]
    return "\n".join(
        [
            "<!doctype html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{_csp()}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            '<link rel="icon" href="data:,">',
            f"<title>Compliance matrix: {text(matrix['headline'])}</title>",
            f"<style>{STYLE}</style></head><body>",
            *body,
            f"<script>{SCRIPT}</script>",
            "</body></html>",
            "",
        ]
    )


def write_html(matrix: Mapping[str, Any], path: Path) -> Path:
    path.write_text(render_html(matrix), encoding="utf-8")
    return path


def screenshot(matrix_html: Path, png: Path) -> Path:
    """A PNG of the page as a headless Chromium shows it (``BrowserUnavailable`` without one)."""
    from harness.report.browser import headless_chromium

    if not matrix_html.is_file():
        raise HarnessError(f"no matrix page at {matrix_html}: run harness gate first")
    png.parent.mkdir(parents=True, exist_ok=True)
    with headless_chromium() as driver:
        driver.get(matrix_html.resolve().as_uri())
        height = int(driver.execute_script("return document.documentElement.scrollHeight"))
        # the page's top (headline, counts, what failed and why) up to a height a viewer still reads
        driver.set_window_size(1400, max(800, min(height, 3000)))
        if not driver.save_screenshot(str(png)):
            raise HarnessError(f"Chromium could not write the screenshot {png}")
    return png
