"""The load machinery without load: scenarios and shapes, exact statistics, the gate, reports."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from harness.config import load_config
from harness.errors import ConfigError
from harness.load.gate import TARGETS, exemption, judge, saturation, saturation_failure
from harness.load.hdr import Recording, outcome_of, percentile_ms
from harness.load.report import write_reports
from harness.load.results import LoadResult
from harness.load.scenarios import SCENARIOS, Scenario, scenario_from_params
from harness.report.evidence import Evidence
from harness.spec import load_catalogue

PARAMS: dict[str, Any] = dict(load_config(env={}).params)


# --- scenarios --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "users", "duration"),
    [
        ("smoke", 10, 120),
        ("baseline", 50, 600),
        ("stress", 200, 900),
        ("spike", 500, 300),
        ("endurance", 100, 3600),
    ],
)
def test_full_profile_has_the_spec_users_and_durations(
    name: str, users: int, duration: int
) -> None:
    scenario = scenario_from_params(name, PARAMS, "full")
    assert (scenario.users, scenario.duration_s) == (users, duration)
    assert scenario.planned_rps == users * PARAMS["load_user_rps"]


@pytest.mark.parametrize("name", SCENARIOS)
def test_quick_profile_keeps_the_shape_in_seconds(name: str) -> None:
    full = scenario_from_params(name, PARAMS, "full")
    quick = scenario_from_params(name, PARAMS, "quick")
    assert quick.duration_s == PARAMS["load_quick_duration_s"]
    assert quick.users == full.users
    # the ramp (or the spike's lead) takes the same share of the run
    assert quick.ramp_s / quick.duration_s == pytest.approx(full.ramp_s / full.duration_s)


def test_spike_is_a_jump_and_baseline_a_ramp() -> None:
    spike = scenario_from_params("spike", PARAMS, "full")
    assert spike.users_at(spike.lead_s - 1) == (PARAMS["smoke_users"], PARAMS["smoke_users"])
    users, rate = spike.users_at(spike.lead_s + 0.1)
    assert users == rate == 500  # every user within one second, not at the spawn rate
    baseline = scenario_from_params("baseline", PARAMS, "full")
    assert baseline.users_at(1) == (50, PARAMS["spawn_rate"])
    assert baseline.planned_users_at(2) == 2 * PARAMS["spawn_rate"]
    assert baseline.planned_users_at(60) == 50


def test_unknown_scenario_and_profile_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown scenario 'soak'"):
        scenario_from_params("soak", PARAMS)
    with pytest.raises(ValueError, match="unknown load profile"):
        scenario_from_params("smoke", PARAMS, "medium")


def test_scenario_round_trips_through_json() -> None:
    scenario = scenario_from_params("spike", PARAMS, "quick")
    assert Scenario.from_json(scenario.to_json()) == scenario


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"load_profile": "medium"}, "load profile 'medium' is not quick or full"),
        ({"load_workers": "two"}, "load workers 'two' is not a whole number"),
        ({"load_workers": -1}, "between 0 and 64"),
    ],
)
def test_bad_load_settings_are_one_line_errors(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(cli=settings, env={})


# --- exact statistics -------------------------------------------------------------------------
class _Response:
    def __init__(self, status: int) -> None:
        self.status_code = status


class ConnectionTimeout(Exception):
    pass


@pytest.mark.parametrize(
    ("status", "exception", "outcome"),
    [
        (200, None, None),
        (429, RuntimeError("429"), "429"),
        (503, RuntimeError("503"), "5xx"),
        (404, RuntimeError("404"), "status"),
        (0, ConnectionRefusedError(), "connection"),
        (0, ConnectionTimeout(), "timeout"),
    ],
)
def test_failures_are_classified(status: int, exception: Any, outcome: str | None) -> None:
    assert outcome_of(_Response(status), exception) == outcome


def test_correction_adds_the_requests_a_stall_held_back() -> None:
    recording = Recording()
    for _ in range(98):
        recording.record(10.0, interval_us=100_000, outcome=None)
    recording.record(1000.0, interval_us=100_000, outcome=None)  # a 1 s stall
    assert recording.raw is not None
    assert recording.raw.get_total_count() == 99
    # the stall hid nine requests planned every 100 ms: 900, 800, ... 100 ms late
    assert recording.corrected.get_total_count() == 108
    assert percentile_ms(recording.raw, 95) == pytest.approx(10.0, rel=0.01)
    assert percentile_ms(recording.corrected, 95) > 400


def test_recordings_merge_exactly_across_processes() -> None:
    one, two, both = Recording(), Recording(), Recording()
    for i in range(1, 500):
        (one if i % 2 else two).record(float(i), 0, "5xx" if i % 100 == 0 else None)
        both.record(float(i), 0, "5xx" if i % 100 == 0 else None)
    merged = Recording()
    merged.add_dict(json.loads(json.dumps(one.to_dict())))
    merged.add_dict(json.loads(json.dumps(two.to_dict())))
    assert merged.count == both.count == 499
    assert merged.failures == both.failures == {"5xx": 4}
    for p in (50.0, 95.0, 99.0):
        assert percentile_ms(merged.raw, p) == percentile_ms(both.raw, p)


def _result(
    times_ms: list[float],
    *,
    failures: dict[str, int] | None = None,
    users: int = 50,
    cpu_warning: bool = False,
    duration_s: float = 12.0,
    user_rps: float = 3.0,
) -> LoadResult:
    scenario = Scenario("baseline", users, 12.0, 1000.0, user_rps=user_rps, profile="quick")
    recording = Recording()
    for value in times_ms:
        recording.record(value, round(1e6 / user_rps), None)
    recording.failures = dict(failures or {})
    start = 1_000_000.0
    windows = {}
    per_window = len(times_ms) // int(duration_s)
    for second in range(int(duration_s)):
        slot = Recording()
        slot.count = per_window
        windows[str(int(start) + second)] = slot.to_dict()
    data = {
        "scenario": json.loads(scenario.to_json()),
        "started_at": start,
        "ended_at": start + duration_s,
        "full_load_at": start,
        "max_users": users,
        "interval_us": round(1e6 / user_rps),
        "window_s": 1.0,
        "workers": 0,
        "cpu_warning": cpu_warning,
        "locust": {"requests": len(times_ms), "p50_ms": 1, "p95_ms": 1, "p99_ms": 1},
        "endpoints": {"GET /x": recording.to_dict()},
        "windows": windows,
        "samples": [],
    }
    return LoadResult.from_data(data, scenario)


NO_EXEMPTION = exemption("http://127.0.0.1:9", {"rate_limit_exempt": []}, declared=False)
EXEMPT = exemption("http://127.0.0.1:9", {"rate_limit_exempt": ["127.0.0.0/8"]}, declared=False)


def test_targets_report_value_threshold_and_margin() -> None:
    result = _result([50.0] * 1700 + [300.0] * 100)  # 150 req/s, P95 around 300 ms
    p95 = judge("LOAD-P95", result, PARAMS, NO_EXEMPTION)
    assert p95.passed
    assert p95.measured == pytest.approx(300, rel=0.01)
    assert p95.margin == pytest.approx(500 - p95.measured)
    assert "as measured" in p95.detail
    tight = judge("LOAD-P95", result, {**PARAMS, "p95_ms": 250}, NO_EXEMPTION)
    assert not tight.passed
    assert tight.margin < 0
    throughput = judge("LOAD-THROUGHPUT", result, PARAMS, NO_EXEMPTION)
    assert throughput.passed
    assert throughput.measured == pytest.approx(150)


def test_429_count_as_errors_unless_the_generator_is_exempt() -> None:
    result = _result([20.0] * 1800, failures={"429": 90})
    strict = judge("LOAD-ERROR-RATE", result, PARAMS, NO_EXEMPTION)
    assert not strict.passed
    assert "count as errors" in strict.detail
    exempt = judge("LOAD-ERROR-RATE", result, PARAMS, EXEMPT)
    assert exempt.passed
    assert "do not count as errors" in exempt.detail


def test_exemption_is_read_from_the_target_else_declared() -> None:
    assert EXEMPT.exempt
    assert not NO_EXEMPTION.exempt
    assert exemption("http://127.0.0.1:9", {}, declared=True).exempt
    assert not exemption("http://127.0.0.1:9", {}, declared=False).exempt


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"cpu_warning": True}, "CPU warning"),
        ({"users": 70}, "only 50 of 70 users ran"),
        ({"duration_s": 6.0}, "the run lasted 6.0 s of 12 s"),
    ],
)
def test_an_invalid_run_fails_every_target(changes: dict[str, Any], reason: str) -> None:
    users = changes.pop("users", 50)
    result = _result([10.0] * 1800, **changes)
    if users != 50:
        result = LoadResult.from_data(
            result.data, Scenario("baseline", users, 12.0, 1000.0, profile="quick")
        )
    assert any(reason in r for r in result.invalid_reasons())
    for rid in TARGETS:
        verdict = judge(rid, result, PARAMS, EXEMPT)
        assert not verdict.passed
        assert verdict.detail.startswith("invalid run, not judged")


def test_throughput_is_not_applicable_where_the_plan_is_below_it() -> None:
    result = _result([10.0] * 360, users=10)
    verdict = judge("LOAD-THROUGHPUT", result, PARAMS, EXEMPT)
    assert not verdict.applicable
    assert "not applicable" in verdict.detail


def test_quick_runs_are_scaled_and_say_how_much_ran() -> None:
    quick = scenario_from_params("endurance", PARAMS, "quick")
    full = scenario_from_params("endurance", PARAMS, "full")
    assert quick.scaled
    assert not full.scaled
    assert quick.spec_duration_s == full.duration_s == 3600
    evidence = Evidence()
    evidence.scaled(quick.duration_s, quick.spec_duration_s)
    assert evidence.scale is not None
    assert evidence.scale["share"] == "12 s of 60 min"


def _endurance(result: LoadResult) -> LoadResult:
    """``result`` as a quick endurance run: 100 users planning 300 req/s."""
    scenario = Scenario("endurance", 100, 12.0, 1000.0, profile="quick", spec_duration_s=3600)
    return LoadResult.from_data({**result.data, "max_users": 100}, scenario)


def test_a_saturated_endurance_run_is_not_passed() -> None:
    saturated = _endurance(_result([20.0] * 2568))  # 214 of 300 planned req/s
    assert not saturated.invalid_reasons()
    failure = saturation_failure(saturated)
    assert failure is not None
    assert "achieved 214.0 req/s of 300.0 planned (71%, below 90%)" in failure
    kept = _endurance(_result([20.0] * 3456))  # 288 req/s: 96 % of the plan
    assert saturation(kept) is None
    assert saturation_failure(kept) is None


@pytest.mark.parametrize("name", ["stress", "spike"])
def test_saturation_is_data_where_the_scenario_probes_it(name: str) -> None:
    result = _endurance(_result([20.0] * 2568))
    probing = LoadResult.from_data(result.data, replace(result.scenario, name=name))
    assert saturation(probing) is not None
    assert saturation_failure(probing) is None
    assert load_catalogue()[f"LOAD-SCENARIO-{name.upper()}"].probes_saturation


def test_reports_are_json_markdown_and_png(tmp_path: Path) -> None:
    result = _result([40.0] * 1800)
    verdicts = [judge(rid, result, PARAMS, EXEMPT) for rid in TARGETS]
    paths = write_reports(result, verdicts, EXEMPT, tmp_path)
    summary = json.loads(paths["summary"].read_text())
    assert summary["valid"]
    assert summary["rate_limit"]["generator_exempt"]
    assert [t["requirement"] for t in summary["targets"]] == list(TARGETS)
    assert summary["endpoints"][0]["endpoint"] == "GET /x"
    assert "| `GET /x` | 1800 | 0 |" in paths["table"].read_text()
    assert paths["plot"].read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_gevent_never_enters_the_callers_process() -> None:
    code = (
        "import sys, harness.plugin, harness.cli, harness.load.execute, harness.load.command; "
        "import harness.load.runner, harness.load.report, harness.load.synthetic; "
        "bad = [m for m in ('gevent', 'locust') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(("profile", "selected"), [("quick", True), ("full", False)])
def test_full_durations_carry_the_nightly_marker(profile: str, selected: bool) -> None:
    suite = Path(__file__).resolve().parent.parent / "suites" / "test_performance.py"
    done = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", str(suite), "--collect-only", "-q"),
            *("-p", "no:cacheprovider", f"--load-profile={profile}", "-m", "not nightly"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ("test_performance_target" in done.stdout) is selected, done.stdout + done.stderr
