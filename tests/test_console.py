"""What a person reads: the gate's console lines and the Markdown matrix, rendered from
hand-made matrices, and which requirements a run's selection left out."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from harness.report.console import RunWatch
from harness.report.markdown import render_markdown
from harness.report.matrix import MatrixBuilder
from harness.report.selection import ids_in_files
from harness.report.summary import cause_of, render_summary, shorten
from tests.test_matrix_verdicts import CATALOGUE, PARAMS, build, check

CONTROL = "needs stack control (stopping and starting services); the url target offers: http"
LONG = "AssertionError: " + "backend GET /api/v1/formulas (200): X-Frame-Options is missing; " * 5


def _matrix() -> dict[str, Any]:
    return build(
        check("MON-HEALTH-001", "health"),
        check("MON-HEALTH-005", "down", "skipped", why=CONTROL),
        check("SEC-HDR-XFO", "xfo", "failed", message=LONG.strip()),
        check("SEC-RL-LOGIN", "login", "error", message="POST /login: got 404 (set login_path)"),
    )


def _blocked(matrix: dict[str, Any], rid: str, by: str | None) -> None:
    """The ``blocked`` verdict as the matrix may carry it: a row naming its root cause."""
    entry = next(e for e in matrix["requirements"] if e["id"] == rid)
    entry["verdict"] = "blocked"
    if by is not None:
        entry["blocked_by"] = [by]


def _lines(text: str) -> list[str]:
    return text.splitlines()


def test_console_has_one_line_per_requirement_that_ran_failures_first() -> None:
    summary = render_summary(_matrix(), Path("reports"), Path("reports/pytest.log"))
    rows = [line for line in _lines(summary) if line.startswith("  ") and "-" in line[2:6]]
    assert [row.split()[0] for row in rows] == [
        "SEC-HDR-XFO",
        "SEC-RL-LOGIN",
        "MON-HEALTH-005",
        "MON-HEALTH-001",
    ]
    assert rows[0].split()[1] == "FAILED"
    # the check's own words, without pytest's framing, cut at a word
    assert "AssertionError" not in summary
    assert rows[0].rstrip().endswith(" ...")
    assert len(rows[0]) < 150
    assert "POST /login: got 404 (set login_path)" in rows[1]
    assert "needs stack control" in rows[2]
    assert "pytest's output (tracebacks, assertion details): reports/pytest.log" in summary


def test_console_counts_uncovered_and_deselected_and_never_lists_them() -> None:
    builder = MatrixBuilder(CATALOGUE, "production", PARAMS, selected=["MON-HEALTH-001"])
    builder.add(check("MON-HEALTH-001", "a"))
    summary = render_summary(builder.build(), Path("reports"))
    assert f"deselected (left out by this run's selection): {len(CATALOGUE) - 1}" in summary
    assert "MON-HEALTH-002" not in summary
    uncovered = render_summary(_matrix(), Path("reports"))
    assert "  uncovered (no check yet): " in uncovered
    assert "LOAD-LOCUSTFILE" not in uncovered  # uncovered in the catalogue, counted only
    assert len(_lines(uncovered)) < 30


def test_a_blocked_row_names_its_root_cause_on_the_console() -> None:
    matrix = _matrix()
    _blocked(matrix, "SEC-HDR-XXSS", "SEC-HDR-XFO")
    rows = [line.split() for line in _lines(render_summary(matrix, Path("r")))]
    ids = [row[0] for row in rows if row and row[0].startswith(("SEC-", "MON-"))]
    assert ids[:3] == ["SEC-HDR-XFO", "SEC-RL-LOGIN", "SEC-HDR-XXSS"]
    assert any(
        row[:5] == ["SEC-HDR-XXSS", "blocked", "blocked", "by", "SEC-HDR-XFO"] for row in rows
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("short reason", "short reason"),
        ("first line\nsecond line", "first line"),
        ("word " * 40, ("word " * 19).strip() + " ..."),
    ],
)
def test_shorten(text: str, expected: str) -> None:
    assert shorten(text) == expected


def _sections(markdown: str) -> list[str]:
    return [line for line in _lines(markdown) if line.startswith("## ")]


def test_markdown_opens_with_the_headline_then_failures_then_not_proven_then_areas() -> None:
    matrix = _matrix()
    _blocked(matrix, "SEC-HDR-XXSS", "SEC-HDR-XFO")
    _blocked(matrix, "SEC-HDR-CSP", None)  # no root cause named: tolerated, shown last
    markdown = render_markdown(matrix)
    assert _lines(markdown)[2].startswith("**FAIL**")
    sections = _sections(markdown)
    attestations = sum(req.kind == "attestation" for req in CATALOGUE)
    assert sections[:3] == [
        "## Failures (4)",
        f"## Not proven: needs an attestation ({attestations})",
        "## Not proven: needs stack control (1)",
    ]
    # the rest by area (passed, and what does not apply to the profile); uncovered last
    assert "## monitoring" in sections[3:-1]
    uncovered = sum(e["verdict"] == "uncovered" for e in matrix["requirements"])
    assert sections[-1] == f"## Uncovered: no check yet ({uncovered})"
    rows = [line.split(" | ")[0] for line in _lines(markdown) if line.startswith("| SEC-")]
    assert rows == ["| SEC-HDR-XFO", "| SEC-HDR-XXSS", "| SEC-RL-LOGIN", "| SEC-HDR-CSP"]
    assert "| SEC-HDR-XXSS | blocked | " in markdown
    assert "blocked by SEC-HDR-XFO" in markdown
    assert "To prove: --stack containers." in markdown
    assert "| MON-HEALTH-001 | passed |" in markdown
    assert "no check yet |" not in markdown  # uncovered ids are one compact list
    assert "- load: LOAD-LOCUSTFILE, LOAD-CONFIG" in markdown


def test_markdown_says_deselected_not_no_check_yet() -> None:
    builder = MatrixBuilder(CATALOGUE, "production", PARAMS, selected=["MON-HEALTH-001"])
    builder.add(check("MON-HEALTH-001", "a"))
    markdown = render_markdown(builder.build())
    deselected = f"({len(CATALOGUE) - 1})"
    assert (
        _sections(markdown)[-1] == f"## Deselected: left out by this run's selection {deselected}"
    )
    assert "no check yet" not in markdown
    assert "MON-HEALTH-002" in markdown.split("## Deselected")[1]


def test_requirements_whose_checks_were_left_out_are_deselected_not_uncovered() -> None:
    builder = MatrixBuilder(CATALOGUE, "production", PARAMS)
    builder.add(check("MON-HEALTH-001", "a"))
    builder.left_out |= {"MON-HEALTH-001", "MON-HEALTH-002"}  # -k left out one of 001's
    matrix = builder.build()
    verdicts = {e["id"]: e["verdict"] for e in matrix["requirements"]}
    assert verdicts["MON-HEALTH-001"] == "passed"  # judged on the checks that ran
    assert verdicts["MON-HEALTH-002"] == "deselected"
    assert verdicts["MON-HEALTH-003"] == "uncovered"


def test_ids_in_ignored_files_are_read_from_their_source(tmp_path: Path) -> None:
    suite = tmp_path / "suites"
    suite.mkdir()
    (suite / "test_a.py").write_text(
        '@requirement("MON-HEALTH-001")\ndef test_a(): ...\n'
        'IDS = {"smoke": "LOAD-SCENARIO-SMOKE", "not": "NOT-AN-ID"}\n'
    )
    (suite / "notes.txt").write_text('"MON-HEALTH-002"')
    found = ids_in_files([suite, tmp_path / "missing.py"], CATALOGUE.requirements)
    assert found == {"MON-HEALTH-001", "LOAD-SCENARIO-SMOKE"}


def test_say_reaches_the_terminal_from_inside_a_check(pytester: pytest.Pytester) -> None:
    """Under plain pytest a line said from a check is on the terminal, not captured."""
    pytester.makepyfile(
        """
        from harness.report.console import say

        def test_a(pytestconfig):
            say(pytestconfig, "waiting 10 s for the rate-limit window")
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*waiting 10 s for the rate-limit window*"])


