"""The deployment's own load test files: its locustfile as locust loads it, its scenario
configuration as Python evaluates it (both in child processes: gevent and the user's code never
enter the harness), and its README's commands and targets."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCENARIO_NAMES = ("smoke", "baseline", "stress", "spike", "endurance")
_TIMEOUT_S = 120.0


class LoadFileError(Exception):
    """A file did not load: the message is its loader's last words, one line."""


# "ModuleNotFoundError: " before the loader's words: the words say it, and a check's message
# that names a Python exception reads as a crash of the harness (docs/docs/checks.md)
_EXCEPTION_PREFIX = re.compile(r"^(?:[\w.]+\.)?\w+(?:Error|Exception|Exit): ")


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return _EXCEPTION_PREFIX.sub("", lines[-1])[:300] if lines else "no output"


def _run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    # no __pycache__ left in the user's tree (or in the installed reference tree)
    env = os.environ | {"PYTHONDONTWRITEBYTECODE": "1"}
    try:
        return subprocess.run(
            argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        raise LoadFileError(f"did not finish loading within {_TIMEOUT_S:.0f} s") from None


def locust_users(locustfile: Path) -> list[str]:
    """The user classes locust finds in ``locustfile`` (``locust -f FILE --list``)."""
    proc = _run(
        [sys.executable, "-m", "locust", "-f", str(locustfile.resolve()), "--list"],
        locustfile.parent,
    )
    if proc.returncode != 0:
        raise LoadFileError(f"locust exited {proc.returncode}: {_last_line(proc.stderr)}")
    listed = proc.stdout.split("Available Users:", maxsplit=1)
    return [line.strip() for line in listed[-1].splitlines() if line.strip()] if listed else []


# run in the child: the module's public globals as JSON (dataclasses and objects as mappings)
_DUMP = """
import dataclasses, json, runpy, sys
def plain(value, depth=0):
    if depth > 6:
        return None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    elif hasattr(value, "__dict__") and not isinstance(value, type) and not callable(value):
        value = vars(value)
    if isinstance(value, dict):
        return {str(k): plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v, depth + 1) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return None
found = runpy.run_path(sys.argv[1])
print(json.dumps({k: plain(v) for k, v in found.items() if not k.startswith("_")}))
"""


@dataclass(frozen=True)
class ScenarioSpec:
    users: int
    duration_s: float


_UNITS = {"s": 1, "m": 60, "h": 3600}
_DURATION = re.compile(r"^\s*(?:(\d+)h)?\s*(?:(\d+)m)?\s*(?:(\d+)s?)?\s*$")
_DURATION_KEYS = ("duration_s", "run_time_s", "duration", "run_time", "runtime")


def duration_seconds(value: Any) -> float | None:
    """Seconds of a duration as configs write it: 120, "120s", "2m", "1h30m"."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    match = _DURATION.match(str(value)) if isinstance(value, str) else None
    if match is None or not any(match.groups()):
        return None
    hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    return float(hours * _UNITS["h"] + minutes * _UNITS["m"] + seconds)


def _scenario(value: Any) -> ScenarioSpec | None:
    if not isinstance(value, dict) or not isinstance(value.get("users"), int):
        return None
    for key in _DURATION_KEYS:
        seconds = duration_seconds(value.get(key))
        if seconds is not None:
            return ScenarioSpec(value["users"], seconds)
    return None


def _walk(value: Any, found: dict[str, ScenarioSpec]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            name = next((n for n in SCENARIO_NAMES if n in key.lower()), None)
            spec = _scenario(item)
            if name is not None and spec is not None:
                found.setdefault(name, spec)
            else:
                _walk(item, found)
    elif isinstance(value, list):
        for item in value:
            spec = _scenario(item)
            label = str(item.get("name", "")).lower() if isinstance(item, dict) else ""
            name = next((n for n in SCENARIO_NAMES if n in label), None)
            if name is not None and spec is not None:
                found.setdefault(name, spec)
            else:
                _walk(item, found)


def configured_scenarios(config_file: Path) -> dict[str, ScenarioSpec]:
    """The scenarios ``config_file`` defines, by the spec's names: any mapping or list of
    entries named after a scenario with ``users`` and a duration (seconds or "10m")."""
    proc = _run([sys.executable, "-c", _DUMP, str(config_file.resolve())], config_file.parent)
    if proc.returncode != 0:
        raise LoadFileError(f"python exited {proc.returncode}: {_last_line(proc.stderr)}")
    found: dict[str, ScenarioSpec] = {}
    _walk(json.loads(proc.stdout), found)
    return found


def commands_in(markdown: str) -> list[str]:
    """The ``locust`` commands of a Markdown text's code blocks, continuation lines joined."""
    blocks = re.findall(r"```[^\n]*\n(.*?)```", markdown, flags=re.DOTALL)
    joined = "\n".join(blocks).replace("\\\n", " ")
    return [" ".join(line.split()) for line in joined.splitlines() if "locust -f" in line]


_TARGETS = ("P50", "P95", "P99", "error rate", "throughput")


def readme_gaps(markdown: str) -> list[str]:
    """What a load test README leaves out of the spec's: the five scenarios, a UI command,
    a headless command with users, spawn rate, run time and an HTML report, the targets."""
    text = markdown.lower()
    gaps = [f"the {name} scenario" for name in SCENARIO_NAMES if name not in text]
    commands = commands_in(markdown)
    if not any("--headless" not in command for command in commands):
        gaps.append("a command that runs with the web UI (locust -f ... without --headless)")
    headless = [c for c in commands if "--headless" in c]
    needed = ("--users", "--spawn-rate", "--run-time", "--html")
    if not any(all(flag in command for flag in needed) for command in headless):
        gaps.append(f"a headless command with {', '.join(needed)}")
    gaps += [f"the {target} target" for target in _TARGETS if target.lower() not in text]
    return gaps
