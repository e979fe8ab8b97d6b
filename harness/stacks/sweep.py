"""Run ids, and the removal of what runs left behind (Ryuk is off: nothing else reaps).

A run id names the controlling process: ``<host>-<pid>-<random>``; a manual stack
(`harness stack up`) is ``manual-<host>-<pid>-<random>`` and outlives its process on purpose.
A run is dead when it was made on this host and its process is gone. Runs of other hosts and
manual runs are never swept; the cached images of `make images` (kind ``local-image``) carry
no run and are kept.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import socket
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.stacks.docker_env import LABEL, LABEL_RUN

if TYPE_CHECKING:
    import docker

MANUAL_PREFIX = "manual-"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
# harness-stack-<host>-<pid>-<hex6>[.lock[.turnstile] | -<mkdtemp suffix>]
_TEMP_NAME = re.compile(r"^harness-stack-(.+?-\d+-[0-9a-f]{6})(?:\.lock.*|-[^-]*)$")


def _host() -> str:
    return _UNSAFE.sub("_", socket.gethostname()) or "host"


def new_run_id(*, manual: bool = False) -> str:
    """A fresh run id for the current process; usable in labels and container names."""
    run_id = f"{_host()}-{os.getpid()}-{secrets.token_hex(3)}"
    return MANUAL_PREFIX + run_id if manual else run_id


def parse_run_id(run_id: str) -> tuple[str, int] | None:
    """``(host, pid)`` of a process-bound run id; None for manual or foreign ids."""
    if run_id.startswith(MANUAL_PREFIX):
        return None
    parts = run_id.rsplit("-", 2)
    if len(parts) != 3 or not parts[0] or not parts[1].isdigit():
        return None
    return parts[0], int(parts[1])


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


def run_is_dead(
    run_id: str, *, host: str | None = None, alive: Callable[[int], bool] = pid_alive
) -> bool:
    """True only when the run was made on this host by a process that no longer exists."""
    parsed = parse_run_id(run_id)
    if parsed is None:
        return False
    run_host, pid = parsed
    if run_host != (host or _host()):
        return False  # another machine sharing this engine: we cannot tell, keep it
    return pid != os.getpid() and not alive(pid)


@dataclass
class SweepReport:
    """What a sweep removed, by kind, as ``name (run)`` strings."""

    containers: list[str] = field(default_factory=list)
    networks: list[str] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.containers or self.networks or self.volumes or self.images)

    def summary(self) -> str:
        parts = [
            f"{len(items)} {kind}{'s' if len(items) != 1 else ''}"
            for kind, items in (
                ("container", self.containers),
                ("network", self.networks),
                ("volume", self.volumes),
                ("image", self.images),
            )
            if items
        ]
        return ", ".join(parts) or "nothing"


def _labels(obj: Any) -> dict[str, str]:
    attrs = obj.attrs
    labels = attrs.get("Labels") or attrs.get("Config", {}).get("Labels") or {}
    return dict(labels)


def _gone(remove: Callable[[], object]) -> bool:
    """Run ``remove``; a concurrent sweep that got there first is not an error."""
    import docker.errors

    try:
        remove()
    except docker.errors.NotFound:
        return False
    except docker.errors.APIError as exc:
        if exc.status_code == 409:  # removal already in progress, or still in use
            return False
        raise
    return True


def _remove_network(network: Any) -> bool:
    import docker.errors

    for _ in range(10):  # a container that is still being removed keeps the network busy
        try:
            return _gone(network.remove)
        except docker.errors.APIError:
            time.sleep(0.3)
    return _gone(network.remove)


def remove_resources(client: docker.DockerClient, wanted: Callable[[str], bool]) -> SweepReport:
    """Remove containers, networks, volumes and run images whose run id ``wanted`` selects."""
    report = SweepReport()
    selector = {"label": [LABEL]}
    # a container or image another run removes while this one lists them is no error: the
    # listing inspects each, so containers are listed with ignore_removed and images as summaries
    for container in client.containers.list(all=True, filters=selector, ignore_removed=True):
        run = _labels(container).get(LABEL_RUN)
        if run and wanted(run) and _gone(partial(container.remove, force=True, v=True)):
            report.containers.append(f"{container.name} ({run})")
    for network in client.networks.list(filters=selector):
        run = _labels(network).get(LABEL_RUN)
        if run and wanted(run) and _remove_network(network):
            report.networks.append(f"{network.name} ({run})")
    for volume in client.volumes.list(filters=selector):
        run = _labels(volume).get(LABEL_RUN)
        if run and wanted(run) and _gone(partial(volume.remove, force=True)):
            report.volumes.append(f"{volume.name} ({run})")
    cached = _local_tags()
    for image in client.api.images(filters=selector):
        run = (image.get("Labels") or {}).get(LABEL_RUN)
        tags = [tag for tag in image.get("RepoTags") or [] if tag != "<none>:<none>"]
        # The cache of `make images` carries no run and is kept. An image built FROM it
        # inherits its kind label, so the run label, set at build time, decides.
        if not run or not wanted(run) or cached.intersection(tags):
            continue
        if _gone(partial(client.images.remove, image["Id"], force=True, noprune=False)):
            report.images.append(f"{', '.join(tags) or image['Id'][7:19]} ({run})")
    return report


def _local_tags() -> set[str]:
    from harness.stacks.images import IMAGES

    return {spec.local_tag for spec in IMAGES.values()}


def sweep_dead_runs(client: docker.DockerClient) -> SweepReport:
    """At session start: remove the leftovers of runs whose process is gone."""
    return remove_resources(client, run_is_dead)


def sweep_temp_files(directory: Path | None = None) -> list[Path]:
    """Remove the work dirs and lock files (``harness-stack-<run id>...``) of dead runs."""
    removed = []
    for path in (directory or Path(tempfile.gettempdir())).glob("harness-stack-*"):
        match = _TEMP_NAME.match(path.name)
        if match is None or not run_is_dead(match.group(1)):
            continue
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def sweep_runs(client: docker.DockerClient, run_ids: Iterable[str]) -> SweepReport:
    """At session end (or `stack down`): remove everything of these runs."""
    wanted = set(run_ids)
    return remove_resources(client, wanted.__contains__)


def runs_present(client: docker.DockerClient) -> dict[str, int]:
    """Run id -> number of containers, networks and volumes carrying it (for status/tests)."""
    counts: dict[str, int] = {}
    selector = {"label": [LABEL]}
    listings: list[Iterable[Any]] = [
        client.containers.list(all=True, filters=selector),
        client.networks.list(filters=selector),
        client.volumes.list(filters=selector),
    ]
    for listing in listings:
        for obj in listing:
            run = _labels(obj).get(LABEL_RUN)
            if run:
                counts[run] = counts.get(run, 0) + 1
    return counts


def close_quietly(client: docker.DockerClient | None) -> None:
    if client is not None:
        with contextlib.suppress(Exception):
            client.close()
