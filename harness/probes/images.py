"""Judge container images from ``docker inspect`` data and from inside a running container."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

# environment or build-argument names whose values are secrets
_SECRET_NAME = re.compile(
    r"(SECRET|PASSWORD|PASSWD|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL|ACCESS_?KEY)", re.I
)
# an assignment of a non-empty value to such a name in a build step (ENV, ARG default, RUN x=y)
_ASSIGNMENT = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)=(\"[^\"]+\"|'[^']+'|[^\s\"']+)")
ROOT_USERS = frozenset({"", "root", "0"})
BUILD_TOOLS = ("gcc", "cc", "c++", "g++", "clang", "make", "cpp", "ld", "as", "cargo", "go")
# one shell line that prints the path of every build tool it finds, and always succeeds
FIND_BUILD_TOOLS = (
    "for t in " + " ".join(BUILD_TOOLS) + '; do command -v "$t"; done; '
    "ls -d /usr/bin/*-linux-gnu-gcc* /usr/lib/gcc 2>/dev/null; true"
)
FIND_PRIVATE_KEYS = (
    "grep -rlsI --exclude-dir=proc --exclude-dir=sys --exclude-dir=dev "
    "-e '-----BEGIN [A-Z ]*PRIVATE KEY-----' / 2>/dev/null; "
    "find / -xdev -name .env -type f 2>/dev/null; true"
)


def image_user(image: Mapping[str, Any]) -> str:
    return str((image.get("Config") or {}).get("User") or "")


def is_root_user(user: str) -> bool:
    """``USER`` values that run as root: empty, root, 0, and root:group forms."""
    name = user.split(":", 1)[0].strip()
    return name in ROOT_USERS


def proc_status_uid(status_text: str) -> int | None:
    """The real uid from /proc/<pid>/status text."""
    match = re.search(r"^Uid:\s+(\d+)", status_text, re.M)
    return int(match.group(1)) if match else None


def healthcheck_test(image: Mapping[str, Any]) -> list[str] | None:
    """The image's HEALTHCHECK command, or None when it has none (or HEALTHCHECK NONE)."""
    check = (image.get("Config") or {}).get("Healthcheck") or {}
    test = check.get("Test")
    if not test or test == ["NONE"]:
        return None
    return [str(part) for part in test]


def secret_env(image: Mapping[str, Any]) -> list[str]:
    """Names of image environment variables that carry a secret value."""
    found = []
    for entry in (image.get("Config") or {}).get("Env") or []:
        name, _, value = str(entry).partition("=")
        if _SECRET_NAME.search(name) and value.strip():
            found.append(name)
    return found


def secret_history(steps: Iterable[Mapping[str, Any]]) -> list[str]:
    """Build steps that assign a value to a secret-looking name."""
    found = []
    for step in steps:
        created_by = str(step.get("CreatedBy") or "")
        for name, _value in _ASSIGNMENT.findall(created_by):
            if _SECRET_NAME.search(name):
                found.append(f"{name} in: {created_by[:160]}")
    return found


def found_paths(output: str) -> list[str]:
    return [line.strip() for line in output.splitlines() if line.strip().startswith("/")]
