"""The reference repository's shell scripts parse, are executable, and pass shellcheck."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parent.parent / "reference_app" / "project" / "scripts"
RUNNABLE = ("deploy.sh", "backup.sh", "production-env.sh")


@pytest.mark.parametrize("name", RUNNABLE)
def test_the_script_is_executable_with_a_bash_shebang(name: str) -> None:
    script = SCRIPTS / name
    assert os.access(script, os.X_OK), f"chmod +x {script}"
    assert script.read_text().startswith("#!/usr/bin/env bash\n")
    subprocess.run(["bash", "-n", str(script)], check=True)


def test_the_scripts_pass_shellcheck() -> None:
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.skip("shellcheck is not installed: apt-get install shellcheck")
    done = subprocess.run(
        [shellcheck, "-x", *(f"scripts/{name}" for name in (*RUNNABLE, "lib.sh"))],
        cwd=SCRIPTS.parent, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout
