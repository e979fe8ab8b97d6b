"""The security checklist read from a deployment's configuration: the production env file, each
value with the file and line it comes from, and the judgement of secrets, placeholders and
defaults. A value is compared and measured here, never returned in a message."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from harness.probes.repofiles import bits_per_char, is_placeholder, is_secret_name, url_password

# passwords services ship with or people type first; a production value equal to one is a
# default whatever the variable is called
WELL_KNOWN_PASSWORDS = frozenset(
    {
        "admin",
        "admin123",
        "administrator",
        "changeme",
        "change-me",
        "change_me",
        "default",
        "grafana",
        "guest",
        "letmein",
        "mlflow",
        "pass",
        "passw0rd",
        "password",
        "password1",
        "postgres",
        "qwerty",
        "redis",
        "root",
        "secret",
        "test",
        "toor",
        "user",
        "123456",
        "12345678",
        "1234567890",
    }
)
# a key of fewer bits per character, or of fewer distinct characters, is a pattern, not random
_MIN_KEY_BITS_PER_CHAR = 3.0
_MIN_KEY_DISTINCT = 10
_TRUE = frozenset({"1", "true", "yes", "on", "y", "t"})
_FALSE = frozenset({"0", "false", "no", "off", "n", "f"})


@dataclass(frozen=True)
class Setting:
    """One variable's value and where it is set (``path:line``)."""

    name: str
    value: str
    where: str


@dataclass(frozen=True)
class EnvFile:
    """An environment file by variable; ``is_example``: the repository's example file, read
    because no production file was found (its secrets are placeholders by design)."""

    label: str
    settings: Mapping[str, Setting]
    is_example: bool = False

    def get(self, *names: str) -> Setting | None:
        """The first of ``names`` the file sets (aliases of one setting)."""
        return next((self.settings[n] for n in names if n in self.settings), None)


def parse_env(text: str, label: str, is_example: bool = False) -> EnvFile:
    """The variables of a ``.env`` file as python-dotenv reads it, each with its line."""
    from dotenv.parser import parse_stream

    settings: dict[str, Setting] = {}
    for binding in parse_stream(io.StringIO(text)):
        if binding.key is None or binding.error:
            continue
        original = binding.original.string
        # a binding's text starts with the blank lines before it
        line = binding.original.line + original[: len(original) - len(original.lstrip())].count(
            "\n"
        )
        settings[binding.key] = Setting(binding.key, binding.value or "", f"{label}:{line}")
    return EnvFile(label, settings, is_example)


def truth(value: str) -> bool | None:
    """A boolean setting as the usual parsers (pydantic, strtobool) read it; None: neither."""
    text = value.strip().lower()
    return True if text in _TRUE else False if text in _FALSE else None


def _period(value: str) -> int | None:
    """The length of the shortest run the value repeats (``abcabcab``: 3), else None."""
    size = len(value)
    for n in range(1, size // 2 + 1):
        if value == value[:n] * (size // n) + value[: size % n]:
            return n
    return None


def key_weakness(value: str, min_length: int, example: str | None) -> str | None:
    """Why a secret key is weak, without quoting it; None when it is strong."""
    distinct = len(set(value))
    period = _period(value) if value.strip() else None
    reasons = (
        (not value.strip(), "is empty"),
        (example is not None and value == example, "is the value of the example file"),
        (
            value.lower() in WELL_KNOWN_PASSWORDS or is_placeholder(value),
            "is a placeholder or a well-known default",
        ),
        (len(value) < min_length, f"has {len(value)} characters, fewer than {min_length}"),
        (period is not None, f"repeats a pattern of {period} characters"),
        (
            distinct < _MIN_KEY_DISTINCT or bits_per_char(value) < _MIN_KEY_BITS_PER_CHAR,
            f"is too regular to be random ({distinct} distinct characters)",
        ),
    )
    return next((reason for weak, reason in reasons if weak), None)


def default_password(value: str, known: Iterable[str] = ()) -> bool:
    """Whether a password is a well-known default (``known``: more, from user:password pairs)."""
    defaults = WELL_KNOWN_PASSWORDS | {pair.partition(":")[2].lower() for pair in known}
    return value.lower() in defaults


def password_problems(
    env: EnvFile, example: EnvFile | None, known_pairs: Iterable[str]
) -> tuple[list[str], list[str]]:
    """Problems and evidence for every password-like value of ``env``: a variable named as a
    secret, or the password inside a URL."""
    problems, evidence = [], []
    for setting in env.settings.values():
        secret = url_password(setting.value)
        named = is_secret_name(setting.name)
        if secret is None and not named:
            continue
        secret = setting.value if secret is None else secret
        what = f"{setting.where}: {setting.name}" + (
            " (the password in the URL)" if not named else ""
        )
        example_value = example.settings.get(setting.name) if example else None
        if default_password(secret, known_pairs):
            problems.append(f"{what} is a well-known default password")
        elif (
            example_value is not None
            and example_value.value
            and setting.value == example_value.value
        ):
            problems.append(f"{what} is the value of {example_value.where}")
        else:
            evidence.append(f"{what}: {len(secret)} characters, not a known default")
    return problems, evidence


def placeholder_problems(env: EnvFile, example: EnvFile | None) -> tuple[list[str], list[str]]:
    """Values left as placeholders: a secret's value with a placeholder marker, or any value
    still equal to the example's where the example's is a placeholder or a secret."""
    problems, kept = [], []
    for setting in env.settings.values():
        mine = example.settings.get(setting.name) if example else None
        from_example = mine is not None and mine.value == setting.value and bool(setting.value)
        if is_secret_name(setting.name) and (is_placeholder(setting.value) or not setting.value):
            why = "is empty" if not setting.value else "holds a placeholder"
            problems.append(f"{setting.where}: {setting.name} {why}")
        elif (
            from_example
            and mine is not None
            and (is_placeholder(mine.value) or is_secret_name(setting.name))
        ):
            problems.append(
                f"{setting.where}: {setting.name} keeps the placeholder of {mine.where}"
            )
        elif from_example:
            kept.append(setting.name)
    evidence = [f"{len(env.settings)} variables read"]
    if kept:
        evidence.append(f"equal to the example (no placeholder there): {', '.join(sorted(kept))}")
    return problems, evidence


_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d+)?$")
_LOOPBACK = re.compile(r"^https?://(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$")


def origins(value: str) -> list[str]:
    """A CORS origin list as the usual settings read it: comma-separated or a JSON list."""
    text = value.strip()
    if text.startswith("["):
        text = text.strip("[]")
    return [item.strip().strip("\"'") for item in text.split(",") if item.strip().strip("\"'")]


def origin_problems(setting: Setting) -> list[str]:
    """A production origin is an explicit https origin: no wildcard, no null, no loopback."""
    found = origins(setting.value)
    if not found:
        return [f"{setting.where}: {setting.name} is empty: no origin is configured"]
    problems = []
    for origin in found:
        if "*" in origin:
            problems.append(f"{setting.where}: {setting.name} holds the wildcard {origin!r}")
        elif origin.lower() == "null":
            problems.append(f"{setting.where}: {setting.name} allows the origin 'null'")
        elif not _ORIGIN.match(origin):
            problems.append(f"{setting.where}: {setting.name}: {origin!r} is not an origin")
        elif _LOOPBACK.match(origin):
            problems.append(f"{setting.where}: {setting.name} allows the local {origin}")
        elif origin.startswith("http://"):
            problems.append(f"{setting.where}: {setting.name} allows plain-HTTP {origin}")
    return problems
