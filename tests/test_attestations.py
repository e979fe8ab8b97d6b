"""Attestations: what no program can check is answered by a person, shown as attested (never
passed); unanswered it is not proven; every OPS- requirement is a check or an attestation."""

from __future__ import annotations

import json
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from harness.config import load_config
from harness.errors import ConfigError
from harness.report.attestations import NEEDS_ATTESTATION, Attestation, load_attestations
from harness.report.markdown import render_markdown
from harness.report.matrix import MatrixBuilder
from harness.report.selection import ids_in_files
from harness.report.verdicts import headline, requirement_verdict
from harness.resources import suites_dir
from reference_app.project_mutants import PROJECT
from tests.conftest import MATRIX_SCHEMA, REPO, harness
from tests.test_console import _sections
from tests.test_matrix_verdicts import CATALOGUE, PARAMS, check, entry

RID = "OPS-MAINT-ACCESS-LOGS-REVIEWED"
TODAY = date(2026, 12, 1)
VALID = f"""
[[attestation]]
id = "{RID}"
by = "ops-oncall@example.com"
on = 2026-11-28
evidence = "https://wiki.example.com/ops/access-logs-2026-11"
expires = 2026-12-31
"""
ATTESTED = [req.id for req in CATALOGUE if req.kind == "attestation"]
# OPS- requirements a program can check whose checks are not written yet, each with why; the
# test below fails for any other OPS- requirement that is neither checked nor attested
PENDING_CHECKS = {
    **dict.fromkeys(
        (
            "OPS-DB-POOL",
            "OPS-QUERY-OPTIMISATION",
            "OPS-ASYNC",
            "OPS-STATIC-CACHE",
            "OPS-GZIP",
            "OPS-CODE-SPLITTING",
            "OPS-LAZY-LOADING",
            "OPS-IMAGE-OPTIMISATION",
            "OPS-READ-REPLICAS",
            "OPS-PREPARED-STATEMENTS",
            "OPS-VACUUM",
        ),
        "performance settings, observable on the containers stack; checks to come",
    ),
    # the pool lives in the backend's code (its engine's pool_size and max_overflow), which no
    # file of the spec's layout names; the running backend's engine or its sessions in
    # pg_stat_activity under load show it, against the server's max_connections
    "OPS-DB-POOL-SIZE": "the backend's engine settings, read in its container; checks to come",
    **dict.fromkeys(
        (
            "OPS-MAINT-ERROR-LOGS",
            "OPS-MAINT-SECURITY-ALERTS",
            "OPS-MAINT-DISK",
            "OPS-MAINT-DEPS-UPDATE",
            "OPS-MAINT-SECURITY-UPDATES",
            "OPS-MAINT-DB-OPTIMISE",
            "OPS-MAINT-ROTATE-KEYS",
        ),
        "the configuration that makes a regular task happen or possible; checks to come",
    ),
}


def _file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "attestations.toml"
    path.write_text(body)
    return path


def _build(attestations: dict[str, Attestation], *reports: Any) -> dict[str, Any]:
    builder = MatrixBuilder(CATALOGUE, "production", PARAMS, attestations=attestations, today=TODAY)
    for report in reports:
        builder.add(report)
    matrix = builder.build()
    jsonschema.validate(matrix, json.loads(MATRIX_SCHEMA.read_text()))
    return matrix


