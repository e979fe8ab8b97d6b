"""Operations configured in the repository: the daily backup's schedule and how long logs are
kept (logrotate stanzas and scheduled ``find -mtime +N -delete`` clean-ups)."""

from __future__ import annotations

import math
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from harness.probes.repo_findings import RepoFinding, finding
from harness.probes.schedules import Job, daily_problem, repository_files

_PERIOD_DAYS = {"hourly": 1 / 24, "daily": 1.0, "weekly": 7.0, "monthly": 30.0, "yearly": 365.0}
_SCRIPTS = ("postrotate", "prerotate", "firstaction", "lastaction", "preremove")
_SIZE_OPTIONS = ("size", "maxsize", "minsize")
_NUMERIC = ("rotate", "maxage")
_MTIME = re.compile(r"^\+(\d+)$")


def is_backup_job(job: Job, backup_script: str) -> bool:
    return Path(backup_script).name in job.command or "pg_dump" in job.command


def check_backup_daily(
    jobs: list[Job],
    unread: list[str],
    *,
    hour: int,
    backup_script: str,
    k8s_dir: str,
    rid: str = "OPS-BACKUP-DAILY",
) -> RepoFinding:
    """Some job that runs the backup (the script or pg_dump) fires once a day at hour:00."""
    backups = [job for job in jobs if is_backup_job(job, backup_script)]
    evidence = [f"{job.where}: {job.schedule} {job.command}" for job in backups]
    if not backups:
        return finding(
            rid,
            [
                f"no scheduled job runs {Path(backup_script).name} or pg_dump (looked in "
                f"crontab files, *.cron, cron.d/, systemd timers and CronJobs in {k8s_dir}/; "
                "set --param k8s_dir=DIR or --param backup_script=PATH if they live elsewhere)",
                *unread,
            ],
            evidence,
        )
    problems = []
    for job in backups:
        why = daily_problem(job.schedule, hour)
        if why is None:
            return finding(rid, [], evidence)
        problems.append(f"{job.where}: {why}")
    return finding(rid, problems + unread, evidence)


@dataclass
class Rotation:
    """One logrotate stanza: its paths and its options (the global ones it inherits
    included); the last value of an option wins, as in logrotate."""

    where: str
    paths: list[str]
    options: dict[str, list[str]] = field(default_factory=dict)

    def kept_days(self) -> float | None:
        """Days a log survives: the smaller of maxage and rotate x period (math.inf when
        nothing removes it); None when it rotates by size only and no day count follows."""
        periods = [p for p in _PERIOD_DAYS if p in self.options]
        rotate = int((self.options.get("rotate") or ["0"])[0])
        maxage = self.options.get("maxage")
        by_age = float(maxage[0]) if maxage else math.inf
        if periods:
            period = _PERIOD_DAYS[periods[-1]]
        elif any(option in self.options for option in _SIZE_OPTIONS):
            return by_age if maxage else None
        else:
            period = 1.0  # no criterion: rotated on every run, daily from cron
        by_count = math.inf if rotate < 0 else rotate * period
        return min(by_count, by_age)


class LogrotateError(ValueError):
    """The file does not parse as logrotate reads it; the message is one line."""


def is_logrotate(path: Path) -> bool:
    return (
        path.name == "logrotate.conf"
        or path.suffix == ".logrotate"
        or (path.parent.name == "logrotate.d")
    )


def _words(line: str, where: str) -> list[str]:
    try:
        return shlex.split(line)
    except ValueError as exc:  # an unclosed quote
        raise LogrotateError(f"{where}: {exc}") from None


