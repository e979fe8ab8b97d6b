"""The gate's console while pytest's own output goes to pytest.log: the lines meant for the
person running it (``say``), the suite files that could not be collected and how many warnings
were raised, so the console says so."""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pytest

# the message pytest gives when a plugin's package was imported before assertion rewriting
# could be set up for it (the gate imports anyio through httpx to check the target first)
ANYIO_REWRITE = "Module already imported so cannot be rewritten; anyio"
CONSOLE_KEY = pytest.StashKey["RunWatch"]()


@dataclass
class RunWatch:
    """A pytest plugin object the gate passes to ``pytest.main``; ``console`` is the terminal
    when pytest's own output goes to a log."""

    console: IO[str] | None = None
    collection_errors: list[str] = field(default_factory=list)
    warnings: int = 0

    @classmethod
    def on_stdout(cls) -> RunWatch:
        """Writes to this process's stdout as it is now, even while pytest captures fd 1."""
        return cls(console=os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8"))

    def close(self) -> None:
        if self.console is not None:
            self.console.close()

    def pytest_configure(self, config: pytest.Config) -> None:
        config.stash[CONSOLE_KEY] = self

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            lines = [line for line in str(report.longreprtext).splitlines() if line.strip()]
            # pytest ends a collection error with the exception line: the most telling one
            last = lines[-1].strip().removeprefix("E ").strip() if lines else "failed"
            self.collection_errors.append(f"{report.nodeid or '.'}: {last[:200]}")

    def pytest_warning_recorded(self, warning_message: Any, when: str, nodeid: str) -> None:
        self.warnings += 1


def say(config: pytest.Config, line: str) -> None:
    """One line for the person running the checks: on ``harness gate``'s console even though
    pytest's output goes to pytest.log; on pytest's terminal otherwise."""
    watch = config.stash.get(CONSOLE_KEY, None)
    if watch is not None and watch.console is not None:
        watch.console.write(line + "\n")
        return
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None:
        return
    if capture is None:
        reporter.write_line(line)
        return
    with capture.global_and_fixture_disabled():  # also from inside a check or fixture
        reporter.write_line(line)


def run_pytest(args: list[str], log: Path | None) -> tuple[int, RunWatch]:
    """Run pytest in this process; its terminal output goes to ``log`` when one is given."""
    if log is None:
        watch = RunWatch()
        try:
            return int(pytest.main(args, plugins=[watch])), watch
        except KeyboardInterrupt:
            return 2, watch
    log.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()  # what the console said so far comes before what the run says
    watch = RunWatch.on_stdout()
    try:
        with log.open("w", encoding="utf-8") as stream, contextlib.redirect_stdout(stream):
            return int(pytest.main(args, plugins=[watch])), watch
    except KeyboardInterrupt:
        return 2, watch
    finally:
        watch.close()
