"""Schedules (crontabs, systemd timers, Kubernetes CronJobs read by croniter), log retention
(logrotate stanzas, find clean-ups) and the deploy script's shell checks."""

from __future__ import annotations

import functools
import math
import shutil
from pathlib import Path

import pytest

from harness.probes.opsfiles import (
    LogrotateError,
    check_backup_daily,
    check_log_retention,
    cleanup_kept_days,
    parse_logrotate,
)
from harness.probes.schedules import (
    Job,
    cronjob_jobs,
    crontab_jobs,
    daily_problem,
    schedule_sources,
    timer_jobs,
)
from harness.probes.shellscript import check_shell_script, shebang_problem


@pytest.mark.parametrize("schedule", ["0 2 * * *", "00 02 * * *", "0 2 * * 0-6", "0 2 1-31 * *"])
def test_daily_at_two(schedule: str) -> None:
    assert daily_problem(schedule, 2) is None


@pytest.mark.parametrize(
    ("schedule", "why"),
    [
        ("0 3 * * *", "runs at 03:00, not 02:00"),
        ("0 2 * * 1", "runs on 2 of 14 days"),
        ("*/5 2 * * *", "runs 12 times a day"),
        ("@daily", "runs at 00:00"),
        ("0 2 31 2 *", "never runs"),
        ("0 25 * * *", "not a cron schedule"),
    ],
)
def test_not_daily_at_two(schedule: str, why: str) -> None:
    assert why in (daily_problem(schedule, 2) or "")


def test_crontab_lines_in_user_and_system_format() -> None:
    text = (
        "SHELL=/bin/bash\n# comment\n@reboot ./start.sh\n"
        "0 2 * * * root /srv/scripts/backup.sh\n@weekly pg_dump db > x\nbroken line\n"
    )
    jobs, problems = crontab_jobs(text, "crontab")
    assert [(j.where, j.schedule) for j in jobs] == [
        ("crontab:4", "0 2 * * *"),
        ("crontab:5", "@weekly"),
    ]
    assert jobs[0].command == "root /srv/scripts/backup.sh"
    assert problems == ["crontab:6: not a cron line: broken line"]


CRONJOB = """\
apiVersion: batch/v1
kind: CronJob
metadata: {name: backup}
spec:
  schedule: "0 2 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
            - name: backup
              image: postgres:16-alpine
              command: ["sh", "-c"]
              args: ["pg_dump \\"$DATABASE_URL\\" > /backups/db.sql"]
"""


def test_kubernetes_cronjobs_and_suspended_ones(tmp_path: Path) -> None:
    (tmp_path / "backup.yaml").write_text(CRONJOB)
    jobs, problems = cronjob_jobs(tmp_path, "k8s")
    assert [(j.schedule, "pg_dump" in j.command) for j in jobs] == [("0 2 * * *", True)]
    assert not problems
    (tmp_path / "backup.yaml").write_text(
        CRONJOB.replace("spec:\n  schedule", "spec:\n  suspend: true\n  schedule")
    )
    jobs, problems = cronjob_jobs(tmp_path, "k8s")
    assert not jobs
    assert problems == ["k8s/backup.yaml#1 CronJob backup is suspended"]


@pytest.mark.parametrize(
    ("calendar", "schedule"),
    [("*-*-* 02:00:00", "0 2 * * *"), ("02:00", "0 2 * * *"), ("daily", "0 0 * * *")],
)
def test_systemd_timers(tmp_path: Path, calendar: str, schedule: str) -> None:
    (tmp_path / "backup.timer").write_text(f"[Timer]\nOnCalendar={calendar}\nPersistent=true\n")
    (tmp_path / "backup.service").write_text("[Service]\nExecStart=/srv/scripts/backup.sh\n")
    jobs, problems = timer_jobs(tmp_path / "backup.timer", "backup.timer")
    assert [(j.schedule, j.command) for j in jobs] == [(schedule, "/srv/scripts/backup.sh")]
    assert not problems


def test_an_unread_calendar_form_is_named(tmp_path: Path) -> None:
    (tmp_path / "b.timer").write_text("[Timer]\nOnCalendar=Mon..Fri *-*-* 02:00\n")
    assert timer_jobs(tmp_path / "b.timer", "b.timer")[1] == [
        "b.timer: OnCalendar=Mon..Fri *-*-* 02:00 is a form the harness does not read"
    ]


def test_sources_are_found_in_the_checkout_not_in_vendored_folders(tmp_path: Path) -> None:
    (tmp_path / "ops").mkdir()
    (tmp_path / "ops" / "crontab").write_text("0 2 * * * ./scripts/backup.sh\n")
    (tmp_path / "node_modules" / "x").mkdir(parents=True)
    (tmp_path / "node_modules" / "x" / "crontab").write_text("0 3 * * * ./scripts/backup.sh\n")
    jobs = [job for found, _ in schedule_sources(tmp_path, "k8s") for job in found]
    assert [job.where for job in jobs] == ["ops/crontab:1"]


