"""The operations checks of suites/test_operations_files.py on a repository the reference tree
does not cover: a missing file names its parameter, an unreadable one is one line of the
check's own, and a PostgreSQL configuration file mounted from the repository is read."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from reference_app.project_mutants import PROJECT
from tests.conftest import SuiteRun
from tests.test_repository import OPS_SETTINGS_IDS
from tests.verdicts import exception_named


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new))


def test_missing_unreadable_and_mounted_files(
    tmp_path: Path, run_suites: Callable[..., SuiteRun]
) -> None:
    root = tmp_path / "repo"
    shutil.copytree(PROJECT, root)
    (root / "frontend/nginx.conf").unlink()
    (root / ".github/workflows/ci-cd.yml").write_text("on: [push\njobs: {}\n")
    compose = root / "docker-compose.yml"
    (root / "db").mkdir()
    (root / "db/postgresql.conf").write_text("log_min_duration_statement = '400ms'\n")
    conf = "/etc/postgresql/postgresql.conf"
    _replace(compose, "log_min_duration_statement=250ms", f"config_file={conf}")
    data = "      - db-data:/var/lib/postgresql/data\n"
    _replace(compose, data, f"{data}      - ./db/postgresql.conf:{conf}:ro\n")
    _replace(compose, "retention.time=30d", "retention.time=30 days")
    _replace(
        compose,
        '["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000", "--workers", "4"]',
        '["gunicorn", "-c", "gunicorn.conf.py", "app.main:app"]',
    )
    run = run_suites(
        f"--project-root={root}", *[f"--requirement={rid}" for rid in OPS_SETTINGS_IDS]
    )
    messages = {}
    for rid in OPS_SETTINGS_IDS:
        checks = run.entry(rid)["checks"]
        assert len(checks) == 1, (rid, run.output)
        messages[rid] = str(checks[0].get("message") or "")
        assert not exception_named(messages[rid]), (rid, messages[rid])
        assert "\n" not in messages[rid].strip(), (rid, messages[rid])
    assert run.verdict("OPS-SLOW-QUERY-LOG") == "passed", run.output
    notes = {n["label"]: n["value"] for n in run.entry("OPS-SLOW-QUERY-LOG")["evidence"]}
    assert notes["read from"] == "db/postgresql.conf"
    assert "set --param nginx_config=PATH" in messages["OPS-MAINT-ACCESS-LOGS"]
    assert "ci-cd.yml: not valid YAML" in messages["OPS-MAINT-LOAD-TESTS"]
    assert "'30 days' is not a Prometheus duration" in messages["OPS-MAINT-PERF-REVIEW"]
    assert "gunicorn -c FILE" in messages["OPS-WORKERS"]
    assert "does not set the worker count with --workers" in messages["OPS-TS-WORKERS"]
    for rid in set(OPS_SETTINGS_IDS) - {"OPS-SLOW-QUERY-LOG"}:
        assert run.verdict(rid) == "failed", (rid, messages[rid])
