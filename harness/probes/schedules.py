"""Scheduled jobs of a repository, where they are configured: crontab files, systemd timers
and Kubernetes CronJobs. Schedules are read by croniter (a cron parser), so ``0 2 * * *``,
``00 02 * * *`` and ``0 2 * * 0-6`` are the same schedule and ``*/5 2 * * *`` is not."""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from croniter import croniter

from harness.probes.k8s import load_manifests

# directories a checkout holds that are not the team's configuration
_SKIPPED_DIRS = {"node_modules", "venv", "__pycache__", "site-packages", "dist", "build"}
_ENV_LINE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\s*=")
_WINDOW_DAYS = 14  # two weeks: any day-of-week restriction shows
_MAX_RUNS = 200
# a Monday at midnight: the judgement does not depend on the day the harness runs
_BASE = datetime(2026, 1, 5)
_ON_CALENDAR = re.compile(r"^(?:\*-\*-\*\s+)?(\d{1,2}):(\d{2})(?::(\d{2}))?$")
_CALENDAR_SHORTHANDS = {"daily": "0 0 * * *", "midnight": "0 0 * * *", "hourly": "0 * * * *"}


@dataclass(frozen=True)
class Job:
    """One scheduled command: where it is configured, its cron schedule and its command."""

    where: str
    schedule: str
    command: str


def repository_files(root: Path, wanted: Callable[[Path], bool]) -> list[Path]:
    """Files of the checkout that ``wanted`` accepts, hidden and vendored folders skipped."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIPPED_DIRS)
        found += [Path(folder) / name for name in sorted(files) if wanted(Path(folder) / name)]
    return found


def is_crontab(path: Path) -> bool:
    return (
        path.name == "crontab"
        or path.suffix in (".cron", ".crontab")
        or path.parent.name in ("cron.d", "crontabs")
    )


def crontab_jobs(text: str, where: str) -> tuple[list[Job], list[str]]:
    """The jobs of a crontab (user or system format), and its lines that are no schedule."""
    jobs, problems = [], []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#") or _ENV_LINE.match(line) or line.startswith("@reboot"):
            continue
        fields = line.split(None, 1) if line.startswith("@") else line.split(None, 5)
        count = 1 if line.startswith("@") else 5
        schedule, command = " ".join(fields[:count]), " ".join(fields[count:])
        if len(fields) <= count or not croniter.is_valid(schedule):
            problems.append(f"{where}:{number}: not a cron line: {line[:80]}")
            continue
        jobs.append(Job(f"{where}:{number}", schedule, command))
    return jobs, problems


def cronjob_jobs(k8s_dir: Path, label: str) -> tuple[list[Job], list[str]]:
    """The Kubernetes CronJobs of a manifests directory (suspended ones are not scheduled)."""
    if not k8s_dir.is_dir():
        return [], []
    manifests, problems = load_manifests(k8s_dir)
    jobs = []
    for manifest in (m for m in manifests if m.kind == "CronJob"):
        spec = manifest.body.get("spec")
        where = f"{label}/{manifest.label} CronJob {manifest.name}"
        if not isinstance(spec, dict):
            problems.append(f"{where} has no spec")
            continue
        if spec.get("suspend"):
            problems.append(f"{where} is suspended")
            continue
        argv = [
            str(word)
            for container in _containers(spec)
            for word in [*(container.get("command") or []), *(container.get("args") or [])]
        ]
        jobs.append(Job(where, str(spec.get("schedule", "")), " ".join(argv)))
    return jobs, problems


def _containers(cronjob_spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The containers of a CronJob's pod template; an ill-shaped one has none."""
    node: Any = cronjob_spec
    for key in ("jobTemplate", "spec", "template", "spec", "containers"):
        node = node.get(key) if isinstance(node, dict) else None
    return [c for c in node if isinstance(c, dict)] if isinstance(node, list) else []


def _unit_values(text: str, key: str) -> list[str]:
    prefix = f"{key}="
    lines = (line.strip() for line in text.splitlines())
    return [line[len(prefix) :].strip() for line in lines if line.startswith(prefix)]


def timer_jobs(timer: Path, label: str) -> tuple[list[Job], list[str]]:
    """A systemd timer's OnCalendar (the daily ``*-*-* HH:MM`` forms) and its service's
    ExecStart; other calendar forms are named as unread, not guessed."""
    text = timer.read_text(encoding="utf-8", errors="replace")
    unit = (_unit_values(text, "Unit") or [f"{timer.stem}.service"])[-1]
    service = timer.with_name(unit)
    command = " ".join(
        _unit_values(service.read_text(encoding="utf-8", errors="replace"), "ExecStart")
        if service.is_file()
        else []
    )
    jobs, problems = [], []
    for value in _unit_values(text, "OnCalendar"):
        match = _ON_CALENDAR.match(value)
        if value in _CALENDAR_SHORTHANDS:
            jobs.append(Job(f"{label} OnCalendar={value}", _CALENDAR_SHORTHANDS[value], command))
        elif match and int(match.group(3) or 0) == 0:
            hour, minute = int(match.group(1)), int(match.group(2))
            jobs.append(Job(f"{label} OnCalendar={value}", f"{minute} {hour} * * *", command))
        else:
            problems.append(f"{label}: OnCalendar={value} is a form the harness does not read")
    return jobs, problems


def runs(schedule: str, days: int = _WINDOW_DAYS) -> list[datetime]:
    """The firings of a cron schedule over ``days`` days (at most a few hundred)."""
    if not croniter.is_valid(schedule):
        return []
    found: list[datetime] = []
    end = _BASE + timedelta(days=days)
    it = croniter(schedule, _BASE - timedelta(seconds=1))
    while len(found) < _MAX_RUNS:
        try:
            fired = it.get_next(datetime)
        except ValueError:  # croniter: no such date (the 31st of February)
            break
        if fired >= end:
            break
        found.append(fired)
    return found


def daily_problem(schedule: str, hour: int) -> str | None:
    """Why ``schedule`` is not "once a day, every day, at hour:00"; None when it is."""
    if not croniter.is_valid(schedule):
        return f"{schedule!r} is not a cron schedule"
    fired = runs(schedule)
    if not fired:
        return f"{schedule!r} never runs"
    per_day = Counter(f.date() for f in fired)
    if len(per_day) < _WINDOW_DAYS:
        return f"{schedule!r} runs on {len(per_day)} of {_WINDOW_DAYS} days, not daily"
    if max(per_day.values()) > 1:
        return f"{schedule!r} runs {max(per_day.values())} times a day, not once"
    times = sorted({f"{f:%H:%M}" for f in fired})
    if times != [f"{hour:02d}:00"]:
        return f"{schedule!r} runs at {', '.join(times)}, not {hour:02d}:00"
    return None


def schedule_sources(root: Path, k8s_dir: str) -> Iterator[tuple[list[Job], list[str]]]:
    """Every scheduled job of the checkout: crontabs, systemd timers, Kubernetes CronJobs."""
    for path in repository_files(root, lambda p: is_crontab(p) or p.suffix == ".timer"):
        label = str(path.relative_to(root))
        if path.suffix == ".timer":
            yield timer_jobs(path, label)
        else:
            yield crontab_jobs(path.read_text(encoding="utf-8", errors="replace"), label)
    yield cronjob_jobs(root / k8s_dir, k8s_dir)
