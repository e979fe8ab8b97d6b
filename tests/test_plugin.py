"""The pytest plugin as a user meets it: marker, options, skips and the matrix (pytester)."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from harness.spec import load_catalogue
from tests.conftest import MATRIX_SCHEMA

# requirements only an attestation answers: none given here, so each is skipped
UNATTESTED = sum(req.kind == "attestation" for req in load_catalogue())

SUITE = """
import pytest

@pytest.mark.requirement("MON-HEALTH-001")
def test_passes():
    pass

@pytest.mark.requirement("MON-HEALTH-002")
def test_fails(evidence):
    evidence.note("seen", {"status": "wrong"})
    assert 1 == 2, "format is wrong"

@pytest.mark.requirement("MON-HEALTH-003")
def test_skips():
    pytest.skip("needs stack control")

@pytest.mark.requirement("MON-HEALTH-004", "MON-HEALTH-001")
def test_two_requirements():
    pass

@pytest.fixture
def broken():
    raise RuntimeError("fixture exploded")

@pytest.mark.requirement("MON-HEALTH-006")
def test_setup_error(broken):
    pass

@pytest.mark.requirement("MON-HEALTH-007")
def test_partial_passes():
    pass

@pytest.mark.requirement("MON-HEALTH-007")
def test_partial_skips():
    pytest.skip("needs stack control (stopping and starting services)")

@pytest.mark.requirement("SEC-HDR-XFO")
def test_crashes():
    {}["id"]

@pytest.mark.requirement("SEC-HDR-XXSS")
def test_unexpected_answer():
    from harness.errors import UnexpectedAnswer

    raise UnexpectedAnswer("GET /health", "a JSON object with 'status'", "text/html (200)")

@pytest.mark.requirement("SEC-HDR-XXSS")
def test_passes_beside_an_error():
    pass

@pytest.mark.requirement("CFG-HTTPS-TLS")
def test_production_only():
    pass
"""
# SUITE's tests as pytest counts them: a crash and an unexpected answer are failed tests
OUTCOMES = {"passed": 5, "failed": 3, "skipped": 2, "errors": 1}


def _matrix(pytester: pytest.Pytester) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((pytester.path / "reports" / "matrix.json").read_text())
    return data


def _verdicts(matrix: dict[str, Any]) -> dict[str, str]:
    return {entry["id"]: entry["verdict"] for entry in matrix["requirements"]}


def test_matrix_verdicts_and_evidence(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_suite=SUITE)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(**OUTCOMES)
    result.stdout.fnmatch_lines(
        [
            "*compliance matrix: FAIL*",
            f"3 passed, 1 partial, 1 failed, 3 error, {1 + UNATTESTED} skipped, "
            "* uncovered requirements; "
            "written to *",
        ]
    )
    matrix = _matrix(pytester)
    assert matrix["headline"] == "FAIL"
    verdicts = _verdicts(matrix)
    assert verdicts["MON-HEALTH-001"] == "passed"
    assert verdicts["MON-HEALTH-002"] == "failed"
    assert verdicts["MON-HEALTH-003"] == "skipped"
    assert verdicts["MON-HEALTH-006"] == "error"  # an erroring fixture is no pass, nor a fail
    assert verdicts["MON-HEALTH-005"] == "uncovered"
    assert verdicts["MON-HEALTH-007"] == "partial"  # one check passed, one skipped
    assert verdicts["SEC-HDR-XFO"] == "error"  # a crash is not the check's verdict
    assert verdicts["SEC-HDR-XXSS"] == "error"  # nor is an answer it cannot judge
    entries = {e["id"]: e for e in matrix["requirements"]}
    assert entries["MON-HEALTH-006"]["checks"][0]["message"] == (
        "fixture error in setup: RuntimeError: fixture exploded"
    )
    assert entries["SEC-HDR-XFO"]["checks"][0]["message"] == "crashed: KeyError: 'id'"
    unexpected = next(c for c in entries["SEC-HDR-XXSS"]["checks"] if c["outcome"] == "error")
    assert unexpected["message"] == (
        "GET /health: expected a JSON object with 'status', got text/html (200)"
    )
    assert entries["MON-HEALTH-007"]["skip_reasons"][0].startswith("needs stack control")
    assert entries["MON-HEALTH-003"]["skip_reasons"] == ["needs stack control"]
    assert entries["MON-HEALTH-002"]["checks"][0]["message"].startswith("AssertionError: format")
    assert entries["MON-HEALTH-002"]["evidence"][0]["value"] == {"status": "wrong"}
    assert entries["MON-HEALTH-006"]["checks"][0]["outcome"] == "error"
    assert len(entries["MON-HEALTH-001"]["checks"]) == 2
    assert matrix["summary"]["total"] == len(matrix["requirements"])
    assert (pytester.path / "reports" / "matrix.md").read_text().startswith("# Compliance matrix")
    jsonschema.validate(matrix, json.loads(MATRIX_SCHEMA.read_text()))


def test_one_matrix_under_xdist(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_suite=SUITE)
    result = pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider")
    result.assert_outcomes(**OUTCOMES)
    matrix = _matrix(pytester)
    verdicts = _verdicts(matrix)
    assert verdicts["MON-HEALTH-001"] == "passed"
    assert verdicts["MON-HEALTH-002"] == "failed"
    assert verdicts["MON-HEALTH-003"] == "skipped"
    assert verdicts["MON-HEALTH-007"] == "partial"
    assert verdicts["SEC-HDR-XXSS"] == "error"  # classified in the worker, judged here
    jsonschema.validate(matrix, json.loads(MATRIX_SCHEMA.read_text()))
    assert (
        len(next(e for e in matrix["requirements"] if e["id"] == "MON-HEALTH-001")["checks"]) == 2
    )


def test_unknown_requirement_id_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.requirement("SEC-HDR-999999")
        def test_x():
            pass
        """
    )
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unknown requirement id 'SEC-HDR-999999'*"])


