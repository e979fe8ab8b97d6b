"""Child processes on loopback: free ports, readiness waits, guaranteed teardown."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from harness.errors import TargetStartError


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago (the child binds it right after)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def tail(path: Path, lines: int = 25) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty log)"


class ManagedProcess:
    """A child in its own process group, logged to a file, always stopped by ``stop``."""

    def __init__(
        self, name: str, argv: Sequence[str], env: Mapping[str, str], log_path: Path, cwd: Path
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = dict(env)
        self.log_path = log_path
        self.cwd = cwd
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            # own session: a Ctrl-C in the terminal reaches the harness, which then stops us
            self._proc = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=self.cwd,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    @property
    def pid(self) -> int | None:
        """The child's process id while it runs: a restart gives another."""
        return self._proc.pid if self.running and self._proc is not None else None

    def poll(self) -> int | None:
        """The exit code once the child has ended (None while it runs or was never started)."""
        return self._proc.poll() if self._proc is not None else None

    def wait_ready(self, probe: Callable[[], bool], timeout: float) -> None:
        """Poll ``probe`` until it is true; fail with the log when the child dies or stalls."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running:
                code = self._proc.returncode if self._proc else None
                raise TargetStartError(
                    f"{self.name} exited with code {code} during start-up; its log "
                    f"({self.log_path}):\n{tail(self.log_path)}"
                )
            if probe():
                return
            time.sleep(0.1)
        self.stop()
        raise TargetStartError(
            f"{self.name} was not ready within {timeout:g} s; its log ({self.log_path}):\n"
            f"{tail(self.log_path)}"
        )

    def stop(self, timeout: float = 10.0) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        except ProcessLookupError:
            proc.wait()
