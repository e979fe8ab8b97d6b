"""Timing what a deployment says during a fault: poll until an answer shows the change (the
outage detected, the recovery seen) and measure how long that took against a bound."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
POLL_INTERVAL_S = 0.25


@dataclass(frozen=True)
class Waited(Generic[T]):
    """The last answer seen, and after how many seconds it showed the change (None: never
    within the bound)."""

    last: T
    elapsed_s: float | None
    bound_s: float
    polls: int

    @property
    def within_bound(self) -> bool:
        # the last poll may begin before the bound and answer after it
        return self.elapsed_s is not None and self.elapsed_s <= self.bound_s

    def late(self) -> str:
        """'; it came after 12.3 s' when the change came past the bound, else ''."""
        return "" if self.elapsed_s is None else f"; it came after {self.elapsed_s:.1f} s"

    def as_dict(self) -> dict[str, float | int | None]:
        measured = None if self.elapsed_s is None else round(self.elapsed_s, 2)
        return {"bound_s": self.bound_s, "measured_s": measured, "polls": self.polls}


def wait_until(
    fetch: Callable[[], T],
    done: Callable[[T], bool],
    bound_s: float,
    *,
    interval_s: float = POLL_INTERVAL_S,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Waited[T]:
    """Call ``fetch`` every ``interval_s`` until ``done`` holds for its answer or ``bound_s``
    has passed; the time counts from the call, so it includes every answer's own latency."""
    start = clock()
    polls = 1
    last = fetch()
    while not done(last):
        if clock() - start >= bound_s:
            return Waited(last, None, bound_s, polls)
        sleep(interval_s)
        polls += 1
        last = fetch()
    return Waited(last, clock() - start, bound_s, polls)
