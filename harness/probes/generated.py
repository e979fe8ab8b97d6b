"""Generated cases with hypothesis, run inside one check: a property is tried on examples
drawn from a strategy with a known seed, and a failure comes back as the seed and the
minimal failing example, so the evidence says how to replay it (``--param
hypothesis_seed=N``).

Hypothesis keeps no example database here and its caches go to a temporary folder (a gate
must not write into the user's folder); it has no deadline (every example is a request to a
deployment).
"""

from __future__ import annotations

import atexit
import os
import random
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from hypothesis import HealthCheck, Phase, Verbosity, example, given, settings
from hypothesis import seed as use_seed
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

T = TypeVar("T")
_home: list[str] = []


def _private_home() -> None:
    """Hypothesis' caches (Unicode tables, constants) in a folder of this process, removed at
    exit, unless the user chose one (HYPOTHESIS_STORAGE_DIRECTORY)."""
    if _home or os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
        return
    _home.append(tempfile.mkdtemp(prefix="harness-hypothesis-"))
    set_hypothesis_home_dir(_home[0])
    atexit.register(shutil.rmtree, _home[0], ignore_errors=True)


@dataclass(frozen=True)
class Falsified:
    """The smallest example found that breaks the property, and what it broke."""

    example: Any
    message: str


@dataclass(frozen=True)
class GeneratedRun:
    seed: int
    examples: int  # how many examples the property was tried on (shrinking included)
    falsified: Falsified | None

    def to_json(self, describe: Callable[[Any], str] = repr) -> dict[str, Any]:
        out: dict[str, Any] = {"seed": self.seed, "examples tried": self.examples}
        if self.falsified is not None:
            out["minimal failing example"] = describe(self.falsified.example)
            out["failure"] = self.falsified.message
            out["replay"] = f"--param hypothesis_seed={self.seed}"
        return out


def new_seed() -> int:
    return random.SystemRandom().getrandbits(32)


def falsify(
    strategy: st.SearchStrategy[T],
    prop: Callable[[T], None],
    *,
    seed: int | None = None,
    max_examples: int = 30,
    explicit: Sequence[T] = (),
) -> GeneratedRun:
    """Try ``prop`` (which raises AssertionError when the property does not hold) on the
    ``explicit`` examples, then on ``max_examples`` drawn from ``strategy``. Any other
    exception (an answer the check cannot judge) propagates."""
    _private_home()
    chosen = new_seed() if seed is None else seed
    tried = 0
    failing: list[tuple[T, str]] = []

    def run(value: T) -> None:
        nonlocal tried
        tried += 1
        try:
            prop(value)
        except AssertionError as exc:
            failing.append((value, str(exc)))  # hypothesis replays the minimal one last
            raise

    test = given(strategy)(run)
    for value in reversed(explicit):
        test = example(value)(test)
    test = settings(
        database=None,
        deadline=None,
        max_examples=max_examples,
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
        print_blob=False,
        report_multiple_bugs=False,
    )(use_seed(chosen)(test))
    try:
        test()
    except AssertionError:
        value, message = failing[-1]
        return GeneratedRun(chosen, tried, Falsified(value, message))
    return GeneratedRun(chosen, tried, None)