def test_say_writes_to_the_gate_console_when_there_is_one(pytester: pytest.Pytester) -> None:
    console = io.StringIO()
    pytester.makepyfile(
        """
        from harness.report.console import say

        def test_a(pytestconfig):
            say(pytestconfig, "discovered: /health answers 200 JSON")
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", plugins=[RunWatch(console=console)])
    result.assert_outcomes(passed=1)
    assert console.getvalue() == "discovered: /health answers 200 JSON\n"
    assert "discovered" not in result.stdout.str()


def test_a_suite_that_cannot_be_collected_is_named_with_its_error(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_bad="import no_such_module_for_the_gate\n")
    watch = RunWatch()
    pytester.runpytest("-p", "no:cacheprovider", plugins=[watch])
    assert watch.collection_errors == [
        "test_bad.py: ModuleNotFoundError: No module named 'no_such_module_for_the_gate'"
    ]


def test_a_missing_route_is_one_cause_whatever_the_method_that_met_it() -> None:
    hint = "the target has no such route; set --param api_probe_path=/your/route"
    by_discovery = cause_of(f"/api/v1/formulas answered 404: {hint}")
    by_a_burst = cause_of(f"GET /api/v1/formulas answered 404: {hint}")
    assert by_discovery == by_a_burst == (
        "/api/v1/formulas answered 404", "set --param api_probe_path=/your/route"
    )  # fmt: skip


def test_a_reason_that_ends_with_the_option_to_use_names_it_as_the_remedy() -> None:
    reason = "the deploy drills run the deploy script on Docker: use --stack containers"
    assert cause_of(reason) == (
        "the deploy drills run the deploy script on Docker", "--stack containers"
    )  # fmt: skip
    assert cause_of("something odd happened")[1] == "see the reason in matrix.md"


def test_the_skips_of_a_crowded_cause_are_counted_under_it_not_listed() -> None:
    repository = "needs the deployment's repository: set --project-root DIR"
    ids = [requirement.id for requirement in CATALOGUE]
    many = [rid for rid in ids if rid.startswith("DEP-CI-")][:11]
    few = [rid for rid in ids if rid.startswith("DEP-K8S-")][:2]
    matrix = build(
        *(check(rid, f"r{n}", "skipped", why=repository) for n, rid in enumerate(many)),
        *(check(rid, f"k{n}", "skipped", why=CONTROL) for n, rid in enumerate(few)),
    )
    summary = render_summary(matrix, Path("reports"))
    assert not any(f"  {rid} " in summary for rid in many), summary
    assert f"  needs the deployment's repository: {len(many)} (not listed above)" in summary
    # a cause with few requirements keeps its lines
    assert all(f"  {rid} " in summary for rid in few), summary
    assert "  needs stack control: 2 -> --stack containers" in summary
