"""Latency histograms: raw response times in microseconds, exact to 3 significant digits.

Locust buckets its response times to about two significant digits; these keep every sample
(HdrHistogram) and, for a generator that planned its requests at a fixed interval, the
samples coordinated omission hides (``record_corrected_value``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from hdrh.histogram import HdrHistogram

LOWEST_US = 1
HIGHEST_US = 3_600_000_000  # one hour: longer than any request a run waits for
DIGITS = 3
TIMELINE_DIGITS = 2  # per-window histograms of the timeline only need the plot's precision
PERCENTILES = (50.0, 90.0, 95.0, 99.0, 99.9)


def new_histogram(digits: int = DIGITS) -> HdrHistogram:
    return HdrHistogram(LOWEST_US, HIGHEST_US, digits)


def encode(histogram: HdrHistogram) -> str:
    return str(histogram.encode().decode("ascii"))


def decode(text: str) -> HdrHistogram:
    return HdrHistogram.decode(text.encode("ascii"))


def merged(encoded: Iterable[str], digits: int = DIGITS) -> HdrHistogram:
    """One histogram of every encoded histogram in ``encoded``."""
    total = new_histogram(digits)
    for text in encoded:
        total.decode_and_add(text.encode("ascii"))
    return total


def outcome_of(response: Any, exception: Any) -> str | None:
    """None for success; else the failure class: 429, 5xx, status, timeout, connection."""
    if exception is None:
        return None
    status = int(getattr(response, "status_code", 0) or 0)
    if status == 429:
        return "429"
    if status >= 500:
        return "5xx"
    if status > 0:
        return "status"
    return "timeout" if "timeout" in type(exception).__name__.lower() else "connection"


@dataclass
class Recording:
    """What one endpoint saw: raw and corrected times, counts by outcome. A timeline window
    (``raw=None``) keeps corrected times only, at the plot's precision (``window()``)."""

    raw: HdrHistogram | None = field(default_factory=new_histogram)
    corrected: HdrHistogram = field(default_factory=new_histogram)
    count: int = 0
    failures: dict[str, int] = field(default_factory=dict)

    @classmethod
    def window(cls) -> Recording:
        return cls(raw=None, corrected=new_histogram(TIMELINE_DIGITS))

    def record(self, milliseconds: float, interval_us: int, outcome: str | None) -> None:
        """One response; ``interval_us`` is the user's planned interval (0: unpaced, so
        nothing to correct). Runs per request inside locust: kept lean."""
        value = int(milliseconds * 1000.0) or 1  # µs; hdrh drops values beyond an hour
        if self.raw is None:
            self.corrected.record_corrected_value(value, interval_us)
        else:
            self.raw.record_value(value)
            if interval_us:
                self.corrected.record_corrected_value(value, interval_us)
        self.count += 1
        if outcome is not None:
            self.failures[outcome] = self.failures.get(outcome, 0) + 1

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {"count": self.count, "failures": dict(self.failures)}
        corrected = self.corrected
        if self.raw is not None:
            data["raw"] = encode(self.raw)
            if not corrected.get_total_count():
                corrected = self.raw  # unpaced users: the corrected times are the raw ones
        data["corrected"] = encode(corrected)
        return data

    def add_dict(self, data: dict[str, object]) -> None:
        """Merge a ``to_dict`` of another process (a locust worker) into this one."""
        if self.raw is not None:
            self.raw.decode_and_add(str(data["raw"]).encode("ascii"))
        self.corrected.decode_and_add(str(data["corrected"]).encode("ascii"))
        self.count += int(str(data["count"]))
        failures = data["failures"]
        assert isinstance(failures, dict)
        for outcome, n in failures.items():
            self.failures[outcome] = self.failures.get(outcome, 0) + int(n)


def percentile_ms(histogram: HdrHistogram, percentile: float) -> float:
    return float(histogram.get_value_at_percentile(percentile)) / 1000.0
