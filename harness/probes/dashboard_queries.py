"""The PromQL of dashboard panels: which metrics it names (parsed by ``promql_parser``, a
binding of a PromQL parser, not by regexes), and the query Grafana sends once it has expanded
its template variables and its interval macros."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import promql_parser
from prometheus_client.parser import text_string_to_metric_families

# series Prometheus writes for every scrape target itself: no /metrics exports them
SCRAPE_SERIES = frozenset(
    {
        "up",
        "scrape_duration_seconds",
        "scrape_samples_scraped",
        "scrape_samples_post_metric_relabeling",
        "scrape_series_added",
    }
)
# Grafana's variable syntaxes: $name, ${name}, ${name:format}, [[name]], [[name:format]]
_VARIABLE = re.compile(r"\$\{(\w+)(?::(\w+))?\}|\[\[(\w+)(?::(\w+))?\]\]|\$(\w+)")
_LABEL_VALUES = re.compile(r"^\s*label_values\(\s*(.*?)\s*,\s*(\w+)\s*\)\s*$", re.S)
_LABEL_VALUES_ONLY = re.compile(r"^\s*label_values\(\s*(\w+)\s*\)\s*$")
_QUERY_RESULT = re.compile(r"^\s*query_result\((.*)\)\s*$", re.S)
_SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("", "_sum", "_count", "_created"),
    "gaugehistogram": ("_bucket", "_gsum", "_gcount"),
}
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)")


class QueryError(ValueError):
    """A panel's query that PromQL cannot parse, in one line."""


@dataclass(frozen=True)
class Names:
    """Metric names a query selects, and the ``__name__`` regexes it selects by."""

    names: frozenset[str]
    patterns: frozenset[str]


def parse_duration(text: str) -> float:
    """Seconds of a Prometheus/Grafana duration (``15s``, ``1m30s``); ValueError otherwise."""
    parts = _DURATION.findall(text.strip())
    if not parts or "".join(n + u for n, u in parts) != text.strip():
        raise ValueError(f"{text!r} is not a duration such as 15s or 1m")
    return sum(float(n) * _UNITS[u] for n, u in parts)


def seconds(value: float) -> str:
    """A duration PromQL accepts: whole seconds or milliseconds."""
    return f"{round(value)}s" if float(value).is_integer() else f"{round(value * 1000)}ms"


def metric_names(expr: str) -> Names:
    """The metric names ``expr`` selects (vector and range selectors, every depth)."""
    try:
        tree = promql_parser.parse(expr)
    except (ValueError, RuntimeError) as exc:
        raise QueryError(f"not PromQL ({' '.join(str(exc).split())[:160]}): {expr}") from None
    names: set[str] = set()
    patterns: set[str] = set()

    def visit(node: promql_parser.Expr) -> None:
        if not isinstance(node, promql_parser.VectorSelector):
            return
        if node.name:
            names.add(node.name)
        for matcher in node.matchers.matchers:
            if matcher.name != "__name__":
                continue
            if str(matcher.op).endswith(".Equal"):
                names.add(matcher.value)
            elif str(matcher.op).endswith(".Re"):
                patterns.add(matcher.value)

    promql_parser.walk(tree, visit)
    return Names(frozenset(names), frozenset(patterns))


def variable_expr(query: str) -> str | None:
    """The PromQL inside a variable's query: ``label_values(selector, label)`` and
    ``query_result(expr)``; None for forms that name no metric (``label_values(label)``)."""
    if _LABEL_VALUES_ONLY.match(query):
        return None
    for form in (_LABEL_VALUES, _QUERY_RESULT):
        found = form.match(query)
        if found:
            return found.group(1)
    return None


def exported_names(text: str) -> frozenset[str]:
    """Every series name a Prometheus text exposition holds or declares (a family with no
    sample yet is declared by its TYPE line: its names are those its type implies)."""
    found: set[str] = set()
    for family in text_string_to_metric_families(text):
        found.update(sample.name for sample in family.samples)
        if not family.samples:
            found.update(family.name + suffix for suffix in _SUFFIXES.get(family.type, ("",)))
    return frozenset(found)


def missing_names(expr: str, exported: Iterable[str]) -> list[str]:
    """The names ``expr`` selects that neither the exposition nor the scrape itself gives."""
    have = set(exported) | SCRAPE_SERIES
    found = metric_names(expr)
    missing = sorted(found.names - have)
    missing += [
        f"{{__name__=~{p!r}}}"
        for p in sorted(found.patterns)
        if not any(re.fullmatch(p, name) for name in have)
    ]
    return missing


def rate_interval(interval_s: float, scrape_s: float) -> float:
    """Grafana's ``$__rate_interval``: max(4 x scrape interval, $__interval + scrape interval)."""
    return max(4 * scrape_s, interval_s + scrape_s)


def interval(range_s: float, scrape_s: float, max_points: int | None) -> float:
    """Grafana's ``$__interval``: the range over the data points, at least the scrape
    interval (the data source's timeInterval); whole seconds, as Grafana rounds it."""
    points = max_points or 1000  # a wide panel: Grafana uses the panel's width in pixels
    return max(scrape_s, float(max(1, round(range_s / points))))


def builtins(
    range_s: float, scrape_s: float, max_points: int | None, minimum_s: float | None = None
) -> dict[str, str]:
    """Grafana's global variables for one panel; ``minimum_s``: the panel's own minimum
    interval, where it sets one (else the scrape interval is the minimum)."""
    step = interval(range_s, minimum_s or scrape_s, max_points)
    window = rate_interval(step, scrape_s)
    return {
        "__interval": seconds(step),
        "__interval_ms": str(round(step * 1000)),
        "__rate_interval": seconds(window),
        "__rate_interval_ms": str(round(window * 1000)),
        "__range": seconds(range_s),
        "__range_s": str(round(range_s)),
        "__range_ms": str(round(range_s * 1000)),
    }


def regex_of(values: Iterable[str]) -> str:
    """Grafana's Prometheus form of a multi-value variable: ``(a|b)``, each regex-escaped."""
    escaped = [re.sub(r"([\\^$.|?*+()\[\]{}])", r"\\\1", v) for v in values]
    return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"


def expand(expr: str, values: Mapping[str, str]) -> str:
    """``expr`` with every variable Grafana knows replaced; an unknown one is left as is."""

    def one(found: re.Match[str]) -> str:
        name = found.group(1) or found.group(3) or found.group(5)
        return values.get(name, found.group(0))

    return _VARIABLE.sub(one, expr)


def placeholders(expr: str, values: Mapping[str, str], scrape_s: float = 15.0) -> str:
    """``expr`` made parseable without a Prometheus: macros expanded for a one-hour range,
    every other variable a match-all regex (only names are read from it then)."""
    known = {**builtins(3600.0, scrape_s, None), **values}
    return _VARIABLE.sub(
        lambda m: known.get(m.group(1) or m.group(3) or m.group(5) or "", ".*"), expr
    )
