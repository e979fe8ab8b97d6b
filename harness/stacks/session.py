"""One container stack per test run, owned by the controlling pytest process.

The controller checks Docker and sweeps dead runs at session start, starts the stack the
first time a target or an xdist worker needs it, and removes it (and the run's lock files
and any leftover of the run) at the end, also after Ctrl-C.
"""

from __future__ import annotations

import atexit
import signal
import threading
from contextlib import suppress
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from harness.config import HarnessConfig
from harness.errors import TargetStartError
from harness.stacks.docker_env import docker_client
from harness.stacks.lock import StackLock
from harness.stacks.sweep import (
    SweepReport,
    close_quietly,
    sweep_dead_runs,
    sweep_runs,
    sweep_temp_files,
)

if TYPE_CHECKING:
    import docker

    from harness.stacks.containers import ContainerStack


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


class StackSession:
    """The controller's side: ``prepare`` at session start, ``ensure_started``, ``close``."""

    def __init__(self, config: HarnessConfig) -> None:
        self.config = config
        self.client: docker.DockerClient | None = None
        self.stack: ContainerStack | None = None
        self.description: dict[str, Any] | None = None
        self.swept: SweepReport | None = None
        self._closed = False
        self._sigterm_installed = False

    def prepare(self) -> None:
        """Raise DockerUnavailable (one line) without an engine; sweep dead runs."""
        self.client = docker_client()
        self.swept = sweep_dead_runs(self.client)
        sweep_temp_files()
        self._catch_sigterm()

    def _catch_sigterm(self) -> None:
        # CI cancels and `timeout` send SIGTERM: tear the stack down as on Ctrl-C
        if threading.current_thread() is not threading.main_thread():
            return
        if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            signal.signal(signal.SIGTERM, _interrupt)
            self._sigterm_installed = True

    def ensure_started(self) -> dict[str, Any]:
        """The stack's JSON description, starting it on the first call; ``{"error": ...}``
        when it failed to start (every check that needs it then fails with that message)."""
        if self.description is not None:
            return self.description
        if self._closed:
            return {"error": "the container stack was already removed"}
        from harness.stacks.containers import ContainerStack

        # the reference backend with the reference repository's Prometheus, which the MON-PROM
        # and dashboard checks ask; a user's image is judged by the Prometheus they name
        self.stack = ContainerStack(
            profile=self.config.profile,
            image=self.config.image,
            mutant=self.config.mutant,
            with_prometheus=self.config.image is None,
        )
        atexit.register(self.close)
        try:
            self.description = self.stack.start().to_json()
        except TargetStartError as exc:
            self.description = {"error": str(exc), "run_id": self.stack.run_id}
        return self.description

    @property
    def run_id(self) -> str | None:
        return self.stack.run_id if self.stack is not None else None

    def summary(self) -> list[str]:
        """Lines for the terminal summary."""
        lines = []
        if self.swept:
            lines.append(f"removed leftovers of dead runs: {self.swept.summary()}")
        if self.description is None:
            return lines
        if "error" in self.description:
            first = str(self.description["error"]).splitlines()[0]
            return [*lines, f"container stack did not start: {first}"]
        return [
            *lines,
            f"container stack {self.description['run_id']}: healthy "
            f"{self.description['start_seconds']} s after start; backend "
            f"{self.description['backend_url']}; removed at the end of the run",
        ]

    def close(self) -> None:
        """Remove the stack and everything of this run; idempotent."""
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self.close)
        if self._sigterm_installed:
            with suppress(ValueError):
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
        try:
            if self.stack is not None:
                self.stack.close()
                if self.client is not None:
                    sweep_runs(self.client, [self.stack.run_id])
                if self.description and self.description.get("lock_file"):
                    StackLock(Path(self.description["lock_file"])).remove()
        finally:
            with suppress(Exception):
                close_quietly(self.client)
            self.client = None
