"""Waivers: requirements a team accepts as not kept, each with a reason, an owner and an expiry.

The file is TOML, one table per waiver::

    [[waiver]]
    id = "SEC-HDR-HSTS"
    reason = "TLS ends at the load balancer, which sets HSTS"
    owner = "platform-team"
    expires = 2027-03-01

Every problem (unreadable file, an unknown id, a missing field, an expired waiver) is one
``ConfigError`` line naming the file and the entry, raised before any check runs.
"""

from __future__ import annotations

import tomllib
from collections.abc import Container, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from harness.errors import ConfigError

FIELDS = ("id", "reason", "owner", "expires")


@dataclass(frozen=True)
class Waiver:
    id: str
    reason: str
    owner: str
    expires: date

    def to_json(self) -> dict[str, str]:
        return {
            "reason": self.reason,
            "owner": self.owner,
            "expires": self.expires.isoformat(),
        }


def as_date(value: Any, where: str, name: str = "expires") -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ConfigError(f"{where}: {name} {value!r} is not a date (write {name} = 2027-03-01)")


def _waiver(raw: Any, where: str, known: Container[str], today: date) -> Waiver:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a [[waiver]] table")
    missing = [name for name in FIELDS if name not in raw]
    if missing:
        raise ConfigError(
            f"{where}: missing {', '.join(missing)} (a waiver needs {', '.join(FIELDS)})"
        )
    unknown = sorted(set(raw) - set(FIELDS))
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {', '.join(unknown)}")
    for name in ("id", "reason", "owner"):
        if not isinstance(raw[name], str) or not raw[name].strip():
            raise ConfigError(f"{where}: {name} must be a non-empty string")
    if raw["id"] not in known:
        raise ConfigError(
            f"{where}: unknown requirement id {raw['id']!r}; see `harness requirements`"
        )
    expires = as_date(raw["expires"], where)
    if expires < today:
        raise ConfigError(
            f"{where}: the waiver expired on {expires.isoformat()}; renew it or fix the requirement"
        )
    return Waiver(raw["id"], raw["reason"].strip(), raw["owner"].strip(), expires)


def read_tables(path: Path, table: str, option: str) -> list[Any]:
    """The ``[[table]]`` entries of the TOML file ``path``; raises ConfigError with one line."""
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such {table}s file; check {option}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    unknown = sorted(set(data) - {table})
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {', '.join(unknown)}; write [[{table}]] tables")
    entries = data.get(table, [])
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: '{table}' must be an array of tables ([[{table}]])")
    return entries


def entry_label(path: Path, table: str, index: int, raw: Any) -> str:
    """How an error names an entry: ``file: waiver 2 (SEC-HDR-HSTS)``."""
    label = raw.get("id") if isinstance(raw, dict) else None
    return f"{path}: {table} {index}" + (f" ({label})" if isinstance(label, str) else "")


def load_waivers(
    path: Path, known: Container[str], today: date | None = None
) -> Mapping[str, Waiver]:
    """The waivers of ``path`` by requirement id; raises ConfigError with one line."""
    today = today or date.today()
    waivers: dict[str, Waiver] = {}
    for index, raw in enumerate(read_tables(path, "waiver", "--waivers"), start=1):
        where = entry_label(path, "waiver", index, raw)
        waiver = _waiver(raw, where, known, today)
        if waiver.id in waivers:
            raise ConfigError(f"{where}: {waiver.id} is waived twice")
        waivers[waiver.id] = waiver
    return waivers
