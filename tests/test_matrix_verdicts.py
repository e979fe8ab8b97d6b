"""Verdict semantics without pytest runs: the matrix builder, waivers, the gate's summary."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from harness.config import load_config
from harness.errors import ConfigError
from harness.report.markdown import render_markdown
from harness.report.matrix import MatrixBuilder
from harness.report.summary import render_summary
from harness.report.verdicts import fold, headline
from harness.report.waivers import Waiver, load_waivers
from harness.spec import load_catalogue
from tests.conftest import MATRIX_SCHEMA

CATALOGUE = load_catalogue()
PARAMS = {p.name: p.default_for("production") for p in CATALOGUE.parameters.values()}


@dataclass
class Report:
    """The parts of a pytest TestReport the builder reads."""

    nodeid: str
    outcome: str
    props: dict[str, Any]
    when: str = "call"
    longrepr: Any = None
    duration: float = 0.1
    user_properties: list[tuple[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.user_properties.append(("harness", self.props))


def check(rid: str, name: str, outcome: str = "passed", **props: Any) -> Report:
    longrepr = ("f.py", 1, f"Skipped: {props.pop('why')}") if "why" in props else None
    return Report(f"s.py::{name}", outcome, {"requirements": [rid], **props}, longrepr=longrepr)


def build(*reports: Report, waivers: dict[str, Waiver] | None = None) -> dict[str, Any]:
    builder = MatrixBuilder(CATALOGUE, "production", PARAMS, waivers)
    for report in reports:
        builder.add(report)
    matrix = builder.build()
    jsonschema.validate(matrix, json.loads(MATRIX_SCHEMA.read_text()))
    return matrix


def entry(matrix: dict[str, Any], rid: str) -> dict[str, Any]:
    return next(e for e in matrix["requirements"] if e["id"] == rid)


@pytest.mark.parametrize(
    ("outcomes", "scaled", "verdict"),
    [
        ([], False, "uncovered"),
        (["passed"], False, "passed"),
        (["passed", "passed"], True, "scaled"),
        (["passed", "skipped"], False, "partial"),
        (["skipped", "skipped"], False, "skipped"),
        (["passed", "error"], False, "error"),
        (["error", "failed", "passed"], False, "failed"),
    ],
)
def test_fold(outcomes: list[str], scaled: bool, verdict: str) -> None:
    assert fold(outcomes, scaled) == verdict


def test_headline_is_pass_only_when_everything_applicable_is_proven() -> None:
    assert headline({"passed": 3, "waived": 1, "not_applicable": 9}) == "PASS"
    assert headline({"passed": 3, "partial": 1}) == "INCOMPLETE"
    assert headline({"passed": 3, "scaled": 1}) == "INCOMPLETE"
    assert headline({"passed": 3, "uncovered": 1}) == "INCOMPLETE"
    assert headline({"passed": 3, "error": 1, "uncovered": 5}) == "FAIL"


def test_requirements_a_selection_left_out_do_not_count() -> None:
    builder = MatrixBuilder(CATALOGUE, "production", PARAMS, selected=["MON-HEALTH-001"])
    builder.add(check("MON-HEALTH-001", "a"))
    matrix = builder.build()
    assert entry(matrix, "MON-HEALTH-001")["verdict"] == "passed"
    assert entry(matrix, "MON-HEALTH-002")["verdict"] == "deselected"
    assert matrix["headline"] == "PASS"
    jsonschema.validate(matrix, json.loads(MATRIX_SCHEMA.read_text()))


def test_a_passed_and_a_skipped_check_make_a_partial_requirement() -> None:
    matrix = build(
        check("MON-HEALTH-001", "a"),
        check("MON-HEALTH-001", "b", "skipped", why="needs stack control (stopping ...)"),
    )
    assert entry(matrix, "MON-HEALTH-001")["verdict"] == "partial"
    assert matrix["summary"]["partial"] == 1
    assert matrix["headline"] == "INCOMPLETE"
    assert "| MON-HEALTH-001 | partial |" in render_markdown(matrix)


def test_a_scaled_load_pass_is_not_a_pass_and_says_how_much_ran() -> None:
    scaled = {"ran_s": 12.0, "spec_s": 3600.0, "share": "12 s of 60 min"}
    matrix = build(check("LOAD-SCENARIO-ENDURANCE", "endurance", scaled=scaled))
    row = entry(matrix, "LOAD-SCENARIO-ENDURANCE")
    assert row["verdict"] == "scaled"
    assert row["scaled"]["share"] == "12 s of 60 min"
    assert "| passed (scaled) |" in render_markdown(matrix)
    assert "ran 12 s of 60 min" in render_markdown(matrix)
    summary = render_summary(matrix, Path("reports"))
    assert "scaled load scenarios (quick profile): 1 -> --load-profile full" in summary


def test_applied_parameters_are_shown_beside_the_declared_ones() -> None:
    applied = {"rate_limit_period_s": 10, "rate_limit_calls": 100}
    matrix = build(check("SEC-RL-WINDOW-RESET", "reset", applied=applied))
    row = entry(matrix, "SEC-RL-WINDOW-RESET")
    assert row["params"]["rate_limit_period_s"] == 60
    assert row["applied"] == applied
    shown = "rate_limit_period_s 60 declared, 10 applied"
    assert shown in render_markdown(matrix)
    assert shown in render_summary(matrix, Path("reports"))


def test_a_waiver_shows_reason_owner_expiry_and_what_the_checks_said() -> None:
    waiver = Waiver("SEC-HDR-HSTS", "TLS ends at the balancer", "platform", date(2099, 1, 1))
    matrix = build(
        check("SEC-HDR-HSTS", "hsts", "skipped", why="the target has no HTTPS endpoint"),
        check("MON-HEALTH-001", "health"),
        waivers={"SEC-HDR-HSTS": waiver},
    )
    row = entry(matrix, "SEC-HDR-HSTS")
    assert row["verdict"] == "waived"
    assert row["waiver"] == {
        "reason": "TLS ends at the balancer",
        "owner": "platform",
        "expires": "2099-01-01",
        "checks_verdict": "skipped",
    }
    summary = render_summary(matrix, Path("reports"))
    line = next(line for line in summary.splitlines() if line.startswith("  SEC-HDR-HSTS "))
    assert line.split()[1] == "waived"
    assert line.endswith(
        "TLS ends at the balancer (owner platform, expires 2099-01-01; its checks: skipped)"
    )


def test_summary_groups_what_was_not_proven_by_cause_with_the_command() -> None:
    control = "needs stack control (stopping and starting services); the url target offers: http"
    matrix = build(
        check("MON-HEALTH-001", "a", "skipped", why=control),
        check("MON-HEALTH-002", "b", "skipped", why=control),
        check("SEC-HDR-HSTS", "c", "skipped", why="the target has no HTTPS endpoint"),
    )
    summary = render_summary(matrix, Path("reports"))
    assert "  needs stack control: 2 -> --stack containers" in summary
    assert "  MON-HEALTH-001  skipped  needs stack control (stopping" in summary
    assert "  no HTTPS endpoint: 1 -> an https:// --target-url" in summary
    assert "  uncovered (no check yet): " in summary
    assert summary.endswith("verdict: INCOMPLETE")


def _waivers_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "waivers.toml"
    path.write_text(body)
    return path


VALID = """
[[waiver]]
id = "SEC-HDR-HSTS"
reason = "TLS ends at the load balancer"
owner = "platform-team"
expires = 2027-03-01
"""


def test_valid_waivers_are_loaded(tmp_path: Path) -> None:
    waivers = load_waivers(_waivers_file(tmp_path, VALID), CATALOGUE, today=date(2027, 3, 1))
    assert waivers["SEC-HDR-HSTS"].owner == "platform-team"
    assert waivers["SEC-HDR-HSTS"].expires == date(2027, 3, 1)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (VALID, "waiver 1 (SEC-HDR-HSTS): the waiver expired on 2027-03-01"),
        (VALID.replace("SEC-HDR-HSTS", "SEC-HDR-NOPE"), "unknown requirement id 'SEC-HDR-NOPE'"),
        (VALID.replace('owner = "platform-team"\n', ""), "waiver 1 (SEC-HDR-HSTS): missing owner"),
        (VALID.replace("2027-03-01", '"soon"'), "expires 'soon' is not a date"),
        ("[[waiver]\n", "invalid TOML"),
        ("[waivers]\n", "unknown key(s) waivers"),
        (
            VALID.replace("2027", "2028") * 2,
            "waiver 2 (SEC-HDR-HSTS): SEC-HDR-HSTS is waived twice",
        ),
    ],
)
def test_bad_waivers_are_one_line_naming_file_and_entry(
    tmp_path: Path, body: str, message: str
) -> None:
    path = _waivers_file(tmp_path, body)
    with pytest.raises(ConfigError) as caught:
        load_waivers(path, CATALOGUE, today=date(2027, 3, 2))
    text = str(caught.value)
    assert message in text
    assert text.startswith(str(path))
    assert "\n" not in text


@pytest.mark.parametrize("where", ["harness.toml", "env", "cli"])
def test_waivers_are_a_setting_like_the_others(tmp_path: Path, where: str) -> None:
    _waivers_file(tmp_path, VALID.replace("2027", "2999"))
    cli = {"waivers": "waivers.toml"} if where == "cli" else {}
    env = {"HARNESS_WAIVERS": "waivers.toml"} if where == "env" else {}
    if where == "harness.toml":
        (tmp_path / "harness.toml").write_text('waivers = "waivers.toml"\n')
    config = load_config(cli=cli, env=env, project_dir=tmp_path)
    assert list(config.waivers) == ["SEC-HDR-HSTS"]
    assert config.sources["waivers"] in {"harness.toml", "environment", "command line"}
