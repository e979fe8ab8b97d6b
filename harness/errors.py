"""Errors the user can fix; each renders as one line that says what is wrong and how to fix it."""

from __future__ import annotations


class HarnessError(Exception):
    """Base of the errors shown to the user as one line, without a traceback."""


class ConfigError(HarnessError):
    """A configuration file, environment variable or option is invalid."""


class TargetUnreachable(HarnessError):
    """The system under test does not answer."""


class TargetStartError(HarnessError):
    """A target the harness starts itself (embedded app, stack) failed to come up."""


class LoadRunError(HarnessError):
    """A load generator (locust) could not start or ended without its results."""


class UnexpectedAnswer(HarnessError):
    """The target answered in a shape a check cannot judge (missing field, not JSON, a status
    it cannot interpret). The check's verdict is ``error``, not ``failed``: nothing was proven
    either way. The message is one line: the endpoint, what was expected, what came back."""

    def __init__(self, endpoint: str, expected: str, got: str) -> None:
        self.endpoint, self.expected, self.got = endpoint, expected, got
        super().__init__(f"{endpoint}: expected {expected}, got {got}")
