"""A write load that runs through faults: one thread POSTs formulas continuously, every write
the deployment acknowledges is kept with its id and body, and every refusal is judged clean
(a 5xx with a JSON body, answered in time) or not. Afterwards each acknowledged write is read
back and compared field by field: one that is gone or changed was lost."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from harness.probes.answers import FORMULAS_API, json_object, unexpected

INTERVAL_S = 0.2
# the fields a client sent and must read back unchanged
COMPARED = ("name", "expression", "description")


@dataclass(frozen=True)
class Attempt:
    """One POST: when it started (monotonic), how long it took, and how it ended."""

    n: int
    started: float
    elapsed_s: float
    outcome: str  # "201", "503", "timeout", "connection refused" ...
    clean: bool  # an acknowledgement, a 429, or a 5xx with a JSON body in time


@dataclass
class WriteLoadReport:
    """What the load saw and what reading it back found."""

    attempts: list[Attempt] = field(default_factory=list)
    acknowledged: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> body sent
    lost: list[str] = field(default_factory=list)  # acknowledged, then 404
    changed: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> what came back
    unclean: list[str] = field(default_factory=list)  # "n=12: timeout after 10.0 s"

    @property
    def refused(self) -> int:
        return sum(1 for a in self.attempts if not a.outcome.startswith("2") and a.outcome != "429")

    def outcomes(self) -> dict[str, int]:
        return dict(Counter(attempt.outcome for attempt in self.attempts))

    def acknowledged_since(self, moment: float) -> int:
        return sum(1 for a in self.attempts if a.started >= moment and a.outcome.startswith("2"))

    def between(self, start: float, end: float) -> dict[str, int]:
        """The outcomes of the attempts that began in ``[start, end)`` (an outage window)."""
        return dict(Counter(a.outcome for a in self.attempts if start <= a.started < end))

    def as_dict(self) -> dict[str, Any]:
        return {
            "attempts": len(self.attempts),
            "acknowledged": len(self.acknowledged),
            "refused": self.refused,
            "lost": len(self.lost) + len(self.changed),
            "outcomes": self.outcomes(),
            "lost_ids": self.lost[:20],
            "changed": dict(list(self.changed.items())[:5]),
            "unclean_refusals": self.unclean[:10],
        }


def _clean_refusal(answer: httpx.Response) -> bool:
    media_type = answer.headers.get("content-type", "").split(";")[0].strip().lower()
    return answer.status_code >= 500 and media_type == "application/json"


class WriteLoad:
    """POSTs a new formula to ``path`` every ``INTERVAL_S`` through ``client`` (whose timeout
    is the bound of a refusal) from a thread, until :meth:`stop`."""

    def __init__(self, client: httpx.Client, path: str, tag: str, timeout_s: float) -> None:
        self.client = client
        self.path = path
        self.tag = tag
        self.timeout_s = timeout_s
        self.report = WriteLoadReport()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=f"write-load-{tag}", daemon=True)

    def __enter__(self) -> WriteLoad:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> WriteLoadReport:
        self._stop.set()
        self._thread.join(timeout=self.timeout_s + 5)
        return self.report

    def attempts_since(self, moment: float) -> int:
        with self._lock:
            return sum(1 for attempt in self.report.attempts if attempt.started >= moment)

    def body(self, n: int) -> dict[str, Any]:
        name = f"fault-{self.tag}-{n}"
        return {"name": name, "expression": f"{n} + 1", "description": f"write {n} of {name}"}

    def _run(self) -> None:
        n = 0
        while not self._stop.is_set():
            n += 1
            started = time.monotonic()
            self._write(n, started)
            self._stop.wait(max(0.0, INTERVAL_S - (time.monotonic() - started)))

    def _write(self, n: int, started: float) -> None:
        body = self.body(n)
        answer: httpx.Response | None = None
        try:
            answer = self.client.post(self.path, json=body, timeout=self.timeout_s)
            outcome = str(answer.status_code)
        except httpx.TimeoutException:
            outcome = f"timeout after {self.timeout_s:g} s"
        except httpx.ConnectError:
            outcome = "connection refused"
        except httpx.HTTPError as exc:
            outcome = f"broken connection ({type(exc).__name__})"
        elapsed = time.monotonic() - started
        ident = _created_id(answer) if answer is not None and answer.is_success else None
        clean = (
            outcome == "429" or ident is not None or (answer is not None and _clean_refusal(answer))
        )
        with self._lock:
            self.report.attempts.append(Attempt(n, started, elapsed, outcome, clean))
            if ident is not None:
                self.report.acknowledged[ident] = body
            elif not clean:
                excerpt = f": {answer.text[:80]!r}" if answer is not None else ""
                self.report.unclean.append(f"write {n}: {outcome}{excerpt}")

    def verify(self, client: httpx.Client | None = None) -> WriteLoadReport:
        """Read every acknowledged write back at ``path/<id>`` (through ``client``, by default
        the load's own); gone or changed is lost. Any answer other than 200 or 404 raises
        UnexpectedAnswer (the write cannot be judged)."""
        reader = client or self.client
        for ident, sent in self.report.acknowledged.items():
            answer = reader.get(f"{self.path.rstrip('/')}/{ident}")
            if answer.status_code == 404:
                self.report.lost.append(ident)
                continue
            if answer.status_code != 200:
                raise unexpected(answer, "200 with the formula written", FORMULAS_API)
            read = json_object(answer, COMPARED, FORMULAS_API)
            if any(read.get(key) != sent[key] for key in COMPARED):
                self.report.changed[ident] = {key: read.get(key) for key in COMPARED}
        return self.report


def _created_id(answer: httpx.Response) -> str | None:
    try:
        body = answer.json()
    except ValueError:
        return None
    ident = body.get("id") if isinstance(body, dict) else None
    return None if ident is None else str(ident)
