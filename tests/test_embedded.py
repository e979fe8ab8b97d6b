"""The embedded target: starts, offers control, always tears down (also on Ctrl-C)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from harness.errors import TargetStartError
from harness.targets.embedded import EmbeddedTarget
from tests.conftest import clean_env, interruptible


def _processes_mentioning(text: str) -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            environ = (proc / "environ").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if text in cmdline or text in environ:
            found.append(f"{proc.name}: {cmdline}")
    return found


def test_start_control_and_close() -> None:
    target = EmbeddedTarget(profile="production").start_all()
    try:
        assert httpx.get(target.url + "/health").status_code == 200
        target.stop("database")
        assert httpx.get(target.url + "/health").status_code == 503
        target.start("database")
        assert httpx.get(target.url + "/health").status_code == 200
    finally:
        target.close()
    assert not target.workdir.exists()
    assert not _processes_mentioning(str(target.workdir))
    with pytest.raises(httpx.ConnectError):
        httpx.get(target.url + "/health")


def test_failed_start_shows_the_log() -> None:
    target = EmbeddedTarget(mutant="no-such-mutant")
    with pytest.raises(TargetStartError, match="exited with code") as info:
        target.start_all()
    assert "no-such-mutant" in str(info.value)
    assert not target.workdir.exists()


SLOW_SUITE = """
import time
import pytest

@pytest.mark.requirement("MON-HEALTH-001")
def test_slow(target):
    print("TARGET", target.workdir, flush=True)
    time.sleep(60)
"""


def test_ctrl_c_stops_the_embedded_app(tmp_path: Path) -> None:
    suites = tmp_path / "suites"
    suites.mkdir()
    (suites / "test_slow.py").write_text(SLOW_SUITE)
    env = clean_env() | {"TMPDIR": str(tmp_path)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "harness.cli",
            "gate",
            "--suites",
            str(suites),
            "--report-dir",
            str(tmp_path / "r"),
            "--",
            "-s",
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=interruptible,  # noqa: PLW1509 - single-threaded test process
    )
    try:
        deadline = time.monotonic() + 60
        workdirs: list[Path] = []
        while time.monotonic() < deadline and not workdirs:
            workdirs = [p for p in tmp_path.glob("harness-embedded-*") if (p / "app.log").exists()]
            time.sleep(0.2)
        assert workdirs, "the embedded app did not start"
        time.sleep(3)  # let the slow check begin
        assert _processes_mentioning(str(workdirs[0])), "no app process found to interrupt"
        os.kill(proc.pid, signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr
    assert not _processes_mentioning(str(workdirs[0]))
    assert not workdirs[0].exists()