def test_a_valid_attestation_is_loaded(tmp_path: Path) -> None:
    loaded = load_attestations(_file(tmp_path, VALID), CATALOGUE, today=TODAY)
    assert loaded[RID] == Attestation(
        RID,
        "ops-oncall@example.com",
        date(2026, 11, 28),
        "https://wiki.example.com/ops/access-logs-2026-11",
        date(2026, 12, 31),
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[[attestation]\n", "invalid TOML"),
        ("[attestations]\n", "unknown key(s) attestations"),
        (VALID.replace(RID, "OPS-NOPE"), "unknown requirement id 'OPS-NOPE'"),
        (VALID.replace(RID, "OPS-MAINT-ACCESS-LOGS"), "OPS-MAINT-ACCESS-LOGS is checked by"),
        (VALID.replace('by = "ops-oncall@example.com"\n', ""), f"1 ({RID}): missing by"),
        (VALID.replace("evidence = ", "proof = "), "missing evidence"),
        (VALID + "signed = true\n", "unknown field(s) signed"),
        (
            VALID.replace('"https://wiki.example.com/ops/access-logs-2026-11"', '" "'),
            "evidence must",
        ),
        (VALID.replace("2026-12-31", '"soon"'), "expires 'soon' is not a date"),
        (VALID.replace("on = 2026-11-28", "on = 2026-12-24"), "on 2026-12-24 is in the future"),
        (VALID.replace("2026-12-31", "2026-11-01"), "expires 2026-11-01 is before on"),
        (VALID * 2, f"attestation 2 ({RID}): {RID} is attested twice"),
    ],
)
def test_a_bad_attestations_file_is_one_line_naming_file_and_entry(
    tmp_path: Path, body: str, message: str
) -> None:
    path = _file(tmp_path, body)
    with pytest.raises(ConfigError) as caught:
        load_attestations(path, CATALOGUE, today=TODAY)
    text = str(caught.value)
    assert message in text
    assert text.startswith(str(path))
    assert "\n" not in text


@pytest.mark.parametrize("where", ["harness.toml", "env", "cli"])
def test_attestations_are_a_setting_like_the_others(tmp_path: Path, where: str) -> None:
    _file(tmp_path, VALID.replace("2026-12-31", "2999-01-01"))
    cli = {"attestations": "attestations.toml"} if where == "cli" else {}
    env = {"HARNESS_ATTESTATIONS": "attestations.toml"} if where == "env" else {}
    if where == "harness.toml":
        (tmp_path / "harness.toml").write_text('attestations = "attestations.toml"\n')
    config = load_config(cli=cli, env=env, project_dir=tmp_path)
    assert list(config.attestations) == [RID]
    assert config.sources["attestations"] in {"harness.toml", "environment", "command line"}


def test_gate_refuses_a_bad_attestations_file_with_exit_2(tmp_path: Path) -> None:
    _file(tmp_path, VALID.replace(RID, "SEC-HDR-HSTS"))
    result = harness("gate", "--attestations", "attestations.toml", cwd=tmp_path)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "SEC-HDR-HSTS is checked by the harness, not attested" in lines[0]


def test_verdict_of_an_attestation_requirement() -> None:
    fold = requirement_verdict
    assert fold([], applicable=True, waived=False, attested=True) == "attested"
    assert fold([], applicable=True, waived=False, attested=False) == "skipped"
    assert fold([], applicable=True, waived=False) == "uncovered"  # a check kind: no check
    assert fold([], applicable=False, waived=False, attested=True) == "not_applicable"
    assert fold([], applicable=True, waived=False, attested=True, selected=False) == "deselected"
    assert headline({"passed": 3, "attested": 2}) == "PASS"
    assert headline({"passed": 3, "attested": 1, "skipped": 1}) == "INCOMPLETE"


def test_attested_is_shown_apart_from_passed_in_every_view(tmp_path: Path) -> None:
    attestation = load_attestations(_file(tmp_path, VALID), CATALOGUE, today=TODAY)
    matrix = _build(dict(attestation), check("MON-HEALTH-001", "a"))
    row = entry(matrix, RID)
    assert row["verdict"] == "attested"
    assert row["kind"] == "attestation"
    assert row["attestation"]["by"] == "ops-oncall@example.com"
    assert row["attestation"]["expired"] is False
    assert matrix["summary"]["attested"] == 1
    assert entry(matrix, "MON-HEALTH-001")["verdict"] == "passed"
    markdown = render_markdown(matrix)
    assert "## Attested: a person's statement, not a check (1)" in _sections(markdown)
    assert f"| {RID} | attested | " in markdown
    assert "attested by ops-oncall@example.com on 2026-11-28, expires 2026-12-31" in markdown


