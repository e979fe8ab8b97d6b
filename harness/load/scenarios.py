"""The spec's five load scenarios, their shapes, and the quick profile that shortens them.

Pure data: nothing here imports locust (gevent patches whatever process imports it).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

SCENARIOS = ("smoke", "baseline", "stress", "spike", "endurance")
LOAD_PROFILES = ("quick", "full")
Shape = Literal["ramp", "spike"]

# the planned rate of one user: constant_throughput, so the generator knows when each
# request should have started (the correction for coordinated omission needs that)
DEFAULT_USER_RPS = 3.0


@dataclass(frozen=True)
class Scenario:
    """One run: ``users`` reached at ``spawn_rate`` (ramp) or all at once (spike), held until
    ``duration_s``; a spike scenario first runs ``base_users`` for ``lead_s`` seconds."""

    name: str
    users: int
    duration_s: float
    spawn_rate: float
    shape: Shape = "ramp"
    user_rps: float = DEFAULT_USER_RPS
    base_users: int = 0
    lead_s: float = 0.0
    profile: str = "full"
    spec_duration_s: float = 0.0  # the spec's duration; longer than duration_s when scaled

    @property
    def scaled(self) -> bool:
        """Shortened by the quick profile: a pass of it proves nothing at the spec's duration."""
        return self.duration_s < self.spec_duration_s

    @property
    def ramp_s(self) -> float:
        """Seconds until every user runs."""
        if self.shape == "spike":
            return self.lead_s
        return self.users / self.spawn_rate if self.spawn_rate > 0 else 0.0

    @property
    def planned_rps(self) -> float:
        """Requests per second once every user runs."""
        return self.users * self.user_rps

    def users_at(self, elapsed_s: float) -> tuple[int, float]:
        """(users, spawn rate) the load shape asks for ``elapsed_s`` into the run."""
        if self.shape == "spike":
            if elapsed_s < self.lead_s:
                return self.base_users, float(max(self.base_users, 1))
            # the jump: every user at once, not at the ramp's spawn rate
            return self.users, float(self.users)
        return self.users, self.spawn_rate

    def planned_users_at(self, elapsed_s: float) -> float:
        """Users the shape plans ``elapsed_s`` into the run (the ramp spawns gradually)."""
        users, rate = self.users_at(elapsed_s)
        if self.shape == "spike":
            return float(users)
        return float(min(users, rate * max(elapsed_s, 0.0)))

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Scenario:
        return cls(**json.loads(text))


def scenario_from_params(
    name: str, params: Mapping[str, Any], load_profile: str = "quick"
) -> Scenario:
    """The scenario ``name`` with the users and duration of ``params``; the quick profile
    shortens it to ``load_quick_duration_s`` keeping its shape (ramp share, spike lead)."""
    if name not in SCENARIOS:
        raise ValueError(f"unknown scenario {name!r}; choose one of {', '.join(SCENARIOS)}")
    if load_profile not in LOAD_PROFILES:
        raise ValueError(f"unknown load profile {load_profile!r}; choose quick or full")
    users = int(params[f"{name}_users"])
    duration = spec_duration = float(params[f"{name}_duration_s"])
    spawn_rate = float(params["spawn_rate"])
    user_rps = float(params.get("load_user_rps", DEFAULT_USER_RPS))
    shape: Shape = "spike" if name == "spike" else "ramp"
    # the spike starts from the smoke scenario's users and jumps after a tenth of the run
    base_users = int(params["smoke_users"]) if shape == "spike" else 0
    lead = duration / 10 if shape == "spike" else 0.0
    if load_profile == "quick":
        quick = float(params.get("load_quick_duration_s", 12))
        scale = min(1.0, quick / duration) if duration > 0 else 1.0
        # same shape in less time: the ramp takes the same share of the run
        spawn_rate, duration, lead = spawn_rate / scale, duration * scale, lead * scale
    return Scenario(
        name=name,
        users=users,
        duration_s=duration,
        spawn_rate=spawn_rate,
        shape=shape,
        user_rps=user_rps,
        base_users=base_users,
        lead_s=lead,
        profile=load_profile,
        spec_duration_s=spec_duration,
    )
