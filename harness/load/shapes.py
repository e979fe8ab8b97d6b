"""The load shape of a harness scenario (``HARNESS_LOAD_SCENARIO``), for locust's master.

``harness load`` passes it next to the locustfile (``-f locustfile.py,shapes.py``), so the
locustfile alone keeps working with plain ``--users`` / ``--spawn-rate`` / ``--run-time``.
"""

from __future__ import annotations

import os

from locust import LoadTestShape

from harness.load.scenarios import Scenario


class ScenarioShape(LoadTestShape):
    """Ramp (users at the spawn rate) or spike (a lead at the base users, then a jump)."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        text = os.environ.get("HARNESS_LOAD_SCENARIO")
        if not text:
            raise RuntimeError("shapes.py needs HARNESS_LOAD_SCENARIO (harness load sets it)")
        self.scenario = Scenario.from_json(text)

    def tick(self) -> tuple[int, float] | None:
        elapsed = float(self.get_run_time())  # type: ignore[no-untyped-call]
        if elapsed >= self.scenario.duration_s:
            return None
        return self.scenario.users_at(elapsed)
