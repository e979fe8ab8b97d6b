"""A client that keeps writing while a deploy runs: every write the deployment acknowledges
(2xx) must still be there afterwards, and the longest run of failed writes is the downtime a
user saw. Rate-limit answers (429) are neither acknowledged nor downtime; they are counted."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from harness.errors import HarnessError

INTERVAL_S = 0.2


class DrillLookupError(HarnessError):
    """An acknowledged write cannot be looked up (the route does not answer as expected)."""


@dataclass
class WriteReport:
    """What the writer saw: acknowledged ids, failures, the longest outage."""

    acknowledged: list[str] = field(default_factory=list)
    attempts: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    downtime_s: float = 0.0
    lost: list[str] = field(default_factory=list)
    unverifiable: int = 0  # acknowledged without an id to look it up by

    def summary(self) -> str:
        seen = ", ".join(f"{k} x{v}" for k, v in sorted(self.outcomes.items()))
        return (
            f"{len(self.acknowledged)} of {self.attempts} writes acknowledged ({seen}); "
            f"{len(self.lost)} lost; longest outage {self.downtime_s:.1f}s"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "attempts": self.attempts,
            "acknowledged": len(self.acknowledged),
            "outcomes": dict(self.outcomes),
            "lost": self.lost[:20],
            "lost_count": len(self.lost),
            "unverifiable": self.unverifiable,
            "downtime_s": round(self.downtime_s, 2),
        }


class Writer:
    """POSTs ``body`` (``{n}`` replaced by a counter and ``{tag}`` by a run tag) to ``url``
    every ``INTERVAL_S`` from a thread, until :meth:`stop`."""

    def __init__(self, url: str, body: str, tag: str, id_field: str = "id") -> None:
        self.url = url
        self.body = body
        self.tag = tag
        self.id_field = id_field
        self.report = WriteReport()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"writer-{tag}", daemon=True)
        self._down_since: float | None = None

    def start(self) -> None:
        self._thread.start()

    def __enter__(self) -> Writer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> WriteReport:
        self._stop.set()
        self._thread.join(timeout=30)
        if self._down_since is not None:  # still down at the end: the outage lasts till now
            self._outage(time.monotonic())
        return self.report

    def _outage(self, now: float) -> None:
        assert self._down_since is not None
        self.report.downtime_s = max(self.report.downtime_s, now - self._down_since)
        self._down_since = None

    def _run(self) -> None:
        with httpx.Client(timeout=5.0) as client:
            n = 0
            while not self._stop.is_set():
                n += 1
                started = time.monotonic()
                outcome, ident = self._write(client, n)
                self.report.attempts += 1
                self.report.outcomes[outcome] += 1
                if outcome.startswith("2"):
                    if ident is None:
                        self.report.unverifiable += 1
                    else:
                        self.report.acknowledged.append(ident)
                    if self._down_since is not None:
                        self._outage(time.monotonic())
                elif outcome != "429" and self._down_since is None:
                    self._down_since = started
                self._stop.wait(max(0.0, INTERVAL_S - (time.monotonic() - started)))

    def _write(self, client: httpx.Client, n: int) -> tuple[str, str | None]:
        payload = self.body.replace("{n}", str(n)).replace("{tag}", self.tag)
        try:
            answer = client.post(
                self.url, content=payload, headers={"Content-Type": "application/json"}
            )
        except httpx.ConnectError:
            return "refused", None
        except httpx.TimeoutException:
            return "timeout", None
        except httpx.HTTPError:
            return "broken connection", None
        if not answer.is_success:
            return str(answer.status_code), None
        try:
            ident = json.loads(answer.content).get(self.id_field)
        except (ValueError, AttributeError):
            ident = None
        return str(answer.status_code), None if ident is None else str(ident)

    def verify(self, base_url: str) -> WriteReport:
        """Look up every acknowledged write at ``base_url/<id>``; the lost ones are noted."""
        self.report.lost = lost_writes(base_url, self.report.acknowledged)
        return self.report


def lost_writes(base_url: str, idents: list[str]) -> list[str]:
    """The ids of ``idents`` that ``GET base_url/<id>`` answers 404 for: writes that were
    acknowledged and are gone. Any other failure is :class:`DrillLookupError`."""
    lost: list[str] = []
    with httpx.Client(timeout=10.0) as client:
        for ident in idents:
            try:
                answer = client.get(f"{base_url.rstrip('/')}/{ident}")
            except httpx.HTTPError:
                raise DrillLookupError(f"{base_url}/{ident} does not answer") from None
            if answer.status_code == 404:
                lost.append(ident)
            elif not answer.is_success:
                raise DrillLookupError(
                    f"GET {base_url}/{ident} answered {answer.status_code}, "
                    "so the write cannot be looked up"
                )
    return lost
