"""The middleware benchmark's options, generator choice and output readers (no server, no load)."""

from __future__ import annotations

import json
import shutil

import pytest

from benchmarks import http_load
from benchmarks.http_load import WRK_MISSING, LoadError, Run, choose, parse_locust, parse_wrk
from benchmarks.security_middleware import main, parse_args

WRK_OUTPUT = """\
Running 3s test @ http://127.0.0.1:8000/health
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    92.89ms   49.57ms 567.22ms   70.39%
    Req/Sec   353.88     69.27   500.00     74.09%
  1063 requests in 3.02s, 2.33MB read
{extra}Requests/sec:    352.34
Transfer/sec:    798.28KB
"""


def _no_wrk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)


def test_defaults_and_positive_numbers() -> None:
    args = parse_args([])
    assert (args.seconds, args.rounds, args.generator, args.limiter) == (5, 4, "auto", "exempt")
    assert not args.together
    with pytest.raises(SystemExit) as stopped:
        parse_args(["--rounds", "0"])
    assert stopped.value.code == 2


def test_missing_wrk_is_one_line_saying_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _no_wrk(monkeypatch)
    assert main(["--generator", "wrk"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == WRK_MISSING
    assert "apt-get install wrk" in err


def test_auto_falls_back_to_locust_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    _no_wrk(monkeypatch)
    generator, note = choose("auto", 32, 1, 3)
    assert (generator.name, generator.processes) == ("locust", 3)
    assert note.startswith(WRK_MISSING)
    monkeypatch.setattr(shutil, "which", lambda name: "/usr/bin/wrk")
    assert choose("auto", 32, 1, 3) == (http_load.Generator("wrk", 32, 1, 3), "")
    assert choose("locust", 32, 1, 3)[0].name == "locust"
    with pytest.raises(LoadError, match="unknown generator"):
        choose("ab", 32, 1, 3)


@pytest.mark.parametrize(
    ("extra", "errors"),
    [
        ("", 0),
        ("  Non-2xx or 3xx responses: 7\n", 7),
        # a read error is a keep-alive closed by the server, not a failed request
        ("  Socket errors: connect 1, read 40, write 2, timeout 3\n", 6),
        (
            "  Socket errors: connect 0, read 1, write 0, timeout 0\n"
            "  Non-2xx or 3xx responses: 2\n",
            2,
        ),
    ],
)
def test_wrk_summary(extra: str, errors: int) -> None:
    assert parse_wrk(WRK_OUTPUT.format(extra=extra)) == Run(352.34, 1063, errors)


def test_wrk_without_summary_is_an_error() -> None:
    with pytest.raises(LoadError, match="no summary: unable to connect"):
        parse_wrk("unable to connect to 127.0.0.1:1 Connection refused\n")


def test_locust_json() -> None:
    entries = [
        {
            "num_requests": 900,
            "num_failures": 2,
            "start_time": 10.0,
            "last_request_timestamp": 13.0,
        },
        {
            "num_requests": 300,
            "num_failures": 0,
            "start_time": 10.5,
            "last_request_timestamp": 12.0,
        },
    ]
    assert parse_locust(json.dumps(entries)) == Run(400.0, 1200, 2)
    # --processes: each worker prints an empty list before the master prints the totals
    assert parse_locust("[]\n[]\n" + json.dumps(entries, indent=4)) == Run(400.0, 1200, 2)
    with pytest.raises(LoadError, match="unreadable"):
        parse_locust("[{}]")
    with pytest.raises(LoadError, match="no requests"):
        parse_locust("[]")
