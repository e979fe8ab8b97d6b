"""`harness stack up|down|status`: one reference stack left running for manual use.

Its run id starts with ``manual-`` so that no test run's sweep removes it; its state (run id
and URLs) lives in ``$XDG_STATE_HOME/prodready-harness/stack.json`` so that ``down`` finds it.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.stacks.containers import ContainerStack
from harness.stacks.docker_env import docker_client
from harness.stacks.info import StackInfo
from harness.stacks.sweep import (
    SweepReport,
    close_quietly,
    new_run_id,
    runs_present,
    sweep_dead_runs,
    sweep_runs,
)


class StackStateError(HarnessError):
    """`stack up` while a stack runs, or `stack down` without one."""


def state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME", "").strip()
    root = Path(base) if base else Path.home() / ".local" / "state"
    return root / "prodready-harness"


def state_file() -> Path:
    return state_dir() / "stack.json"


@contextmanager
def _state_lock() -> Iterator[None]:
    """Serialises concurrent `stack up` / `stack down` on this machine."""
    state_dir().mkdir(parents=True, exist_ok=True)
    fd = os.open(state_dir() / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def read_state() -> StackInfo | None:
    path = state_file()
    try:
        return StackInfo.from_json(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None
    except (ValueError, TypeError) as exc:
        raise StackStateError(f"{path}: unreadable stack state ({exc}); delete the file") from None


def _forget(info: StackInfo) -> None:
    with suppress(FileNotFoundError):
        state_file().unlink()
    shutil.rmtree(info.workdir, ignore_errors=True)


def stack_up(
    *, profile: str = "production", image: str | None = None, with_prometheus: bool = False
) -> StackInfo:
    """Start the manual stack and record it; StackStateError when one is running already."""
    client = docker_client()
    try:
        with _state_lock():
            current = read_state()
            if current is not None:
                if runs_present(client).get(current.run_id):
                    raise StackStateError(
                        f"a stack is already running (run {current.run_id}, backend "
                        f"{current.backend_url}); stop it with `harness stack down`"
                    )
                _forget(current)  # its containers are gone: the state is stale
            sweep_dead_runs(client)
            run_id = new_run_id(manual=True)
            workdir = state_dir() / run_id
            workdir.mkdir(parents=True)
            stack = ContainerStack(
                profile=profile,
                image=image,
                with_prometheus=with_prometheus,
                run_id=run_id,
                workdir=workdir,
            )
            try:
                info = stack.start()
            except BaseException:
                shutil.rmtree(workdir, ignore_errors=True)
                raise
            state_file().write_text(json.dumps(info.to_json(), indent=2) + "\n", "utf-8")
            return info
    finally:
        close_quietly(client)


def stack_down() -> tuple[StackInfo, SweepReport]:
    """Remove the manual stack (everything carrying its run label) and its state."""
    client = docker_client()
    try:
        with _state_lock():
            info = read_state()
            if info is None:
                raise StackStateError(
                    f"no stack is running (no state in {state_file()}); "
                    "start one with `harness stack up`"
                )
            report = sweep_runs(client, [info.run_id])
            _forget(info)
            return info, report
    finally:
        close_quietly(client)


def stack_status() -> tuple[StackInfo | None, dict[str, Any]]:
    """The recorded stack, and the state of each of its containers."""
    info = read_state()
    if info is None:
        return None, {}
    client = docker_client()
    try:
        import docker.errors

        states: dict[str, Any] = {}
        for service, container_id in info.containers.items():
            try:
                states[service] = client.containers.get(container_id).status
            except docker.errors.NotFound:
                states[service] = "gone"
        return info, states
    finally:
        close_quietly(client)
