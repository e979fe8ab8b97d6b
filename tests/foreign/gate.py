"""Run ``harness gate`` against a foreign target and read its matrix."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import harness


def gate(url: str, workdir: Path, *args: str) -> tuple[int, str, dict[str, Any]]:
    """(exit code, console output, matrix) of one gate run with reports under ``workdir``."""
    report_dir = workdir / "reports"
    result = harness(
        "gate", "--target-url", url, "--report-dir", str(report_dir), *args,
        cwd=workdir, timeout=900,
    )  # fmt: skip
    output = result.stdout + result.stderr
    matrix_path = report_dir / "matrix.json"
    assert matrix_path.is_file(), f"no matrix written:\n{output[-3000:]}"
    return result.returncode, output, json.loads(matrix_path.read_text(encoding="utf-8"))


def checks(matrix: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(entry["id"], check) for entry in matrix["requirements"] for check in entry["checks"]]


def message(check: dict[str, Any]) -> str:
    return str(check.get("message") or check.get("skip_reason") or "")


def verdict(matrix: dict[str, Any], rid: str) -> str:
    return str(next(e["verdict"] for e in matrix["requirements"] if e["id"] == rid))


def only_check(matrix: dict[str, Any], rid: str) -> dict[str, Any]:
    found = [check for owner, check in checks(matrix) if owner == rid]
    assert len(found) == 1, f"{rid}: {found}"
    return found[0]
