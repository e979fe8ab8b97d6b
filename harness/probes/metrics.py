"""Read a Prometheus text exposition (``GET /metrics``) and compare two scrapes.

Pure: no I/O. A check scrapes before and after the traffic it sends and asks how far a series
moved (``moved``), which label values a metric has (``label_values``) or where a histogram's
bucket bounds lie (``bucket_bounds``). A metric the target does not export is
``MissingMetric``: one line naming it, for the check to fail with.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

# sample suffixes of the families that have them: a counter's samples end in _total
_SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "gaugehistogram": ("_bucket", "_gcount", "_gsum"),
    "summary": ("_count", "_sum", "_created"),
    "info": ("_info",),
}


class MetricsFormatError(ValueError):
    """The body is not the Prometheus text format."""


class MissingMetric(AssertionError):
    """The target does not export a metric a claim needs."""

    def __init__(self, name: str, why: str = "") -> None:
        super().__init__(f"the target exports no metric {name!r}{why}")
        self.name = name


@dataclass(frozen=True)
class Sample:
    name: str
    labels: Mapping[str, str]
    value: float

    def has_labels(self, wanted: Mapping[str, str]) -> bool:
        return all(self.labels.get(key) == value for key, value in wanted.items())


@dataclass(frozen=True)
class Scrape:
    """One parsed exposition: every sample, and the names the families declare."""

    samples: tuple[Sample, ...]
    declared: frozenset[str]  # family names and the sample names their type implies

    @classmethod
    def parse(cls, text: str) -> Scrape:
        samples: list[Sample] = []
        declared: set[str] = set()
        try:
            for family in text_string_to_metric_families(text):
                declared.add(family.name)
                declared.update(family.name + suffix for suffix in _SUFFIXES.get(family.type, ()))
                samples.extend(Sample(s.name, dict(s.labels), s.value) for s in family.samples)
        except (ValueError, TypeError, IndexError, KeyError) as exc:
            raise MetricsFormatError(f"not the Prometheus text format ({exc})") from None
        declared.update(sample.name for sample in samples)
        return cls(tuple(samples), frozenset(declared))

    def has(self, name: str) -> bool:
        return name in self.declared

    def require(self, name: str) -> None:
        __tracebackhide__ = True
        if not self.has(name):
            raise MissingMetric(name)

    def series(self, name: str, **labels: str) -> list[Sample]:
        return [s for s in self.samples if s.name == name and s.has_labels(labels)]

    def value(self, name: str, **labels: str) -> float:
        """The sum of ``name``'s samples with ``labels``; MissingMetric when the target does
        not export ``name`` at all."""
        self.require(name)
        return self.value_or_zero(name, **labels)

    def value_or_zero(self, name: str, **labels: str) -> float:
        """As ``value``, but 0 for a metric not (yet) exported: a labelled counter may have
        no sample until its first increment, so a scrape *before* the traffic reads this."""
        return sum(s.value for s in self.series(name, **labels))

    def label_values(self, name: str, label: str) -> set[str]:
        return {s.labels[label] for s in self.series(name) if label in s.labels}

    def label_names(self, name: str) -> set[str]:
        return {key for s in self.series(name) for key in s.labels}

    def bucket_bounds(self, histogram: str) -> set[float]:
        """The finite ``le`` bounds of ``histogram``'s buckets."""
        self.require(histogram + "_bucket")
        bounds = set()
        for value in self.label_values(histogram + "_bucket", "le"):
            bound = float(value)
            if not math.isinf(bound):
                bounds.add(bound)
        return bounds

    def totals(self, name: str, by: Iterable[str]) -> dict[tuple[str, ...], float]:
        """``name``'s values summed per combination of the labels ``by``."""
        keys = tuple(by)
        result: dict[tuple[str, ...], float] = {}
        for sample in self.series(name):
            key = tuple(sample.labels.get(label, "") for label in keys)
            result[key] = result.get(key, 0.0) + sample.value
        return result


def rise(before: Scrape, after: Scrape, name: str) -> float:
    """How far ``name`` (all its series) moved; it must be in the later scrape."""
    return after.value(name) - before.value_or_zero(name)


def moved(
    before: Scrape, after: Scrape, name: str, by: Iterable[str]
) -> dict[tuple[str, ...], float]:
    """How far ``name`` moved between two scrapes, per combination of the labels ``by``
    (combinations that did not move are left out)."""
    keys = tuple(by)
    start, end = before.totals(name, keys), after.totals(name, keys)
    changes = {key: end.get(key, 0.0) - start.get(key, 0.0) for key in {*start, *end}}
    return {key: change for key, change in changes.items() if change}


def status_class(status: int | str) -> str:
    """``4xx`` for 404: the label an error counter groups statuses by."""
    return f"{str(status)[:1]}xx"
