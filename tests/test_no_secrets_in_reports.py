"""No secret in any output: a gate run with planted passwords, on a mutant so that a check
fails and its failure is written out in full, leaves none of them, no issued token and no
TOTP secret in any file of the report folder or on the console."""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path

from tests.conftest import harness

# the checks that sign in with the planted passwords, get tokens and enrol TOTP
CHECKED = (
    "CFG-2FA",
    "CFG-CHECK-ADMIN-2FA",
    "CFG-LOGIN-ATTEMPTS",
    "INP-UPLOAD-TYPE",
    "SEC-AUD-NO-SECRETS",
    "SEC-AUD-FIELDS",
)
# issued tokens: signed with a JSON head (JWT or body.signature), or any credential field or
# bearer value that is not masked
LEAKS = (
    re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    re.compile(r"secret=[A-Z2-7]{16,}"),
    re.compile(r"[\"'](?:access_token|password|otp)[\"']:\s*[\"'](?!\[redacted\])[^\"']+"),
    re.compile(r"Bearer (?!\[redacted\])[A-Za-z0-9._~+/=-]{12,}"),
)


def test_planted_secrets_appear_in_no_report(tmp_path: Path) -> None:
    user_password = "Planted-user-" + secrets.token_hex(10)
    admin_password = "Planted-admin-" + secrets.token_hex(10)
    report_dir = tmp_path / "reports"
    run = harness(
        "gate",
        "--mutant=totp-replay",  # CFG-2FA fails: its failure goes to pytest.log in full
        f"--report-dir={report_dir}",
        f"--param=login_password={user_password}",
        f"--param=admin_password={admin_password}",
        *(f"--requirement={rid}" for rid in CHECKED),
        cwd=tmp_path,
        timeout=600,
    )
    matrix = json.loads((report_dir / "matrix.json").read_text(encoding="utf-8"))
    verdicts = {entry["id"]: entry["verdict"] for entry in matrix["requirements"]}
    # the secrets were used: the checks signed in with them, and one failed
    assert verdicts["CFG-2FA"] == "failed", run.stdout + run.stderr
    assert verdicts["INP-UPLOAD-TYPE"] == "passed", run.stdout + run.stderr
    assert verdicts["CFG-LOGIN-ATTEMPTS"] == "passed", run.stdout + run.stderr
    outputs = {
        path: path.read_text(encoding="utf-8", errors="replace") for path in _files(report_dir)
    }
    # every report format: the matrix as JSON, Markdown and HTML, JUnit XML, Allure results
    written = {path.name for path in outputs}
    assert {"matrix.json", "matrix.md", "matrix.html", "junit.xml", "pytest.log"} <= written
    assert any(name.endswith("-result.json") for name in written), sorted(written)
    assert any(name.endswith("-attachment.json") for name in written), sorted(written)
    assert "[redacted]" in outputs[report_dir / "matrix.json"]  # tokens were seen and masked
    outputs[Path("console")] = run.stdout + run.stderr
    for path, text in outputs.items():
        for name, secret in (("user password", user_password), ("admin password", admin_password)):
            assert secret not in text, f"the planted {name} is in {path}"
        for leak in LEAKS:
            found = leak.search(text)
            assert found is None, f"a credential is in {path}: {found}"


def _files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())
