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
