"""``harness`` as a user runs it: one-line errors, the gate's summary, exit codes."""

from __future__ import annotations

import json
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.report.summary import crowded
from tests.conftest import LIGHT_LOAD, REPO, clean_env, harness, served_app


def _one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line, got:\n{stderr}"
    assert "Traceback" not in stderr
    return lines[0]


def test_unreachable_target_fails_fast_with_one_line(tmp_path: Path) -> None:
    started = time.monotonic()
    result = harness("gate", "--target-url", "http://127.0.0.1:1", cwd=tmp_path)
    elapsed = time.monotonic() - started
    assert result.returncode == 2
    line = _one_line(result.stderr)
    assert line.startswith("harness: error: target http://127.0.0.1:1 is unreachable")
    assert elapsed < 5, f"took {elapsed:.1f} s"


def test_malformed_harness_toml_names_file_and_problem(tmp_path: Path) -> None:
    (tmp_path / "harness.toml").write_text("[params\nhealth_path = '/x'\n")
    result = harness("gate", cwd=tmp_path)
    assert result.returncode == 2
    line = _one_line(result.stderr)
    assert "harness.toml: invalid TOML" in line
    assert "line 1" in line


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--param", "nope=1"], "unknown parameter 'nope'"),
        (["--param", "health_max_clock_skew_s=soon"], "not a valid float"),
        (["--param", "api_probe_path=items"], "--param api_probe_path=/api/v1/formulas"),
        (["--mutant", "no-such-mutant"], "unknown mutant 'no-such-mutant'"),
        (["--target-url", "localhost:8000"], "is not an absolute http(s) URL"),
        (["--stack", "mainframe"], "Invalid value for '--stack'"),
        (["--bogus"], "No such option '--bogus'"),
        # refused before xdist starts its workers, where it would be an INTERNALERROR
        (["-n", "2", "--requirement", "NOPE-1"], "--requirement: unknown id(s) NOPE-1"),
    ],
)
def test_bad_options_are_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    result = harness("gate", *args, cwd=tmp_path)
    assert result.returncode == 2
    assert message in _one_line(result.stderr)


# what pytest prints for a failed check, which belongs in pytest.log and not on the console
DUMPS = ("Traceback", "RawResponse(", "\nE   ", "warnings summary", "Module already imported")
# the console's budget: one line per requirement whose checks ran, and at most this many more
# (the target line, what discovery found, window waits, counts, causes, applied parameters,
# report paths, the verdict)
BUDGET_EXTRA = 45


def assert_readable(result: subprocess.CompletedProcess[str], out: Path) -> None:
    """The console of a gate run: no pytest dumps, one line per requirement that ran, within
    its line budget; pytest's own output is in out/pytest.log."""
    console = result.stdout + result.stderr
    for dump in DUMPS:
        assert dump not in console, f"{dump!r} on the console:\n{console}"
    matrix = json.loads((out / "matrix.json").read_text())
    listed = ("not_applicable", "deselected", "uncovered")
    ran = [
        e["id"]
        for e in matrix["requirements"]
        if e["verdict"] not in listed
        # an unanswered attestation ran nothing: counted under its cause, not listed
        and not (e["kind"] == "attestation" and e["verdict"] == "skipped")
        # nor are the skips of a cause shared by many (no --project-root: 26 of them)
        and e["id"] not in crowded(matrix["requirements"])
    ]
    # a requirement's line is indented by two; wrapped id lists under it by six
    rows = [line.split()[0] for line in result.stdout.splitlines() if re.match(r"  \S", line)]
    assert sorted(rid for rid in rows if rid in ran) == sorted(ran)  # each once
    lines = console.splitlines()
    assert len(lines) <= len(ran) + BUDGET_EXTRA, f"{len(lines)} lines:\n{console}"
    assert f"pytest's output (tracebacks, assertion details): {out / 'pytest.log'}" in console
    assert "test session starts" in (out / "pytest.log").read_text()


