"""How many worker processes a backend's command starts: the command as the container runs
it (Compose's entrypoint and command over the image's ENTRYPOINT and CMD), read with the
options and environment variables of the ASGI/WSGI server it names."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# server -> its worker options; each reads WEB_CONCURRENCY when no option is given but hypercorn
_SERVERS: dict[str, tuple[str, ...]] = {
    "uvicorn": ("--workers",),
    "fastapi": ("--workers",),
    "gunicorn": ("--workers", "-w"),
    "hypercorn": ("--workers", "-w"),
}
_READS_WEB_CONCURRENCY = ("uvicorn", "fastapi", "gunicorn")
_SHELLS = ("sh", "bash", "dash", "ash")


@dataclass(frozen=True)
class Workers:
    """The worker count and what sets it; ``count`` None when the command does not say."""

    count: int | None
    program: str
    source: str
    by_option: bool = False  # set by --workers (or -w) on the command line


def _basename(word: str) -> str:
    return word.rsplit("/", 1)[-1]


def unwrap(argv: Sequence[str]) -> list[str]:
    """The words of the server command: a ``sh -c 'script'`` is split and its ``exec``
    dropped, so the shell form and the exec form read alike."""
    words = list(argv)
    if words and _basename(words[0]) in _SHELLS and "-c" in words[1:]:
        at = words.index("-c", 1)
        script = words[at + 1] if at + 1 < len(words) else ""
        try:
            words = shlex.split(script)
        except ValueError:
            words = script.split()
    return [w for w in words if w != "exec"]


def _program(words: Sequence[str]) -> tuple[str, int] | None:
    """The server the words run and where its own arguments begin."""
    for index, word in enumerate(words):
        name = _basename(word)
        if name in _SERVERS:
            return name, index + 1
        if word == "-m" and index + 1 < len(words) and words[index + 1] in _SERVERS:
            return words[index + 1], index + 2
    return None


def option_value(words: Sequence[str], options: Sequence[str]) -> str | None:
    """The last value of any of ``options`` (``--opt N``, ``--opt=N``, ``-wN``)."""
    value = None
    for index, word in enumerate(words):
        for option in options:
            if word == option and index + 1 < len(words):
                value = words[index + 1]
            elif word.startswith(option + "="):
                value = word[len(option) + 1 :]
            elif len(option) == 2 and word.startswith(option) and word[2:].isdigit():
                value = word[2:]
    return value


def _count(text: str, source: str, program: str, by_option: bool) -> Workers:
    value = text.strip()
    count = int(value) if value.isdigit() else None
    said = source if count is not None else f"{source} (not a number)"
    return Workers(count, program, said, by_option)


def worker_count(argv: Sequence[str], environment: Mapping[str, str]) -> Workers:
    """The worker processes ``argv`` starts with ``environment``: the server's option, else
    GUNICORN_CMD_ARGS or WEB_CONCURRENCY where the server reads them, else its default of 1.
    An unknown program counts by a ``--workers`` option only."""
    words = unwrap(argv)
    found = _program(words)
    if found is not None:
        program, start = found
        return _server_workers(program, words[start:], environment)
    value = option_value(words, ("--workers",))
    if value is None:
        shown = " ".join(words) or "(no command)"
        return Workers(None, _basename(words[0]) if words else "", f"{shown}: no --workers")
    return _count(value, f"--workers {value}", _basename(words[0]), True)


def _server_workers(program: str, args: Sequence[str], environment: Mapping[str, str]) -> Workers:
    options = _SERVERS[program]
    if program in ("uvicorn", "fastapi") and "--reload" in args:
        return Workers(1, program, "--reload (one process; --workers is ignored)")
    value = option_value(args, options)
    if value is not None:
        return _count(value, f"{options[0]} {value}", program, True)
    if program == "gunicorn":
        if option_value(args, ("--config", "-c")) is not None:
            return Workers(None, program, "gunicorn -c FILE: its workers setting is not read")
        value = option_value(shlex.split(environment.get("GUNICORN_CMD_ARGS", "")), options)
        if value is not None:
            return _count(value, f"GUNICORN_CMD_ARGS {options[0]} {value}", program, False)
    concurrency = environment.get("WEB_CONCURRENCY")
    if program in _READS_WEB_CONCURRENCY and concurrency:
        return _count(concurrency, f"WEB_CONCURRENCY={concurrency}", program, False)
    return Workers(1, program, f"{program}'s default of one worker")


@dataclass(frozen=True)
class ImageCommand:
    """What the final stage of a Dockerfile runs and the environment it sets."""

    entrypoint: list[str] | None
    cmd: list[str] | None
    env: dict[str, str]


def _instructions(dockerfile: str) -> list[tuple[str, str]]:
    joined = re.sub(r"\\\s*\n", " ", dockerfile)
    found = []
    for line in joined.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            keyword, _, rest = stripped.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def _command_form(text: str) -> list[str]:
    if text.startswith("["):
        try:
            loaded = json.loads(text)
        except ValueError:
            loaded = None
        if isinstance(loaded, list):
            return [str(word) for word in loaded]
    return ["/bin/sh", "-c", text]


def _env(text: str) -> dict[str, str]:
    words = shlex.split(text)
    if words and "=" not in words[0]:  # the legacy `ENV NAME value` form
        return {words[0]: " ".join(words[1:])}
    return dict(word.split("=", 1) for word in words if "=" in word)


def image_command(dockerfile: str) -> ImageCommand:
    """The final stage's ENTRYPOINT, CMD and ENV (a stage built on an earlier one inherits
    them; a new ENTRYPOINT drops the CMD inherited, as Docker does)."""
    stages: dict[str, ImageCommand] = {}
    current, name = ImageCommand(None, None, {}), ""
    for keyword, rest in _instructions(dockerfile):
        if keyword == "FROM":
            parts = rest.split()
            name = parts[-1].lower() if len(parts) >= 3 and parts[-2].upper() == "AS" else ""
            base = next((p for p in parts if not p.startswith("--")), "").lower()
            current = stages.get(base) or ImageCommand(None, None, {})
        elif keyword == "ENTRYPOINT":
            current = ImageCommand(_command_form(rest), None, current.env)
        elif keyword == "CMD":
            current = ImageCommand(current.entrypoint, _command_form(rest), current.env)
        elif keyword == "ENV":
            current = ImageCommand(current.entrypoint, current.cmd, {**current.env, **_env(rest)})
        if name:
            stages[name] = current
    return current
