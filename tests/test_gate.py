"""The strict gate as a user meets it: a plain-HTTP production deployment with no HTTPS fails
the HTTPS claims, a waiver turns what it names into a pass, a bad waiver is one line before
anything runs."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest

from tests.conftest import MATRIX_SCHEMA, REPO, clean_env, harness, production_env, served_app

# what a production deployment on plain HTTP with no TLS on its host breaks
HTTPS_ONLY = ("SEC-HDR-HSTS", "CFG-HTTPS-REDIRECT", "CFG-HTTPS-TLS")
PLAIN_ONLY = "production target answers on plain HTTP and offers no HTTPS"
WAIVER = """
[[waiver]]
id = "{rid}"
reason = "TLS ends at the load balancer in front of {rid}"
owner = "platform-team"
expires = {expires}
"""


@pytest.fixture(scope="module")
def plain_http_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The reference app in production, plain HTTP only, as a user runs it."""
    workdir = tmp_path_factory.mktemp("plain-http")
    with served_app(workdir, production_env(workdir)) as url:
        yield url


def _gate(url: str, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    selection = [f"--requirement={rid}" for rid in HTTPS_ONLY]
    out = f"--report-dir={tmp_path / 'r'}"
    return harness("gate", "--target-url", url, *selection, out, *extra, cwd=tmp_path)


def _waivers(tmp_path: Path, ids: tuple[str, ...], expires: str = "2999-12-31") -> Path:
    path = tmp_path / "waivers.toml"
    path.write_text("".join(WAIVER.format(rid=rid, expires=expires) for rid in ids))
    return path


def _one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line, got:\n{stderr}"
    return lines[0]


def test_plain_http_production_target_without_https_fails(
    plain_http_app: str, tmp_path: Path
) -> None:
    result = _gate(plain_http_app, tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "verdict: FAIL" in result.stdout
    # the gate checks the URL itself (httpx imports anyio) before pytest starts: no warning
    # that pytest cannot rewrite anyio, neither on the console nor in the log
    log = (tmp_path / "r" / "pytest.log").read_text()
    for output in (result.stdout, result.stderr, log):
        assert "Module already imported" not in output
        assert "warnings summary" not in output
    matrix = json.loads((tmp_path / "r" / "matrix.json").read_text())
    jsonschema.validate(matrix, json.loads(MATRIX_SCHEMA.read_text()))
    judged = {e["id"]: e for e in matrix["requirements"] if e["checks"]}
    assert {rid: e["verdict"] for rid, e in judged.items()} == {rid: "failed" for rid in HTTPS_ONLY}
    for entry in judged.values():
        message = entry["checks"][0]["message"]
        assert PLAIN_ONLY in message, message
    assert matrix["discovery"]["https"] is False
    assert "HTTPS: not offered" in result.stdout
    allowed = _gate(plain_http_app, tmp_path, "--allow-incomplete")
    assert allowed.returncode == 1, allowed.stdout + allowed.stderr  # a failure is no gap


def test_a_valid_waiver_makes_it_pass_and_shows_the_reason(
    plain_http_app: str, tmp_path: Path
) -> None:
    waivers = _waivers(tmp_path, HTTPS_ONLY)
    result = _gate(plain_http_app, tmp_path, "--waivers", str(waivers))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "verdict: PASS" in result.stdout
    matrix = json.loads((tmp_path / "r" / "matrix.json").read_text())
    jsonschema.validate(matrix, json.loads(MATRIX_SCHEMA.read_text()))
    assert matrix["headline"] == "PASS"
    line = next(line for line in result.stdout.splitlines() if line.startswith("  SEC-HDR-HSTS"))
    assert line.split()[1] == "waived"
    assert line.endswith(
        "TLS ends at the load balancer in front of SEC-HDR-HSTS "
        "(owner platform-team, expires 2999-12-31; its checks: failed)"
    )


def test_waivers_from_the_environment_count_too(plain_http_app: str, tmp_path: Path) -> None:
    waivers = _waivers(tmp_path, HTTPS_ONLY[:2])  # CFG-HTTPS-TLS stays unproven
    selection = [f"--requirement={rid}" for rid in HTTPS_ONLY]
    result = subprocess.run(
        [sys.executable, "-m", "harness.cli", "gate", "--target-url", plain_http_app, *selection],
        cwd=tmp_path,
        env=clean_env() | {"HARNESS_WAIVERS": str(waivers)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    matrix = json.loads((tmp_path / "reports" / "matrix.json").read_text())
    verdicts = {e["id"]: e["verdict"] for e in matrix["requirements"] if e["checks"]}
    assert verdicts == {"SEC-HDR-HSTS": "waived", "CFG-HTTPS-REDIRECT": "waived",
                        "CFG-HTTPS-TLS": "failed"}  # fmt: skip
    rows = [line.split()[:2] for line in result.stdout.splitlines() if line.startswith("  ")]
    assert ["CFG-HTTPS-TLS", "FAILED"] in rows


@pytest.mark.parametrize(
    ("ids", "expires", "message"),
    [
        (("SEC-HDR-HSTS",), "2001-01-01", "waiver 1 (SEC-HDR-HSTS): the waiver expired on 2001"),
        (("SEC-HDR-NOPE",), "2999-12-31", "waiver 1 (SEC-HDR-NOPE): unknown requirement id"),
    ],
)
def test_a_bad_waiver_is_a_usage_error_before_anything_runs(
    tmp_path: Path, ids: tuple[str, ...], expires: str, message: str
) -> None:
    waivers = _waivers(tmp_path, ids, expires)
    started = time.monotonic()
    result = harness("gate", "--waivers", str(waivers), cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    line = _one_line(result.stderr)
    assert line.startswith(f"harness: error: {waivers}: ")
    assert message in line
    assert time.monotonic() - started < 10  # no app started, no check ran


def test_make_gate_allows_incomplete() -> None:
    """``make gate`` on a clean machine: INCOMPLETE (uncovered, scaled, ...) exits 0."""
    done = subprocess.run(
        ["make", "-n", "gate", "STAMP=/dev/null"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "harness gate --allow-incomplete" in done.stdout
