"""The matrix page without a browser: every matrix value is text, never markup; the counts, the
groups of what was not proven and the honest labels are those of matrix.json and matrix.md."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path
from typing import Any

import pytest

from harness.errors import HarnessError
from harness.report import write_reports
from harness.report.html import render_html, screenshot
from harness.report.html_assets import SCRIPT, STYLE
from harness.report.markdown import unproven_groups
from tests.matrix_samples import HOSTILE, synthetic_matrix


def _row(page: str, rid: str) -> str:
    start = page.index(f'<tbody class="req" id="req-{rid}"')
    return page[start : page.index("</tbody>", start)]


def test_hostile_strings_are_text_and_the_page_has_one_script() -> None:
    page = render_html(synthetic_matrix())
    assert page.count("<script") == 1
    assert page.count("</script>") == 1
    assert "<img" not in page
    assert "onerror=alert" not in page.replace("onerror=alert(1)&gt;", "")
    assert "&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in page
    # a hostile area or verdict cannot leave its attribute nor name a class
    assert 'data-area="ops&quot; onclick=&quot;x"' in page
    assert 'class="verdict v-other"' in page


def test_the_policy_lets_only_the_pages_own_script_and_style_run() -> None:
    page = render_html(synthetic_matrix())
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert policy is not None
    for source in (SCRIPT, STYLE):
        digest = base64.b64encode(hashlib.sha256(source.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy.group(1)
    assert "default-src 'none'" in policy.group(1)
    # nothing is fetched: every link is an anchor on the page or inline data
    for ref in re.findall(r'(?:src|href)="([^"]*)"', page):
        assert ref.startswith(("#", "data:")), ref


def test_counts_shown_are_the_summary() -> None:
    matrix = synthetic_matrix()
    page = render_html(matrix)
    shown = dict(re.findall(r'<td data-count="([^"]+)">(?:<button[^>]*>)?(\d+)', page))
    assert {k: int(v) for k, v in shown.items()} == matrix["summary"]
    rows = re.findall(r'<tbody class="req"[^>]* data-verdict="([^"]+)"', page)
    assert len(rows) == matrix["summary"]["total"]
    assert '<span class="headline FAIL" id="headline">FAIL</span>2 failed, 1 errored' in page


def test_scaled_partial_waived_attested_blocked_rows_say_what_they_are() -> None:
    page = render_html(synthetic_matrix())
    scaled = _row(page, "LOAD-SCENARIO-BASELINE")
    assert "passed (scaled)" in scaled
    assert "v-scaled" in scaled
    assert "v-passed" not in scaled
    assert "ran 12 s of 2 min; only --load-profile full proves it" in scaled
    assert "partial" in _row(page, "CFG-PARTIAL")
    waived = _row(page, "SEC-HDR-HSTS")
    assert "owner platform-team, expires 2999-12-31; its checks: failed" in waived
    assert "attested by security-oncall@example.com" in _row(page, "OPS-ATTESTED")
    assert "blocked by SEC-RL-DEFAULT-LIMIT" in _row(page, "SEC-RL-BLOCKED")
    # the blocked row follows its root cause in the failures
    failures = page[page.index('id="failures"') : page.index('id="not-proven"')]
    assert failures.index("SEC-RL-DEFAULT-LIMIT") < failures.index("SEC-RL-BLOCKED")
    assert "rate_limit_period_s 60 declared, 10 applied" in _row(page, "SEC-RL-DEFAULT-LIMIT")


def test_not_proven_is_grouped_as_the_markdown_groups_it() -> None:
    matrix = synthetic_matrix()
    page = render_html(matrix)
    section = page[page.index('id="not-proven"') :]
    section = section[: section.index("</ul>")]
    for (cause, remedy), rows in unproven_groups(matrix["requirements"]):
        item = re.search(rf"<b>{re.escape(cause)}</b> \((\d+)\): to prove, <code>([^<]+)", section)
        assert item is not None, cause
        assert (int(item.group(1)), item.group(2)) == (len(rows), remedy)
    assert "uncovered: no check yet</b> (1)" in section


def test_history_shows_the_trend_and_marks_what_changed() -> None:
    page = render_html(synthetic_matrix())
    assert 'id="filter-changed"' in page
    failing = _row(page, "SEC-RL-DEFAULT-LIMIT")
    assert 'data-changed="1"' in failing
    assert "newly failing" in failing
    assert failing.count('class="verdict') == 4  # its own verdict and three recent ones
    assert 'data-changed="0"' in _row(page, "CFG-PARTIAL")  # steady
    assert "3 runs of this target and profile (window 10)" in page


def test_without_history_there_is_no_trend(tmp_path: Path) -> None:
    matrix = synthetic_matrix()
    del matrix["history"]
    paths = write_reports(matrix, tmp_path)
    assert [p.name for p in paths] == ["matrix.json", "matrix.md", "matrix.html"]
    page = paths[2].read_text(encoding="utf-8")
    assert 'id="filter-changed"' not in page
    assert 'id="trend"' not in page


def test_a_malformed_history_is_left_out_not_a_crash() -> None:
    matrix: dict[str, Any] = synthetic_matrix()
    matrix["history"] = {"runs": 2, "requirements": {"CFG-PARTIAL": "steady", "X": None}}
    page = render_html(matrix)
    assert 'data-changed="0"' in _row(page, "CFG-PARTIAL")
    matrix["history"] = ["not", "a", "mapping"]
    assert 'id="filter-changed"' not in render_html(matrix)


def test_hostile_evidence_is_shown_escaped_in_the_details() -> None:
    page = render_html(synthetic_matrix())
    row = _row(page, "SEC-HDR-NOSNIFF")
    assert "<details>" in row
    assert "1 check, 2 evidence items" in row
    assert HOSTILE.replace("<", "&lt;").replace(">", "&gt;") in row


def test_a_screenshot_of_no_page_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(HarnessError, match=r"no matrix page at .*: run harness gate first"):
        screenshot(tmp_path / "matrix.html", tmp_path / "matrix.png")
    assert not (tmp_path / "matrix.png").exists()
