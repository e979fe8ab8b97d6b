"""The parsers behind the operations checks of logs and schedules: nginx's access logs
(crossplane) and the CI workflow's scheduled load test (croniter)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from harness.probes.load_schedule import (
    CronError,
    check_load_test_schedule,
    cron_expressions,
    longest_gap,
)
from harness.probes.nginx_logs import access_log_findings, missing_fields
from harness.probes.nginxconf import NginxConfigError
from harness.probes.nginxconf import parse_config as parse_nginx
from harness.probes.workflow_model import load_document, parse_workflow

FORMAT = "log_format access '$remote_addr [$time_local] \"$request\" $status';\n"
SERVER = "server {\n    listen 8080;\n%s    location / { root /srv; }\n}\n"


def _findings(tmp_path: Path, text: str) -> tuple[list[str], list[str]]:
    path = tmp_path / "nginx.conf"
    path.write_text(text)
    return access_log_findings(parse_nginx(path))


@pytest.mark.parametrize(
    "text",
    [
        FORMAT + SERVER % "    access_log /var/log/nginx/access.log access;\n",
        SERVER % "    access_log /dev/stdout;\n",  # no format: nginx's combined
        SERVER % "    access_log /dev/stdout combined buffer=32k;\n",
        # the http context's log is inherited by the server
        FORMAT + "access_log /dev/stdout access;\n" + SERVER % "",
        # a complete nginx.conf without access_log: nginx's default, logs/access.log combined
        "events {}\nhttp {\n" + SERVER % "" + "}\n",
        # an exact health location may stay quiet
        SERVER % "    access_log /dev/stdout;\n    location = /health { access_log off; }\n",
        "log_format iso '$realip_remote_addr $time_iso8601 $request_method $request_uri $status';"
        + SERVER % "    access_log /dev/stdout iso;\n",
    ],
)
def test_access_logs_that_record_each_request(tmp_path: Path, text: str) -> None:
    problems, evidence = _findings(tmp_path, text)
    assert problems == []
    assert evidence


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (SERVER % "    access_log off;\n", "access_log off"),
        (FORMAT + "access_log off;\n" + SERVER % "", "access_log off"),
        (SERVER % "    access_log /dev/null;\n", "writes to /dev/null"),
        (SERVER % "    access_log /dev/stdout main;\n", "format 'main', which no log_format"),
        (
            "log_format short '$remote_addr $request';\n"
            + SERVER % "    access_log /dev/stdout short;\n",
            "does not record the time, status",
        ),
        (SERVER % "", "decided by the image's main nginx.conf"),
        (
            SERVER.replace("root /srv;", "access_log off;") % "    access_log /dev/stdout;\n",
            "location / turns access_log off",
        ),
        ("events {}\nhttp {}\n", "no server block"),
    ],
)
def test_access_logs_that_do_not(tmp_path: Path, text: str, problem: str) -> None:
    problems, _ = _findings(tmp_path, text)
    assert any(problem in p for p in problems), problems


def test_missing_fields_reads_braced_variables() -> None:
    assert missing_fields("${remote_addr} $msec ${request} ${status}") == []
    assert missing_fields("$remote_addr $request_method $status") == ["time", "request line"]


def test_an_unparsable_nginx_file_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "nginx.conf"
    path.write_text("server {\n    listen 8080;\n")
    with pytest.raises(NginxConfigError) as caught:
        parse_nginx(path)
    assert "\n" not in str(caught.value)
    assert "line" in str(caught.value)


@pytest.mark.parametrize(
    ("expressions", "gap"),
    [
        (["0 3 * * 1"], timedelta(days=7)),
        (["0 3 * * 1", "0 3 * * 4"], timedelta(days=4)),
        (["*/30 * * * *"], timedelta(minutes=30)),
        (["0 3 1 * *"], timedelta(days=31)),
        (["0 0 1-7 * 1"], timedelta(days=7)),  # day or weekday, as POSIX cron reads both
        (["0 0 29 2 *"], timedelta(days=1461)),
    ],
)
def test_longest_gap_between_runs(expressions: list[str], gap: timedelta) -> None:
    assert longest_gap(expressions) == gap


@pytest.mark.parametrize("expression", ["0 3 * *", "0 0 3 * * 1", "61 3 * * *", "0 0 30 2 *"])
def test_cron_github_would_refuse(expression: str) -> None:
    with pytest.raises(CronError):
        longest_gap([expression])


WORKFLOW = """
on:
  push:
    branches: [main]
  schedule:
    - cron: "%s"
jobs:
  tests:
    runs-on: ubuntu-latest
    if: github.event_name != 'schedule'
    steps:
      - run: pytest
  load:
    runs-on: ubuntu-latest
    if: %s
    steps:
      - run: pip install locust
      - run: %s
"""
LOCUST = "locust -f backend/tests/load/locustfile.py --headless --run-time 10m"


def _check(cron: str = "0 3 * * 1", condition: str = "true", run: str = LOCUST) -> list[str]:
    workflow = parse_workflow(load_document(WORKFLOW % (cron, condition, run)))
    found = check_load_test_schedule(
        workflow, load_test_dir="backend/tests/load", default_branch="main", max_interval_days=7
    )
    return list(found.problems)


def test_a_weekly_scheduled_load_test_passes() -> None:
    assert _check() == []
    assert _check(condition="github.event_name == 'schedule'") == []
    assert _check(run="./backend/tests/load/run.sh baseline") == []
    assert _check(run="python -m locust --headless -f x.py") == []


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"cron": "0 3 1 * *"}, "leaves up to 31 days between runs"),
        ({"cron": "0 3 * *"}, "not five fields"),
        ({"condition": "github.event_name == 'push'"}, "can be shown to run on a schedule"),
        ({"run": "echo locust is for later"}, "no step runs locust"),
        ({"run": "locust -f backend/tests/load/locustfile.py"}, "without --headless"),
    ],
)
def test_a_load_test_schedule_that_fails(kwargs: dict[str, str], problem: str) -> None:
    problems = _check(**kwargs)
    assert any(problem in p for p in problems), problems


def test_a_workflow_without_a_schedule() -> None:
    workflow = parse_workflow(load_document("on: push\njobs: {a: {steps: [{run: locust}]}}"))
    assert cron_expressions(workflow.triggers) == []
    found = check_load_test_schedule(
        workflow, load_test_dir="backend/tests/load", default_branch="main", max_interval_days=7
    )
    assert found.problems == ("the workflow has no schedule: trigger with a cron",)
