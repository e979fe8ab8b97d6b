"""The pytest plugin as a user meets it: marker, options, skips and the matrix (pytester)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

MATRIX_SCHEMA = Path(__file__).resolve().parents[1] / "fixtures" / "schemas" / "matrix.schema.json"

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
"""


def _matrix(pytester: pytest.Pytester) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((pytester.path / "reports" / "matrix.json").read_text())
    return data


def _verdicts(matrix: dict[str, Any]) -> dict[str, str]:
    return {entry["id"]: entry["verdict"] for entry in matrix["requirements"]}


def test_matrix_verdicts_and_evidence(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_suite=SUITE)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1, skipped=1, errors=1)
    result.stdout.fnmatch_lines(
        ["2 passed, 2 failed, * skipped, * uncovered requirements; written to *"]
    )
    matrix = _matrix(pytester)
    verdicts = _verdicts(matrix)
    assert verdicts["MON-HEALTH-001"] == "passed"
    assert verdicts["MON-HEALTH-002"] == "failed"
    assert verdicts["MON-HEALTH-003"] == "skipped"
    assert verdicts["MON-HEALTH-006"] == "failed"  # an erroring fixture is no pass
    assert verdicts["MON-HEALTH-005"] == "uncovered"
    entries = {e["id"]: e for e in matrix["requirements"]}
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
    result.assert_outcomes(passed=2, failed=1, skipped=1, errors=1)
    matrix = _matrix(pytester)
    verdicts = _verdicts(matrix)
    assert verdicts["MON-HEALTH-001"] == "passed"
    assert verdicts["MON-HEALTH-002"] == "failed"
    assert verdicts["MON-HEALTH-003"] == "skipped"
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


def test_profile_not_applicable_is_skipped(pytester: pytest.Pytester, tmp_path: Path) -> None:
    pytester.makepyfile(SUITE)
    result = pytester.runpytest("--profile", "development", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1, skipped=1, errors=1)
    matrix = _matrix(pytester)
    assert matrix["profile"] == "development"
    not_applicable = [e for e in matrix["requirements"] if not e["applicable"]]
    for entry in not_applicable:
        assert entry["verdict"] == "skipped"
        assert entry["skip_reasons"] == ["not applicable to profile development"]


def test_requirement_option_selects_checks(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_suite=SUITE)
    result = pytester.runpytest("--requirement", "MON-HEALTH-001", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
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
