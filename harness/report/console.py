"""What ``harness gate`` learns from a pytest run whose own output went to pytest.log: the suite
files that could not be collected and how many warnings were raised, so the console says so."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# the message pytest gives when a plugin's package was imported before assertion rewriting
# could be set up for it (the gate imports anyio through httpx to check the target first)
ANYIO_REWRITE = "Module already imported so cannot be rewritten; anyio"


@dataclass
class RunWatch:
    """A pytest plugin object the gate passes to ``pytest.main``."""

    collection_errors: list[str] = field(default_factory=list)
    warnings: int = 0

    def pytest_collectreport(self, report: Any) -> None:
        if report.failed:
            lines = [line for line in str(report.longreprtext).splitlines() if line.strip()]
            # pytest ends a collection error with the exception line: the most telling one
            last = lines[-1].strip() if lines else "collection failed"
            self.collection_errors.append(f"{report.nodeid or '.'}: {last[:200]}")

    def pytest_warning_recorded(self, warning_message: Any, when: str, nodeid: str) -> None:
        self.warnings += 1
