"""A readers-writer lock across processes: checks share a stack, disruptive checks own it.

xdist workers run checks against one shared stack. A check that stops a service must not
overlap with any other check, so ordinary checks hold the lock shared and disruptive ones
hold it exclusively. ``flock`` alone lets a steady stream of readers starve a writer; a
second "turnstile" file makes a waiting writer block new readers.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path


def lock_path(run_id: str, directory: Path | None = None) -> Path:
    """The lock file of one run, in the temp dir unless told otherwise."""
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in run_id)
    return (directory or Path(tempfile.gettempdir())) / f"harness-stack-{safe}.lock"


def _turnstile(path: Path) -> Path:
    return path.with_name(path.name + ".turnstile")


@contextmanager
def _flocked(path: Path, operation: int) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, operation)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


class StackLock:
    """``shared()`` around ordinary checks, ``exclusive()`` around disruptive ones."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextmanager
    def shared(self) -> Iterator[None]:
        # pass through the turnstile: blocks while a writer waits or works
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            with _flocked(_turnstile(self.path), fcntl.LOCK_EX):
                fcntl.flock(fd, fcntl.LOCK_SH)
        except BaseException:
            os.close(fd)
            raise
        try:
            yield
        finally:
            os.close(fd)

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        # the turnstile stays closed while the writer works, so new readers queue behind it
        with _flocked(_turnstile(self.path), fcntl.LOCK_EX), _flocked(self.path, fcntl.LOCK_EX):
            yield

    def remove(self) -> None:
        """Delete the lock files (at the end of the run, by the controller)."""
        for path in (self.path, _turnstile(self.path)):
            with suppress(FileNotFoundError):
                path.unlink()


@contextmanager
def shared_while_probing(target: object) -> Iterator[None]:
    """The stack's lock held shared by a session fixture that probes the target: those are set
    up before any check's own lock is taken, so without it a disruptive check on another xdist
    worker could restart the backend under them. Targets without a shared stack: no lock."""
    lock_file = getattr(getattr(target, "info", None), "lock_file", None)
    if not lock_file:
        yield
        return
    with StackLock(Path(lock_file)).shared():
        yield
