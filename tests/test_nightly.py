"""``harness nightly``: the gate with the load at the spec's durations (here an endurance run
of seconds, set by parameters), the history kept, the gate's exit code."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from harness.cli_nightly import after_lines, plan_lines
from harness.config import load_config
from tests.conftest import LIGHT_LOAD, MATRIX_SCHEMA, harness

TINY = ("--param=endurance_duration_s=4", "--param=endurance_users=2")
ENDURANCE = "LOAD-SCENARIO-ENDURANCE"


def _nightly(tmp_path: Path, *extra: str) -> tuple[int, str, str]:
    result = harness(
        "nightly",
        "--requirement=MON-HEALTH-004",
        *TINY,
        *LIGHT_LOAD,
        f"--report-dir={tmp_path / 'r'}",
        *extra,
        cwd=tmp_path,
    )
    return result.returncode, result.stdout, result.stderr


def test_nightly_runs_the_endurance_scenario_at_full_duration_and_keeps_history(
    tmp_path: Path,
) -> None:
    code, out, err = _nightly(tmp_path)
    assert code == 0, out + err
    assert "harness nightly: the load scenarios at the spec's durations" in err
    assert "endurance: 2 users for 4 s" in err
    matrix = json.loads((tmp_path / "r" / "matrix.json").read_text())
    jsonschema.validate(matrix, json.loads(MATRIX_SCHEMA.read_text()))
    endurance = next(e for e in matrix["requirements"] if e["id"] == ENDURANCE)
    # the full profile: a pass, not a scaled one, at the duration asked for
    assert endurance["verdict"] == "passed", endurance
    assert endurance["applied"]["endurance_duration_s"] == 4.0
    assert "scaled" not in endurance
    assert matrix["history"]["requirements"][ENDURANCE]["trend"] == "new"
    assert "endurance: passed" in out
    assert "history: the first recorded run of this target and profile" in out

    code, out, err = _nightly(tmp_path, "--mutant=health-bad-version")
    assert code == 1, out + err  # the gate's exit code: a failed requirement
    assert "verdict: FAIL" in out
    assert "history: 2 runs of this target and profile compared: 1 newly failing" in out
    assert "  newly failing MON-HEALTH-004  (passed > failed)" in out
    assert len(list((tmp_path / "r" / "history").glob("*.json"))) == 2


def test_nightly_errors_are_one_line(tmp_path: Path) -> None:
    for args, said in (
        (("--load-profile=quick",), "No such option '--load-profile'"),
        (("--param=endurance_users=many",), "'many' is not a valid int"),
        (("--mutant=no-such-mutant",), "no-such-mutant"),
    ):
        code, out, err = _nightly(tmp_path, *args)
        assert code == 2, out + err
        lines = [line for line in err.splitlines() if line.startswith("harness: error:")]
        assert len(lines) == 1, err
        assert said in lines[0]
        assert "Traceback" not in out + err
    assert not (tmp_path / "r" / "history").exists()


def test_plan_names_the_endurance_run_and_the_total(tmp_path: Path) -> None:
    config = load_config(cli={"report_dir": str(tmp_path / "r"), "params": {}})
    lines = plan_lines(config)
    # the spec's durations: 2 + 10 + 15 + 5 + 60 min
    assert lines[0] == (
        "the load scenarios at the spec's durations (about 92 min in all); "
        "endurance: 100 users for 60 min"
    )
    assert lines[1] == f"history kept in {tmp_path / 'r' / 'history'}"


def test_after_lines_without_a_readable_matrix_say_nothing(tmp_path: Path) -> None:
    assert after_lines(tmp_path / "missing.json") == []
    broken = tmp_path / "matrix.json"
    broken.write_text("{")
    assert after_lines(broken) == []
