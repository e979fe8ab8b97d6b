"""The probes of the fault checks: timing a change against a bound, the write load's verdict
on every write, and the embedded target telling a recovery from a restart."""

from __future__ import annotations

import json
from collections.abc import Callable
from itertools import count

import httpx
import pytest

from harness.errors import UnexpectedAnswer
from harness.probes import write_load
from harness.probes.outages import wait_until
from harness.probes.write_load import WriteLoad
from harness.targets.embedded import EmbeddedTarget


class FakeClock:
    def __init__(self, step: float) -> None:
        self.now = 0.0
        self.step = step

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_wait_until_measures_the_change_from_the_call() -> None:
    clock = FakeClock(0.25)
    answers = iter([200, 200, 503])
    waited = wait_until(
        lambda: next(answers), lambda s: s == 503, 10, clock=clock, sleep=clock.sleep
    )
    assert (waited.last, waited.elapsed_s, waited.polls) == (503, 0.5, 3)
    assert waited.within_bound
    assert waited.as_dict() == {"bound_s": 10, "measured_s": 0.5, "polls": 3}
    assert waited.late() == "; it came after 0.5 s"


def test_wait_until_gives_up_at_the_bound() -> None:
    clock = FakeClock(1.0)
    waited = wait_until(
        lambda: 200, lambda s: s == 503, 2, interval_s=1, clock=clock, sleep=clock.sleep
    )
    assert waited.elapsed_s is None
    assert not waited.within_bound
    assert waited.polls == 3  # at 0, 1 and 2 s
    assert waited.late() == ""


def test_a_change_seen_past_the_bound_is_not_within_it() -> None:
    times = iter([0.0, 12.5])  # the one poll answered only after 12.5 s
    waited = wait_until(lambda: 503, lambda s: s == 503, 10, clock=lambda: next(times))
    assert waited.elapsed_s == 12.5
    assert not waited.within_bound


# what the fake API answers to the n-th write, and what it reads back per id
Answer = Callable[[int, dict[str, str]], httpx.Response]


def _api(answers: dict[int, Answer], stored: dict[str, dict[str, str]]) -> httpx.MockTransport:
    writes = count(1)

    def handle(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            n = next(writes)
            body = json.loads(request.content)
            answer = answers.get(n)
            if answer is not None:
                return answer(n, body)
            stored[str(n)] = body
            return httpx.Response(201, json={"id": n, **body})
        ident = request.url.path.rsplit("/", 1)[1]
        if ident not in stored:
            return httpx.Response(404, json={"detail": "not found"})
        return httpx.Response(200, json={"id": int(ident), **stored[ident]})

    return httpx.MockTransport(handle)


def _timeout(n: int, body: dict[str, str]) -> httpx.Response:
    raise httpx.ReadTimeout("timed out")


def _run_load(transport: httpx.MockTransport, writes: int) -> WriteLoad:
    client = httpx.Client(transport=transport, base_url="http://api")
    load = WriteLoad(client, "/api/v1/formulas", "t", timeout_s=1)
    with load:
        wait_until(lambda: load.attempts_since(0), lambda n: n >= writes, 5)
    return load


@pytest.fixture(autouse=True)
def _fast_load(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(write_load, "INTERVAL_S", 0.0)


def test_write_load_sorts_every_write_and_finds_the_lost_ones() -> None:
    stored: dict[str, dict[str, str]] = {}
    answers: dict[int, Answer] = {
        2: lambda n, body: httpx.Response(503, json={"detail": "database unavailable"}),
        3: lambda n, body: httpx.Response(500, text="Internal Server Error"),
        4: _timeout,
        # acknowledged, never stored: lost
        5: lambda n, body: httpx.Response(201, json={"id": 5, **body}),
        6: lambda n, body: httpx.Response(429, json={"detail": "slow down"}),
    }
    load = _run_load(_api(answers, stored), writes=8)
    stored["1"] = {**stored["1"], "expression": "changed"}
    report = load.verify()
    assert report.lost == ["5"]
    assert report.changed == {"1": {k: stored["1"][k] for k in write_load.COMPARED}}
    assert [u.split(":")[0] for u in report.unclean] == ["write 3", "write 4"]
    assert report.outcomes()["503"] == 1
    assert report.refused == 3  # 503, 500 and the timeout; a 429 is neither
    summary = report.as_dict()
    assert summary["lost"] == 2
    assert summary["acknowledged"] == len(report.acknowledged)


def test_write_load_of_a_healthy_api_loses_nothing() -> None:
    load = _run_load(_api({}, {}), writes=5)
    report = load.verify()
    assert not report.lost
    assert not report.changed
    assert not report.unclean
    assert report.acknowledged_since(0) == len(report.acknowledged) >= 5


def test_an_answer_that_cannot_be_read_back_is_unexpected() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(201, json={"id": 1, **json.loads(request.content)})
        return httpx.Response(401, json={"detail": "log in"})

    load = _run_load(httpx.MockTransport(handle), writes=1)
    with pytest.raises(UnexpectedAnswer, match="401"):
        load.verify()


def test_embedded_target_tells_recovery_from_restart() -> None:
    target = EmbeddedTarget(use_redis=False, use_frontend=False).start_all()
    try:
        first = target.incarnation("backend")
        assert isinstance(first["pid"], int)
        with target.outage("database"):
            pass
        assert target.incarnation("backend") == first
        with target.outage("backend"):
            assert target.incarnation("backend") == {"pid": None}
        assert target.incarnation("backend")["pid"] not in (None, first["pid"])
        with pytest.raises(KeyError, match="cannot tell restarts"):
            target.incarnation("database")
    finally:
        target.close()