def test_profile_not_applicable_is_its_own_verdict(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(SUITE)
    result = pytester.runpytest("--profile", "development", "-p", "no:cacheprovider")
    # the production-only check is skipped without running
    result.assert_outcomes(**{**OUTCOMES, "passed": 4, "skipped": 3})
    matrix = _matrix(pytester)
    assert matrix["profile"] == "development"
    assert _verdicts(matrix)["CFG-HTTPS-TLS"] == "not_applicable"
    not_applicable = [e for e in matrix["requirements"] if not e["applicable"]]
    assert len(not_applicable) == matrix["summary"]["not_applicable"] > 0
    for entry in not_applicable:
        assert entry["verdict"] == "not_applicable"
        assert entry["skip_reasons"] == ["not applicable to profile development"]
    jsonschema.validate(matrix, json.loads(MATRIX_SCHEMA.read_text()))


def test_requirement_option_selects_checks(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_suite=SUITE)
    result = pytester.runpytest("--requirement", "MON-HEALTH-001", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    matrix = _matrix(pytester)
    # the headline speaks of what was selected: the rest is deselected, not uncovered
    assert matrix["headline"] == "PASS"
    assert _verdicts(matrix)["MON-HEALTH-002"] == "deselected"
    assert matrix["summary"]["deselected"] == matrix["summary"]["total"] - 1
    result = pytester.runpytest("--requirement", "NOPE-1")
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def test_unreachable_target_is_one_line(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_suite=SUITE)
    result = pytester.runpytest_subprocess("--target-url", "http://127.0.0.1:1")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.stderr.lines if line.strip()]
    assert errors == [
        "ERROR: target http://127.0.0.1:1 is unreachable: connection refused; "
        "check --target-url and that the service is running"
    ]


def test_malformed_harness_toml_is_one_line(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_suite=SUITE)
    pytester.path.joinpath("harness.toml").write_text("profile = = 'x'\n")
    result = pytester.runpytest_subprocess()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.stderr.lines if line.strip()]
    assert len(errors) == 1
    assert "harness.toml: invalid TOML" in errors[0]


def test_no_matrix_without_compliance_checks(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_plain():\n    pass\n")
    pytester.runpytest().assert_outcomes(passed=1)
    assert not (pytester.path / "reports").exists()


def test_capability_skip_reason_lands_in_matrix(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        from harness.targets import UrlTarget

        @pytest.mark.requirement("MON-HEALTH-005")
        def test_needs_control():
            UrlTarget("http://127.0.0.1:9").require("control")
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(skipped=1)
    entry = next(e for e in _matrix(pytester)["requirements"] if e["id"] == "MON-HEALTH-005")
    assert entry["verdict"] == "skipped"
    assert entry["skip_reasons"][0].startswith("needs stack control")


APPLIED = """
import pytest

class Target:
    facts = {"rate_limit_period_s": 10}

@pytest.fixture(scope="session")
def target():
    return Target()

@pytest.mark.requirement("SEC-RL-WINDOW-RESET")
def test_window(params, target):
    assert params.get("rate_limit_calls") == 100
    assert params["rate_limit_period_s"] in (10, 30)

@pytest.mark.requirement("CFG-CHECK-RATE-LIMIT")
def test_no_target(params):
    assert params["rate_limit_period_s"] in (60, 30)  # no target talked to: no facts
"""


def test_rows_record_the_parameters_applied(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_applied=APPLIED)
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)
    matrix = _matrix(pytester)
    row = next(e for e in matrix["requirements"] if e["id"] == "SEC-RL-WINDOW-RESET")
    assert row["params"]["rate_limit_period_s"] == 60  # declared
    assert row["applied"] == {"rate_limit_calls": 100, "rate_limit_period_s": 10}
    assert (
        "rate_limit_period_s 60 declared, 10 applied"
        in (pytester.path / "reports" / "matrix.md").read_text()
    )
    jsonschema.validate(matrix, json.loads(MATRIX_SCHEMA.read_text()))
    # a value the user set wins over the target's facts
    pytester.runpytest("-p", "no:cacheprovider", "--param", "rate_limit_period_s=30")
    row = next(e for e in _matrix(pytester)["requirements"] if e["id"] == "SEC-RL-WINDOW-RESET")
    assert row["params"]["rate_limit_period_s"] == row["applied"]["rate_limit_period_s"] == 30


def test_waivers_are_checked_before_any_check_runs(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_suite=SUITE)
    pytester.path.joinpath("waivers.toml").write_text(
        '[[waiver]]\nid = "MON-HEALTH-002"\nreason = "known"\nowner = "ops"\nexpires = 2001-01-01\n'
    )
    result = pytester.runpytest_subprocess("--waivers", "waivers.toml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.stderr.lines if line.strip()]
    assert len(errors) == 1
    assert "waivers.toml: waiver 1 (MON-HEALTH-002): the waiver expired on 2001-01-01" in errors[0]
    assert not (pytester.path / "reports").exists()
    pytester.path.joinpath("waivers.toml").write_text(
        '[[waiver]]\nid = "MON-HEALTH-002"\nreason = "known"\nowner = "ops"\nexpires = 2999-01-01\n'
    )
    pytester.runpytest("-p", "no:cacheprovider", "--waivers", "waivers.toml")
    row = next(e for e in _matrix(pytester)["requirements"] if e["id"] == "MON-HEALTH-002")
    assert row["verdict"] == "waived"
    assert row["waiver"]["checks_verdict"] == "failed"
