"""Low-level image building: streamed Dockerfile builds, in-memory contexts, rootfs imports."""

from __future__ import annotations

import io
import re
import sys
import tarfile
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import HarnessError

if TYPE_CHECKING:
    import docker

Progress = Callable[[str], None]
ContextFile = bytes | Path
"""A build-context entry: file contents, or a file or directory on disk (copied with modes)."""

TAIL_LINES = 30
BUILD_TIMEOUT_S = 900
_STEP = re.compile(r"^Step \d+/\d+ : ")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_LAYER = re.compile(r"^ ---> ([0-9a-f]{12,64})$")
_RUNNING = re.compile(r"^ ---> Running in ([0-9a-f]{12,64})$")
_REMOVED = re.compile(r"^Removing intermediate container ([0-9a-f]{12,64})$")
_SKIP_NAMES = frozenset({"__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache"})


class ImageBuildError(HarnessError):
    """An image could not be built; the message ends with the last lines of the build."""


def stderr_progress(line: str) -> None:
    """The default progress sink: one line on stderr, flushed."""
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def tail_text(tail: Iterable[str]) -> str:
    """The last lines of a tool's output, indented under a one-line error."""
    lines = [line for line in tail if line.strip()]
    return ("\n" + "\n".join(f"  | {line}" for line in lines)) if lines else ""


def _exclude_caches(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
    if _SKIP_NAMES.intersection(Path(info.name).parts) or info.name.endswith(".pyc"):
        return None
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def tar_context(files: Mapping[str, ContextFile]) -> io.BytesIO:
    """An in-memory build context; `Path` entries keep their modes, caches are left out."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, content in sorted(files.items()):
            if isinstance(content, Path):
                tar.add(content, arcname=name, filter=_exclude_caches)
                continue
            info = tarfile.TarInfo(name)
            info.size = len(content)
            info.mode = 0o644
            info.mtime = int(time.time())
            tar.addfile(info, io.BytesIO(content))
    buffer.seek(0)
    return buffer


def stream_build(
    client: docker.DockerClient,
    *,
    files: Mapping[str, ContextFile],
    tag: str,
    labels: Mapping[str, str],
    dockerfile: str = "Dockerfile",
    buildargs: Mapping[str, str] | None = None,
    progress: Progress = stderr_progress,
    prefix: str = "",
) -> str:
    """Build ``tag`` from a context with the engine's classic builder; return the image id.

    ``Step`` lines go to ``progress`` with the elapsed seconds; the last lines of the build
    output go into the `ImageBuildError` when it fails.
    """
    log = _BuildLog(progress, prefix)
    context = tar_context(files)
    try:
        stream = client.api.build(
            fileobj=context,
            custom_context=True,
            dockerfile=dockerfile,
            tag=tag,
            buildargs=dict(buildargs or {}),
            labels=dict(labels),
            rm=True,
            forcerm=True,
            pull=False,
            decode=True,
            timeout=BUILD_TIMEOUT_S,
        )
        for chunk in stream:
            log.consume(chunk)
        if not log.image_id:
            raise ImageBuildError("the engine reported no image id")
        # the classic builder leaves the last image of every earlier stage untagged
        _remove_untagged(client, log.layers)
    except Exception as exc:  # also the engine going away or rejecting the request
        log.clean_up(client)
        raise ImageBuildError(f"building {tag} failed: {exc}{tail_text(log.tail)}") from None
    except BaseException:
        log.clean_up(client)
        raise
    return log.image_id


class _BuildLog:
    """What a build's output stream tells: progress, its last lines, what it created."""

    def __init__(self, progress: Progress, prefix: str) -> None:
        self.progress = progress
        self.prefix = prefix
        self.started = time.monotonic()
        self.tail: deque[str] = deque(maxlen=TAIL_LINES)
        self.layers: list[str] = []
        self.steps: set[str] = set()  # containers of build steps not removed yet
        self.image_id = ""

    def consume(self, chunk: dict[str, Any]) -> None:
        for line in _ANSI.sub("", str(chunk.get("stream", ""))).splitlines():
            self.tail.append(line.rstrip())
            layer, running, removed = _LAYER.match(line), _RUNNING.match(line), _REMOVED.match(line)
            if layer:
                self.layers.append(layer.group(1))
            elif running:
                self.steps.add(running.group(1))
            elif removed:
                self.steps.discard(removed.group(1))
            elif _STEP.match(line):
                elapsed = time.monotonic() - self.started
                self.progress(f"{self.prefix}{elapsed:6.1f}s  {_shorten(line)}")
        if "error" in chunk:
            detail = chunk.get("errorDetail") or {}
            raise ImageBuildError(str(detail.get("message") or chunk["error"]).strip())
        aux = chunk.get("aux")
        if isinstance(aux, dict) and aux.get("ID"):
            self.image_id = str(aux["ID"])

    def clean_up(self, client: docker.DockerClient) -> None:
        # an interrupted build can leave its step containers behind, even with forcerm
        for container in self.steps:
            try:
                client.api.remove_container(container, force=True)
            except Exception:  # noqa: S112 - already gone
                continue
        _remove_untagged(client, self.layers)


def _remove_untagged(client: docker.DockerClient, layers: list[str]) -> None:
    """Remove the untagged leaf images a build left behind: a failed build's last layer and
    the earlier stages of a multi-stage build. Tagged images and images with children (the
    new image's own ancestors) stay."""
    for layer in reversed(layers):
        try:
            if not client.images.get(layer).tags:
                client.images.remove(layer)
        except Exception:  # noqa: S112 - in use by another build, or already gone
            continue


def _shorten(line: str, width: int = 96) -> str:
    line = " ".join(line.split())
    return line if len(line) <= width else line[: width - 3] + "..."
