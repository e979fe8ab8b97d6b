"""Open the target a configuration names, and always close it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from harness.config import HarnessConfig
from harness.errors import TargetStartError
from harness.targets.base import Target


@contextmanager
def open_target(config: HarnessConfig) -> Iterator[Target]:
    if config.stack == "url":
        from harness.targets.url import UrlTarget

        assert config.target_url is not None
        yield UrlTarget(config.target_url, config.allow_hosts)
        return
    from harness.targets.embedded import EmbeddedTarget

    target = EmbeddedTarget(
        profile=config.profile, mutant=config.mutant, allow_hosts=config.allow_hosts
    )
    failure = None
    try:
        target.start_all()
    except TargetStartError as exc:
        failure = str(exc)
    if failure is not None:
        pytest.fail(failure, pytrace=False)  # the app's log says why; our stack would not
    try:
        yield target
    finally:
        target.close()