def test_without_an_attestation_the_requirement_is_not_proven_never_uncovered() -> None:
    matrix = _build({})
    for rid in ATTESTED:
        row = entry(matrix, rid)
        assert row["verdict"] == "skipped", rid
        assert row["skip_reasons"] == [NEEDS_ATTESTATION]
    assert matrix["headline"] == "INCOMPLETE"


def test_an_expired_attestation_does_not_count_and_says_since_when() -> None:
    old = Attestation(RID, "alice", date(2026, 9, 1), "ticket OPS-12", date(2026, 10, 1))
    row = entry(_build({RID: old}), RID)
    assert row["verdict"] == "skipped"
    assert row["attestation"]["expired"] is True
    assert row["skip_reasons"] == [
        f"{NEEDS_ATTESTATION} (the one by alice of 2026-09-01 expired on 2026-10-01)"
    ]


def test_every_ops_requirement_is_checked_attested_or_pending_with_a_reason() -> None:
    checked = ids_in_files([suites_dir()], CATALOGUE.requirements)
    ops = [req.id for req in CATALOGUE if req.prefix == "OPS"]
    neither = [
        rid
        for rid in ops
        if rid not in ATTESTED and rid not in checked and rid not in PENDING_CHECKS
    ]
    assert not neither, f"OPS- requirements neither checked nor attested: {neither}"
    # a pending entry leaves once its check lands, so the list stays the truth
    stale = [rid for rid in PENDING_CHECKS if rid not in ops or rid in ATTESTED or rid in checked]
    assert not stale, f"pending entries that are gone, attested or checked now: {stale}"
    assert not set(ATTESTED) & checked, "a kind: attestation requirement has a check"
    assert len(ATTESTED) >= 5
    assert all(req.prefix == "OPS" for req in CATALOGUE if req.kind == "attestation")


def test_the_reference_repository_attests_every_attestation_requirement() -> None:
    path = PROJECT / "attestations.toml"
    loaded = load_attestations(path, CATALOGUE)
    assert sorted(loaded) == sorted(ATTESTED)
    assert not any(a.expired(date.today()) for a in loaded.values())


def test_gate_shows_attested_apart_and_may_pass_on_it(tmp_path: Path) -> None:
    attestations = PROJECT / "attestations.toml"
    selection = [f"--requirement={rid}" for rid in ("LOAD-README", RID)]
    out = tmp_path / "out"
    result = harness(
        "gate", *selection, "--project-root", str(PROJECT), "--attestations", str(attestations),
        "--report-dir", str(out), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    row = next(line for line in lines if line.startswith(f"  {RID} "))
    assert row.split()[1] == "attested"
    assert "attested by security-oncall@reference.example on 2024-06-03" in row
    assert "  1 passed, 0 failed, 1 attested, " in result.stdout
    assert lines[-1] == "verdict: PASS"
    # without the file: not proven, under its cause, and the gate cannot say PASS
    bare = harness(
        "gate", *selection, "--project-root", str(PROJECT), "--report-dir", str(out),
        cwd=tmp_path,
    )  # fmt: skip
    assert bare.returncode == 4, bare.stdout + bare.stderr
    assert "  needs an attestation: 1 -> --attestations FILE" in bare.stdout
    assert f"  {RID} " not in bare.stdout
    assert bare.stdout.rstrip().endswith("verdict: INCOMPLETE")


def test_make_gate_passes_the_reference_attestations() -> None:
    done = subprocess.run(
        ["make", "-n", "gate", "STAMP=/dev/null"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "--attestations reference_app/project/attestations.toml" in done.stdout


def test_the_catalogue_listing_says_which_requirements_are_attested(tmp_path: Path) -> None:
    rows = json.loads(harness("requirements", "--format", "json", cwd=tmp_path).stdout)
    assert sorted(row["id"] for row in rows if row["kind"] == "attestation") == sorted(ATTESTED)
    text = harness("requirements", "--area", "operations", cwd=tmp_path).stdout
    line = next(line for line in text.splitlines() if line.startswith(f"{RID} "))
    assert "[attestation] Someone reviews the access logs every month" in line
    checked = next(line for line in text.splitlines() if line.startswith("OPS-GZIP "))
    assert "[attestation]" not in checked
