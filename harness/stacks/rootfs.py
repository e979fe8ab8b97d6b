"""The base image without a registry: ``debootstrap --variant=minbase`` into a temp dir, trim
it, ``docker import`` it. Also the temp dirs of the builds, removed safely."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from harness.resources import fixture_path
from harness.stacks.builder import ImageBuildError, Progress, tail_text

if TYPE_CHECKING:
    import docker

DEBIAN_SUITE = "bookworm"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
_CHANGES = [
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV LANG=C.UTF-8",
    'CMD ["bash"]',
]
_TRIM = (
    "var/cache/apt/archives/*.deb",
    "var/cache/apt/*.bin",
    "var/lib/apt/lists/*",
    "var/log/*.log",
    "var/log/apt/*",
    "dev/*",  # Docker mounts its own /dev
    "usr/share/man/*",
    "usr/share/info/*",
    "usr/share/lintian/*",
)


def fresh_workdir(prefix: str) -> Path:
    """A private temp dir; the caller removes it with `remove_workdir` in ``finally``."""
    return Path(tempfile.mkdtemp(prefix=prefix))


def _mounts_under(root: Path) -> list[str]:
    prefix = str(root).rstrip("/") + "/"
    found = []
    with open("/proc/self/mountinfo", encoding="utf-8") as mountinfo:
        for line in mountinfo:
            point = line.split()[4].encode().decode("unicode_escape")
            if point.startswith(prefix):
                found.append(point)
    return sorted(found, key=len, reverse=True)


def remove_workdir(workdir: Path) -> None:
    """Remove a temp dir, first unmounting what an interrupted debootstrap left mounted there.

    Never recurse into a live mount: a bind-mounted /dev or /proc would be emptied.
    """
    if not workdir.exists():
        return
    for point in _mounts_under(workdir):
        subprocess.run(["umount", "-l", point], check=False, capture_output=True)
    left = _mounts_under(workdir)
    if left:
        raise ImageBuildError(f"cannot remove {workdir}: still mounted: {', '.join(left)}")
    shutil.rmtree(workdir)


def find_tool(name: str) -> str | None:
    """A system tool, also from the sbin directories that are not on every user's PATH."""
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin:/usr/local/sbin")


def debootstrap(rootfs: Path, *, progress: Progress, prefix: str = "") -> None:
    """``debootstrap --variant=minbase bookworm``; each phase is reported once."""
    tool = find_tool("debootstrap")
    hint = "(or set HARNESS_IMAGE_BASE=debian:bookworm-slim to use the public image)"
    if tool is None:
        raise ImageBuildError(f"debootstrap is not installed; apt-get install debootstrap {hint}")
    if os.geteuid() != 0:
        raise ImageBuildError(f"debootstrap needs root; run make images as root {hint}")
    started = time.monotonic()
    tail: deque[str] = deque(maxlen=30)
    phases: set[str] = set()
    command = [tool, "--variant=minbase", DEBIAN_SUITE, str(rootfs), DEBIAN_MIRROR]
    # its own process group: on failure or Ctrl-C the whole tree (dpkg, chroot) is stopped
    # before the rootfs is removed
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.rstrip()
            tail.append(line)
            words = line.split()
            if len(words) > 1 and words[0] == "I:" and words[1] not in phases:
                phases.add(words[1])  # "Retrieving", "Unpacking", ...: not every package
                elapsed = time.monotonic() - started
                progress(f"{prefix}{elapsed:6.1f}s  debootstrap: {line[3:]}")
        code = proc.wait()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait()
    if code != 0:
        raise ImageBuildError(f"debootstrap exited with code {code}{tail_text(tail)}")


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def trim(rootfs: Path, overlay: Path | None = None) -> None:
    """Make a debootstrapped tree an image: the overlay's files (``fixtures/images/base/rootfs``
    unless given); no caches, docs or devices."""
    overlay = overlay or fixture_path("images", "base", "rootfs")
    shutil.copytree(overlay, rootfs, dirs_exist_ok=True, symlinks=True)
    for pattern in _TRIM:
        for path in rootfs.glob(pattern):
            _remove(path)
    for path in (rootfs / "usr/share/doc").glob("*/*"):
        if path.name != "copyright":  # licences stay
            _remove(path)
    for path in (rootfs / "usr/share/locale").glob("*"):
        if path.name != "locale.alias":
            _remove(path)
    for name in ("etc/hostname", "etc/resolv.conf"):  # Docker provides both at run time
        (rootfs / name).unlink(missing_ok=True)


def import_rootfs(
    client: docker.DockerClient, rootfs: Path, *, tag: str, changes: list[str], workdir: Path
) -> str:
    """``tar -C rootfs -c . | docker import --change ... - tag``; return the image id."""
    archive = workdir / "rootfs.tar"
    tar = subprocess.run(
        ["tar", "--numeric-owner", "--xattrs", "-C", str(rootfs), "-cf", str(archive), "."],
        capture_output=True,
        text=True,
        check=False,
    )
    if tar.returncode != 0:
        raise ImageBuildError(f"tar of the rootfs failed: {tar.stderr.strip()[-500:]}")
    repository, _, version = tag.rpartition(":")
    with archive.open("rb") as data:
        client.api.import_image_from_data(data, repository=repository, tag=version, changes=changes)
    archive.unlink()
    return str(client.images.get(tag).id)


def build_base_image(
    client: docker.DockerClient,
    tag: str,
    labels: Mapping[str, str],
    *,
    progress: Progress,
    prefix: str = "",
) -> str:
    """debootstrap, trim and import ``tag`` with ``labels``; the temp rootfs always goes."""
    workdir = fresh_workdir("harness-rootfs-")
    try:
        rootfs = workdir / "rootfs"
        debootstrap(rootfs, progress=progress, prefix=prefix)
        trim(rootfs)
        changes = [*_CHANGES, *(f'LABEL {key}="{value}"' for key, value in labels.items())]
        progress(f"{prefix}importing the rootfs")
        return import_rootfs(client, rootfs, tag=tag, changes=changes, workdir=workdir)
    finally:
        remove_workdir(workdir)
