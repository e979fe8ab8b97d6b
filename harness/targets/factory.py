"""Open the target a configuration names, and always close it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pytest

from harness.config import HarnessConfig
from harness.errors import TargetStartError
from harness.targets.base import Target


@contextmanager
def open_target(
    config: HarnessConfig, *, stack: Mapping[str, Any] | None = None
) -> Iterator[Target]:
    """``stack``: the description of a container stack started by the controlling process
    (``{"error": ...}`` when it failed to start); without it, a containers target starts
    and owns its own stack."""
    if config.stack == "url":
        from harness.targets.url import UrlTarget

        assert config.target_url is not None
        manual = _manual_stack(config)
        try:
            yield manual or UrlTarget(config.target_url, config.allow_hosts)
        finally:
            if manual is not None:  # its Docker client only: the stack stays up
                manual.close()
        return
    target = _containers_target(config, stack) if config.stack == "containers" else None
    if target is None:
        target = _embedded_target(config)
    try:
        yield target
    finally:
        target.close()


def _embedded_target(config: HarnessConfig) -> Target:
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
    return target


def _containers_target(config: HarnessConfig, stack: Mapping[str, Any] | None) -> Target:
    from harness.targets.containers import ContainersTarget

    if stack is not None:
        if stack.get("error"):
            pytest.fail(str(stack["error"]), pytrace=False)
        return ContainersTarget.from_json({**stack, "allow_hosts": config.allow_hosts})
    from harness.stacks.containers import ContainerStack

    owned = ContainerStack(
        profile=config.profile, image=config.image, with_prometheus=config.image is None
    )
    failure = None
    try:
        info = owned.start()
    except TargetStartError as exc:
        failure = str(exc)
    if failure is not None:
        pytest.fail(failure, pytrace=False)
    return ContainersTarget(info, config.allow_hosts, stack=owned)


def _manual_stack(config: HarnessConfig) -> Target | None:
    """The stack of `harness stack up` when the URL is its backend's: the harness plays the
    proxy hop it trusts and controls it, as with --stack containers."""
    from harness.stacks.manual import StackStateError, read_state
    from harness.targets.containers import ContainersTarget

    try:
        info = read_state()
    except StackStateError:
        return None
    if info is None or str(config.target_url).rstrip("/") != info.backend_url:
        return None
    return ContainersTarget(info, config.allow_hosts)
