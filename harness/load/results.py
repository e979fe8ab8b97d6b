"""What a run measured, read from the recorder's file: exact percentiles (raw and corrected for
coordinated omission), error rate, achieved against planned throughput, validity."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from hdrh.histogram import HdrHistogram

from harness.load.hdr import PERCENTILES, decode, merged, percentile_ms
from harness.load.scenarios import Scenario

# a run may end this much short of its planned duration and still count as complete
DURATION_TOLERANCE = 0.9


@dataclass(frozen=True)
class EndpointStats:
    name: str
    count: int
    failures: dict[str, int]
    raw: HdrHistogram
    corrected: HdrHistogram

    def errors(self, count_429: bool) -> int:
        return sum(n for kind, n in self.failures.items() if count_429 or kind != "429")

    def row(self, count_429: bool) -> dict[str, Any]:
        return {
            "endpoint": self.name,
            "requests": self.count,
            "errors": self.errors(count_429),
            "failures": dict(self.failures),
            **{f"p{_label(p)}_ms": percentile_ms(self.corrected, p) for p in PERCENTILES},
            "raw_p95_ms": percentile_ms(self.raw, 95.0),
            "max_ms": self.corrected.get_max_value() / 1000.0,
        }


@dataclass(frozen=True)
class Window:
    start: float  # epoch seconds
    count: int
    failures: int
    corrected: HdrHistogram


@dataclass
class LoadResult:
    """The statistics of one run."""

    scenario: Scenario
    data: dict[str, Any]
    endpoints: list[EndpointStats] = field(default_factory=list)
    windows: list[Window] = field(default_factory=list)

    @classmethod
    def from_file(cls, path: Path, scenario: Scenario) -> LoadResult:
        return cls.from_data(json.loads(path.read_text(encoding="utf-8")), scenario)

    @classmethod
    def from_data(cls, data: dict[str, Any], scenario: Scenario) -> LoadResult:
        """From the recorder's JSON (``harness.load.recorder``)."""
        result = cls(scenario, data)
        for name, item in sorted(data["endpoints"].items()):
            result.endpoints.append(
                EndpointStats(
                    name,
                    int(item["count"]),
                    {k: int(v) for k, v in item["failures"].items()},
                    decode(item["raw"]),
                    decode(item["corrected"]),
                )
            )
        size = float(data["window_s"])
        for index, item in sorted(data["windows"].items(), key=lambda kv: int(kv[0])):
            result.windows.append(
                Window(
                    int(index) * size,
                    int(item["count"]),
                    sum(int(n) for n in item["failures"].values()),
                    decode(item["corrected"]),
                )
            )
        return result

    # --- the run as a whole ----------------------------------------------------------------
    @property
    def requests(self) -> int:
        return sum(e.count for e in self.endpoints)

    def failures(self) -> dict[str, int]:
        total: dict[str, int] = {}
        for endpoint in self.endpoints:
            for kind, n in endpoint.failures.items():
                total[kind] = total.get(kind, 0) + n
        return total

    def errors(self, count_429: bool) -> int:
        return sum(e.errors(count_429) for e in self.endpoints)

    def error_rate(self, count_429: bool) -> float:
        return self.errors(count_429) / self.requests if self.requests else 1.0

    @cached_property
    def corrected(self) -> HdrHistogram:
        """Every endpoint's times, with the samples coordinated omission hid."""
        return merged(str(item["corrected"]) for item in self.data["endpoints"].values())

    @cached_property
    def raw(self) -> HdrHistogram:
        """Every endpoint's times as measured."""
        return merged(str(item["raw"]) for item in self.data["endpoints"].values())

    def percentile_ms(self, percentile: float, corrected: bool = True) -> float:
        return percentile_ms(self.corrected if corrected else self.raw, percentile)

    @property
    def duration_s(self) -> float:
        return float(self.data["ended_at"]) - float(self.data["started_at"])

    @property
    def steady_start(self) -> float:
        """When every planned user ran (the start, if that was never recorded)."""
        full = self.data.get("full_load_at")
        return float(full) if full else float(self.data["started_at"])

    @property
    def achieved_rps(self) -> float:
        """Requests per second completed while every user ran (whole windows only)."""
        size = float(self.data["window_s"])
        end = float(self.data["ended_at"])
        steady = [w for w in self.windows if w.start >= self.steady_start and w.start + size <= end]
        if not steady:
            return self.requests / self.duration_s if self.duration_s > 0 else 0.0
        return sum(w.count for w in steady) / (len(steady) * size)

    @property
    def planned_rps(self) -> float:
        return self.scenario.planned_rps

    @property
    def locust(self) -> dict[str, Any]:
        figures: dict[str, Any] = self.data["locust"]
        return figures

    # --- validity --------------------------------------------------------------------------
    def invalid_reasons(self) -> list[str]:
        """Why this run cannot be judged; empty for a valid run."""
        reasons = []
        if self.data.get("cpu_warning"):
            reasons.append(
                "the load generator hit locust's CPU warning (above 90 %): its response times "
                "are not trustworthy; add workers (--load-workers N)"
            )
        if int(self.data.get("max_users", 0)) < self.scenario.users:
            reasons.append(
                f"only {self.data.get('max_users', 0)} of {self.scenario.users} users ran"
            )
        if self.duration_s < self.scenario.duration_s * DURATION_TOLERANCE:
            reasons.append(
                f"the run lasted {self.duration_s:.1f} s of {self.scenario.duration_s:g} s"
            )
        if self.requests == 0:
            reasons.append("no request completed")
        return reasons

    def timeline(self) -> list[dict[str, float]]:
        """Per window: seconds since the start, req/s, failures/s, corrected p50/p95/p99."""
        size = float(self.data["window_s"])
        start = float(self.data["started_at"])
        return [
            {
                "t_s": w.start - start,
                "rps": w.count / size,
                "planned_rps": self.scenario.planned_users_at(w.start - start + size / 2)
                * self.scenario.user_rps,
                "errors_per_s": w.failures / size,
                **{f"p{_label(p)}_ms": percentile_ms(w.corrected, p) for p in (50.0, 95.0, 99.0)},
            }
            for w in self.windows
        ]


def _label(percentile: float) -> str:
    return f"{percentile:g}".replace(".", "_")
