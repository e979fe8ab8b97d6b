"""The parsers behind the operations checks of service settings: Prometheus' retention,
PostgreSQL's parameters and the backend's worker count (command, environment, Dockerfile)."""

from __future__ import annotations

import pytest

from harness.probes.servercmd import Workers, image_command, unwrap, worker_count
from harness.probes.service_settings import (
    SettingError,
    postgres_args,
    postgres_conf,
    postgres_time_ms,
    prometheus_duration_s,
    prometheus_retention,
)

DAY = 86400


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("15d", 15 * DAY), ("2w", 14 * DAY), ("1y2w", 379 * DAY), ("720h", 30 * DAY), ("0", 0)],
)
def test_prometheus_durations(text: str, seconds: float) -> None:
    assert prometheus_duration_s(text) == seconds


@pytest.mark.parametrize("text", ["", "15 days", "2d1w", "-1d", "1.5d"])
def test_prometheus_refuses_these_durations(text: str) -> None:
    with pytest.raises(SettingError):
        prometheus_duration_s(text)


@pytest.mark.parametrize(
    ("argv", "days"),
    [
        (["--config.file=x", "--storage.tsdb.retention.time=30d"], 30),
        (["--storage.tsdb.retention.time", "2w"], 14),
        (["--storage.tsdb.retention=10d"], 10),  # Prometheus 2's deprecated spelling
        (["--storage.tsdb.retention.time=1d", "--storage.tsdb.retention.time=8d"], 8),
        ([], 15),  # the default
        (["--storage.tsdb.retention.time=0"], 15),  # 0 is "not set"
        (["--storage.tsdb.retention.size=10GB"], None),  # a size alone: no time limit
        (["--storage.tsdb.retention.size=10GB", "--storage.tsdb.retention.time=3d"], 3),
    ],
)
def test_prometheus_retention(argv: list[str], days: float | None) -> None:
    assert prometheus_retention(argv).days == days


def test_postgres_command_line_settings() -> None:
    argv = ["postgres", "-c", "log_min_duration_statement=1s", "-cshared_buffers=1GB"]
    argv += ["--log-min-duration-statement=250", "-c", "config_file=/etc/pg.conf"]
    assert postgres_args(argv) == {
        "log_min_duration_statement": "250",
        "shared_buffers": "1GB",
        "config_file": "/etc/pg.conf",
    }


def test_postgres_conf() -> None:
    text = (
        "# log_min_duration_statement = 10\n"
        "log_min_duration_statement = 200ms   # slow ones\n"
        "listen_addresses '*'\n"
        "search_path = '\"$user\", public'\n"
        "Log_Min_Duration_Statement = '300ms'\n"
    )
    assert postgres_conf(text) == {
        "log_min_duration_statement": "300ms",
        "listen_addresses": "*",
        "search_path": '"$user", public',
    }


@pytest.mark.parametrize(
    ("text", "ms"),
    [("250", 250), ("250ms", 250), ("1s", 1000), ("0", 0), ("-1", -1), ("1min", 6e4)],
)
def test_postgres_times(text: str, ms: float) -> None:
    assert postgres_time_ms(text) == ms


@pytest.mark.parametrize("text", ["fast", "250 weeks", ""])
def test_postgres_refuses_these_times(text: str) -> None:
    with pytest.raises(SettingError):
        postgres_time_ms(text)


@pytest.mark.parametrize(
    ("argv", "env", "expected"),
    [
        (["uvicorn", "app.main:app", "--workers", "4"], {}, (4, "uvicorn", True)),
        (["/opt/venv/bin/uvicorn", "app:app", "--workers=6"], {}, (6, "uvicorn", True)),
        (["python", "-m", "uvicorn", "app:app"], {"WEB_CONCURRENCY": "5"}, (5, "uvicorn", False)),
        (["uvicorn", "app:app", "--workers", "4", "--reload"], {}, (1, "uvicorn", False)),
        (["uvicorn", "app:app"], {}, (1, "uvicorn", False)),
        (["sh", "-c", "exec gunicorn -w4 app:app"], {}, (4, "gunicorn", True)),
        (["gunicorn", "app:app"], {"GUNICORN_CMD_ARGS": "--workers=3"}, (3, "gunicorn", False)),
        (["gunicorn", "-c", "conf.py", "app:app"], {}, (None, "gunicorn", False)),
        (["hypercorn", "app:app"], {"WEB_CONCURRENCY": "8"}, (1, "hypercorn", False)),
        (["fastapi", "run", "--workers", "4"], {}, (4, "fastapi", True)),
        (["tini", "--", "uvicorn", "app:app", "--workers", "2"], {}, (2, "uvicorn", True)),
        (["python", "-m", "myserver", "--workers", "4"], {}, (4, "python", True)),
        (["python", "server.py"], {}, (None, "python", False)),
        (["uvicorn", "app:app", "--workers", "many"], {}, (None, "uvicorn", True)),
    ],
)
def test_worker_count(argv: list[str], env: dict[str, str], expected: tuple[object, ...]) -> None:
    workers: Workers = worker_count(argv, env)
    assert (workers.count, workers.program, workers.by_option) == expected


def test_a_shell_script_reads_as_its_words() -> None:
    assert unwrap(["/bin/sh", "-c", "exec uvicorn 'app:app' --workers 4"]) == [
        "uvicorn",
        "app:app",
        "--workers",
        "4",
    ]


def test_image_command_follows_stages_and_docker_rules() -> None:
    dockerfile = (
        "FROM python:3.12 AS base\n"
        "ENV WEB_CONCURRENCY=4 \\\n    OTHER=1\n"
        'CMD ["uvicorn", "app:app"]\n'
        "FROM base\n"
        "ENV LEGACY value with spaces\n"
    )
    image = image_command(dockerfile)
    assert image.cmd == ["uvicorn", "app:app"]
    assert image.env == {"WEB_CONCURRENCY": "4", "OTHER": "1", "LEGACY": "value with spaces"}
    # a new ENTRYPOINT drops the CMD it inherits; the shell form runs under /bin/sh -c
    later = image_command(dockerfile + "ENTRYPOINT gunicorn app:app\n")
    assert later.entrypoint == ["/bin/sh", "-c", "gunicorn app:app"]
    assert later.cmd is None
    assert image_command("FROM scratch\n").cmd is None