def test_gate_console_is_one_line_per_requirement_and_the_dumps_go_to_the_log(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    ids = ("SEC-VAL-SIZE-CHUNKED", "SEC-VAL-SIZE-LIMIT", "MON-HEALTH-001")
    selection = [f"--requirement={rid}" for rid in ids]
    mutant = "validation-size-needs-content-length"
    result = harness("gate", "--mutant", mutant, *selection, f"--report-dir={out}", cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert_readable(result, out)
    first = next(line.strip() for line in result.stdout.splitlines() if line.startswith("  SEC-"))
    assert first.split()[:2] == ["SEC-VAL-SIZE-CHUNKED", "FAILED"]  # failures first
    assert "a chunked body of 10485761 bytes (no Content-Length) was answered" in first
    assert len(first) < 150  # cut at a word; the whole message is in matrix.md
    assert first.endswith(" ...")
    assert (
        len(result.stdout.splitlines()) <= 25
    )  # 3 requirement lines, the discovery block, counts, paths, verdict
    log = (out / "pytest.log").read_text()
    assert "RawResponse(" in log  # the assertion's details, kept where they can be read
    verbose = harness("gate", "-v", "--mutant", mutant, *selection, cwd=tmp_path)
    assert verbose.returncode == 1
    assert "\nE   " in verbose.stdout  # -v: pytest's own output is back on the console


def test_gate_on_embedded_app_is_incomplete_and_says_why(tmp_path: Path) -> None:
    """What `make gate` runs: nothing fails, but uncovered requirements and quick load runs
    are not proven; --allow-incomplete exits 0 and the summary says how to prove them."""
    out = tmp_path / "out"
    result = harness(
        "gate", "--allow-incomplete", "--report-dir", str(out), *LIGHT_LOAD, cwd=tmp_path
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "verdict: INCOMPLETE" in result.stdout
    assert "  uncovered (no check yet): " in result.stdout
    assert "  scaled load scenarios (quick profile): " in result.stdout
    assert "-> --load-profile full" in result.stdout
    matrix = json.loads((out / "matrix.json").read_text())
    assert matrix["headline"] == "INCOMPLETE"
    assert matrix["summary"]["failed"] == matrix["summary"]["error"] == 0
    assert matrix["summary"]["passed"] >= 5
    endurance = next(e for e in matrix["requirements"] if e["id"] == "LOAD-SCENARIO-ENDURANCE")
    assert endurance["verdict"] == "scaled"
    assert endurance["scaled"]["share"] == "12 s of 60 min"
    # the embedded app's 10 s rate-limit window, applied instead of the declared 60 s
    window = next(e for e in matrix["requirements"] if e["id"] == "SEC-RL-WINDOW-RESET")
    assert (window["params"]["rate_limit_period_s"], window["applied"]["rate_limit_period_s"]) == (
        60,
        10,
    )
    assert (tmp_path / "out" / "matrix.md").is_file()
    assert_readable(result, out)


def test_gate_fails_on_a_mutant_and_names_the_requirement(tmp_path: Path) -> None:
    result = harness(
        "gate",
        "--mutant",
        "health-bad-version",
        "--report-dir",
        str(tmp_path / "out"),
        cwd=tmp_path,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    failed = [line.split() for line in result.stdout.splitlines() if " FAILED " in line]
    assert ["MON-HEALTH-004", "FAILED"] in [row[:2] for row in failed]
    assert "verdict: FAIL" in result.stdout


def test_gate_runs_only_the_named_requirement(tmp_path: Path) -> None:
    result = harness(
        "gate",
        "--requirement",
        "MON-HEALTH-004",
        "--report-dir",
        str(tmp_path / "out"),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    matrix = json.loads((tmp_path / "out" / "matrix.json").read_text())
    ran = [e["id"] for e in matrix["requirements"] if e["checks"]]
    assert ran == ["MON-HEALTH-004"]


def test_requirements_and_params_listings(tmp_path: Path) -> None:
    listed = harness("requirements", "--format", "json", cwd=tmp_path)
    assert listed.returncode == 0
    rows = json.loads(listed.stdout)
    assert any(row["id"] == "MON-HEALTH-001" for row in rows)
    params = harness("params", cwd=tmp_path)
    assert "health_max_clock_skew_s" in params.stdout


def test_suites_run_against_a_separately_started_app(tmp_path: Path) -> None:
    """`pytest suites --target-url URL` against `python -m reference_app serve`."""
    # production, as a user's staging would run it, with a short rate-limit window so that the
    # window checks do not wait a minute each; the harness is told the window by parameters
    env = clean_env() | {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'formulas.db'}",
        "ENVIRONMENT": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "SECURITY_RATE_LIMIT_PERIOD": "10",
        "SECURITY_ENDPOINT_LIMITS": "/api/v1/auth/login=5/10",
        # the load generator's address, as a deployment exempts its load tests; the checks
        # send from 127.0.0.10 and up and stay limited
        "SECURITY_RATE_LIMIT_EXEMPT": "127.0.0.1",
    }
    with served_app(tmp_path, env) as url:
        # a plain account for the load test's authenticated calls, given as a user would
        password = secrets.token_urlsafe(16) + "-Aa1"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "reference_app",
                "create-user",
                "--username=loader",
                "--password-stdin",
            ],
            input=password + "\n",
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        load_account = {"HARNESS_LOAD_USERNAME": "loader", "HARNESS_LOAD_PASSWORD": password}
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                str(REPO / "suites"),
                "-p",
                "no:cacheprovider",
                "--target-url",
                url,
                f"--report-dir={tmp_path / 'r'}",
                "--param=rate_limit_period_s=10",
                "--param=login_rate_limit_period_s=10",
                "--param=load_generator_exempt=true",
                *LIGHT_LOAD,
            ],
            cwd=tmp_path,
            env=clean_env() | load_account,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    matrix = json.loads((tmp_path / "r" / "matrix.json").read_text())
    entries = {e["id"]: e for e in matrix["requirements"]}
    # production on plain HTTP with no TLS on its host: the HTTPS claims fail; and with no
    # Redis beside it nothing caches the formula reads: the cache claims fail; nothing else
    failed = {rid for rid, e in entries.items() if e["verdict"] in {"failed", "error"}}
    https = {"SEC-HDR-HSTS", "CFG-HTTPS-REDIRECT", "CFG-HTTPS-TLS"}
    assert failed == https | {"MON-METRIC-CACHE", "OPS-REDIS-CACHE"}, result.stdout
    assert result.returncode == 1, result.stdout + result.stderr
    assert entries["MON-HEALTH-001"]["verdict"] == "passed"
    assert entries["LOAD-MIX"]["verdict"] == "passed"  # with the account given by env
    assert entries["MON-HEALTH-005"]["verdict"] == "skipped"  # no stack control over a URL
    assert matrix["targets"][0]["kind"] == "url"