class _LogrotateReader:
    """logrotate's grammar, a line at a time: global options, path lines, ``{ }`` blocks and
    the scripts inside them (skipped up to ``endscript``)."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.defaults: dict[str, list[str]] = {}
        self.stanzas: list[Rotation] = []
        self.current: Rotation | None = None
        self.pending: list[str] = []
        self.in_script = False

    def open(self, line: str, at: str) -> None:
        if self.current is not None:
            raise LogrotateError(f"{at}: a block opens inside another")
        paths = _words(line[:-1], at) or self.pending
        if not paths:
            raise LogrotateError(f"{at}: a block without log paths")
        self.current, self.pending = Rotation(at, paths, dict(self.defaults)), []

    def close(self, at: str) -> None:
        if self.current is None:
            raise LogrotateError(f"{at}: '}}' closes no block")
        self.stanzas.append(self.current)
        self.current = None

    def feed(self, line: str, at: str) -> None:
        words = line.split()
        if self.in_script:
            self.in_script = line != "endscript"
        elif not words or line.startswith("#"):
            return
        elif line.endswith("{"):
            self.open(line, at)
        elif line == "}":
            self.close(at)
        elif words[0] in _SCRIPTS:
            self.in_script = True
        elif self.current is not None:
            if words[0] in _NUMERIC and not re.fullmatch(r"-?\d+", "".join(words[1:2])):
                raise LogrotateError(f"{at}: {words[0]} needs a whole number, not {line!r}")
            self.current.options[words[0]] = words[1:]
        elif line.startswith(("/", "~", '"')) or "*" in words[0]:
            self.pending += _words(line, at)
        else:
            self.defaults[words[0]] = words[1:]


def parse_logrotate(text: str, where: str) -> list[Rotation]:
    """The stanzas of a logrotate configuration, global options applied to the later ones."""
    reader = _LogrotateReader(where)
    for number, raw in enumerate(text.splitlines(), start=1):
        reader.feed(raw.strip(), f"{where}:{number}")
    if reader.current is not None:
        raise LogrotateError(f"{where}: the block at {reader.current.where} is never closed")
    return reader.stanzas


def cleanup_kept_days(job: Job) -> float | None:
    """Days a ``find DIR -mtime +N -delete`` clean-up keeps files (N + 1), else None."""
    try:
        argv = shlex.split(job.command)
    except ValueError:
        return None
    if "find" not in [w.rsplit("/", 1)[-1] for w in argv]:
        return None
    if "-delete" not in argv and not ("-exec" in argv and "rm" in argv):
        return None
    ages = [_MTIME.match(argv[i + 1]) for i, w in enumerate(argv[:-1]) if w == "-mtime"]
    # -mtime +N matches files whose age in whole days is over N: kept N + 1 days
    return float(int(ages[-1].group(1)) + 1) if ages and ages[-1] else None


def logrotate_files(root: Path) -> list[Path]:
    return repository_files(root, is_logrotate)


def check_log_retention(
    rotations: list[Rotation],
    cleanups: list[tuple[Job, float]],
    problems: list[str],
    *,
    days: int,
    rid: str = "OPS-LOG-RETENTION",
) -> RepoFinding:
    """Every rotation and clean-up found keeps logs at least ``days`` and removes them after."""
    evidence = [f"{job.where}: {job.command} keeps {kept:g} days" for job, kept in cleanups]
    if not rotations and not cleanups:
        problems = [
            "no log rotation found: no logrotate file (logrotate.conf, *.logrotate, "
            "logrotate.d/) and no scheduled find -mtime +N -delete clean-up",
            *problems,
        ]
        return finding(rid, problems, evidence)
    for rotation in rotations:
        kept = rotation.kept_days()
        paths = " ".join(rotation.paths)
        if kept is None:
            problems.append(
                f"{rotation.where}: {paths} rotate by size only, so no day count is known "
                "(add daily with rotate, or maxage)"
            )
            continue
        evidence.append(f"{rotation.where}: {paths} kept {kept:g} days")
        if kept == math.inf:
            problems.append(f"{rotation.where}: {paths} are never removed (no rotate or maxage)")
        elif kept < days:
            problems.append(f"{rotation.where}: {paths} are kept {kept:g} days, not {days}")
    problems += [
        f"{job.where}: the clean-up keeps logs {kept:g} days, not {days}"
        for job, kept in cleanups
        if kept < days
    ]
    return finding(rid, problems, evidence)