def test_backup_daily_needs_a_backup_job_at_the_hour() -> None:
    backup = Job("crontab:1", "0 2 * * *", "./scripts/backup.sh")
    other = Job("crontab:2", "0 2 * * *", "./scripts/report.sh")
    judge = functools.partial(
        check_backup_daily, hour=2, backup_script="scripts/backup.sh", k8s_dir="k8s"
    )
    assert judge([other, backup], []).ok
    assert "no scheduled job runs backup.sh" in judge([other], []).summary()
    late = Job("crontab:1", "0 4 * * *", "pg_dump formulas")
    assert judge([late], []).problems == ("crontab:1: '0 4 * * *' runs at 04:00, not 02:00",)


@pytest.mark.parametrize(
    ("stanza", "kept"),
    [
        ("daily\nrotate 90", 90),
        ("weekly\nrotate 13", 91),
        ("daily\nrotate 365\nmaxage 90", 90),
        ("rotate -1\nmaxage 120", 120),
        ("daily\nrotate -1", math.inf),
        ("daily", 0),
        ("size 10M\nrotate 5", None),
    ],
)
def test_days_a_logrotate_stanza_keeps(stanza: str, kept: float | None) -> None:
    text = (
        "compress\n/var/log/app/*.log {\n" + stanza + "\npostrotate\n  kill -HUP 1\nendscript\n}\n"
    )
    [rotation] = parse_logrotate(text, "logrotate.conf")
    assert rotation.kept_days() == kept
    assert rotation.options["compress"] == []  # the global option applies


def test_global_options_and_paths_on_their_own_line() -> None:
    text = "weekly\nrotate 20\n/var/log/a.log\n/var/log/b.log\n{\n}\n"
    [rotation] = parse_logrotate(text, "x")
    assert (rotation.paths, rotation.kept_days()) == (["/var/log/a.log", "/var/log/b.log"], 140)


@pytest.mark.parametrize(
    "text",
    [
        "/a.log {\ndaily\n",
        "}\n",
        "/a.log {\n/b.log {\n}\n}\n",
        "{\n}\n",
        "/a.log {\nrotate ninety\n}\n",
        '"/a.log {\n}\n',
    ],
)
def test_a_broken_logrotate_file_is_one_line(text: str) -> None:
    with pytest.raises(LogrotateError) as info:
        parse_logrotate(text, "logrotate.conf")
    assert str(info.value).startswith("logrotate.conf")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("command", "kept"),
    [
        ("find /srv/logs -name '*.log' -mtime +89 -delete", 90),
        ("find /srv/logs -mtime +29 -exec rm {} +", 30),
        ("find /srv/logs -mtime +89 -print", None),
        ("./scripts/backup.sh", None),
    ],
)
def test_find_cleanups(command: str, kept: float | None) -> None:
    assert cleanup_kept_days(Job("c:1", "0 3 * * *", command)) == kept


def test_log_retention_wants_every_source_long_enough_and_bounded() -> None:
    [good] = parse_logrotate("/a.log {\ndaily\nrotate 90\n}\n", "l")
    [short] = parse_logrotate("/b.log {\ndaily\nrotate 30\n}\n", "l")
    [forever] = parse_logrotate("/c.log {\ndaily\nrotate -1\n}\n", "l")
    assert check_log_retention([good], [], [], days=90).ok
    assert "kept 30 days, not 90" in check_log_retention([good, short], [], [], days=90).summary()
    assert "never removed" in check_log_retention([forever], [], [], days=90).summary()
    assert "no log rotation found" in check_log_retention([], [], [], days=90).summary()
    cleanup = (Job("c:1", "0 3 * * *", "find"), 7.0)
    assert "keeps logs 7 days" in check_log_retention([good], [cleanup], [], days=90).summary()


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("#!/usr/bin/env bash", None),
        ("#!/bin/sh", None),
        ("#!/usr/bin/python3", "runs python3, not a shell"),
        ("set -e", "no shebang"),
    ],
)
def test_shebangs(line: str, problem: str | None) -> None:
    found = shebang_problem(line)
    if problem is None:
        assert found is None
    else:
        assert problem in (found or "")


def test_a_script_that_does_not_parse_or_run(tmp_path: Path) -> None:
    script = tmp_path / "deploy.sh"
    script.write_text("#!/usr/bin/env bash\nif true; then\n  echo x\n")
    script.chmod(0o644)
    found = check_shell_script(script, tmp_path)
    assert "not executable (chmod +x deploy.sh)" in found.problems
    assert any(p.startswith("bash -n: ") for p in found.problems), found.problems


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
def test_shellcheck_errors_fail_and_warnings_do_not(tmp_path: Path) -> None:
    script = tmp_path / "deploy.sh"
    script.write_text("#!/usr/bin/env bash\nunused=1\nrm -rf $@\n")  # SC2068 is an error
    script.chmod(0o755)
    found = check_shell_script(script, tmp_path)
    assert any(": SC" in problem for problem in found.problems), found.problems
    script.write_text("#!/usr/bin/env bash\nunused=1\necho ok\n")
    assert check_shell_script(script, tmp_path).ok
