"""Settings that a service's command line (or its configuration file) gives a server: how long
Prometheus keeps its metrics, and PostgreSQL's parameters (``-c name=value``,
``postgresql.conf``), read as the servers read them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

RETENTION_TIME = "--storage.tsdb.retention.time"
RETENTION_SIZE = "--storage.tsdb.retention.size"
_RETENTION_OLD = "--storage.tsdb.retention"  # Prometheus 2's deprecated spelling of .time
PROMETHEUS_DEFAULT_DAYS = 15.0
# Prometheus' model.ParseDuration: units in this order, each at most once; a year is 365 days
_PROM_UNITS = (("y", 365 * 86400), ("w", 7 * 86400), ("d", 86400), ("h", 3600), ("m", 60))
_PROM_DURATION = re.compile(
    r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$"
)
# PostgreSQL's time units; a bare number is in the parameter's own unit
_PG_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "min": 60000.0, "h": 3600000.0, "d": 86400000.0}
_CONF_LINE = re.compile(r"^\s*([A-Za-z_][\w.-]*)\s*(?:=\s*|\s+)('(?:[^']|'')*'|[^\s#']+)")
_PG_VALUE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*([a-z]*)\s*$")


class SettingError(ValueError):
    """A value the server would refuse; the message says which and why."""


def flag_values(argv: Sequence[str], flag: str) -> list[str]:
    """Every value given to ``flag`` (``--flag=value`` or ``--flag value``), in order."""
    values = []
    for index, word in enumerate(argv):
        if word.startswith(flag + "="):
            values.append(word[len(flag) + 1 :])
        elif word == flag and index + 1 < len(argv):
            values.append(argv[index + 1])
    return values


def prometheus_duration_s(text: str) -> float:
    """A Prometheus duration (``15d``, ``1y2w``, ``720h``) in seconds."""
    if text.strip() == "0":
        return 0.0
    match = _PROM_DURATION.match(text.strip())
    if not text.strip() or not match:
        raise SettingError(f"{text!r} is not a Prometheus duration (like 15d, 2w, 720h)")
    parts = [int(g) if g else 0 for g in match.groups()]
    seconds = sum(n * size for n, (_, size) in zip(parts, _PROM_UNITS, strict=False))
    return seconds + parts[5] + parts[6] / 1000


@dataclass(frozen=True)
class Retention:
    """How long Prometheus keeps samples: ``days`` None means no time limit at all."""

    days: float | None
    source: str


def prometheus_retention(argv: Sequence[str]) -> Retention:
    """The time retention the flags give Prometheus (the last value of a flag wins, as in
    kingpin); 15 days when neither a time nor a size is set; no time limit with a size only."""
    times = flag_values(argv, RETENTION_TIME) or flag_values(argv, _RETENTION_OLD)
    sizes = flag_values(argv, RETENTION_SIZE)
    if times:
        seconds = prometheus_duration_s(times[-1])
        flag = RETENTION_TIME if flag_values(argv, RETENTION_TIME) else _RETENTION_OLD
        # 0 is "not set": the default applies, or none beside a size
        if seconds > 0:
            return Retention(seconds / 86400, f"{flag}={times[-1]}")
    if sizes:
        return Retention(None, f"{RETENTION_SIZE}={sizes[-1]} and no time")
    return Retention(PROMETHEUS_DEFAULT_DAYS, "Prometheus' default (no retention flag)")


def _setting_name(text: str) -> str:
    return text.strip().lower().replace("-", "_")


def postgres_args(argv: Sequence[str]) -> dict[str, str]:
    """Parameters the ``postgres`` command line sets: ``-c name=value``, ``-cname=value``,
    ``--name=value``; the last one wins."""
    found: dict[str, str] = {}
    for index, word in enumerate(argv):
        setting = None
        if word == "-c" and index + 1 < len(argv):
            setting = argv[index + 1]
        elif word.startswith(("-c", "--")) and "=" in word:
            setting = word[2:]
        if setting and "=" in setting:
            name, _, value = setting.partition("=")
            found[_setting_name(name)] = value
    return found


def postgres_conf(text: str) -> dict[str, str]:
    """Parameters of a ``postgresql.conf`` (``name = value`` or ``name value``, ``#``
    comments, quoted values); the last one wins. Include directives are not followed."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        match = _CONF_LINE.match(line)
        if match:
            value = match.group(2)
            if value.startswith("'"):
                value = value[1:-1].replace("''", "'")
            found[_setting_name(match.group(1))] = value
    return found


def postgres_time_ms(text: str) -> float:
    """A PostgreSQL time parameter whose unit is ms (``250``, ``250ms``, ``1s``) in ms."""
    match = _PG_VALUE.match(text.lower())
    if not match or match.group(2) not in ("", *_PG_UNITS):
        raise SettingError(f"{text!r} is not a time PostgreSQL accepts (like 250ms or 1s)")
    return float(match.group(1)) * _PG_UNITS.get(match.group(2) or "ms", 1.0)
