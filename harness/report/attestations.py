"""Attestations: a person's statement that a human process no program can check was done.

Only requirements of ``kind: attestation`` take one. The file is TOML, one table each::

    [[attestation]]
    id = "OPS-MAINT-ACCESS-LOGS-REVIEWED"
    by = "ops-oncall@example.com"
    on = 2026-11-28
    evidence = "https://wiki.example.com/ops/access-log-review-2026-11"
    expires = 2026-12-31

A malformed file, an unknown id, an id that is not ``kind: attestation``, a missing field or a
statement dated in the future is one ``ConfigError`` line, raised before any check runs. An
expired attestation is no error: recurring work falls due, so the requirement is simply not
attested and the matrix says since when.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from harness.errors import ConfigError
from harness.report.waivers import as_date, entry_label, read_tables
from harness.spec import Catalogue

FIELDS = ("id", "by", "on", "evidence", "expires")
# the skip reason of an attestation requirement nobody answered; summary.CAUSES groups by it
NEEDS_ATTESTATION = "needs an attestation: add it to --attestations FILE"


@dataclass(frozen=True)
class Attestation:
    id: str
    by: str
    on: date
    evidence: str
    expires: date

    def expired(self, today: date) -> bool:
        return self.expires < today

    def to_json(self) -> dict[str, str]:
        return {
            "by": self.by,
            "on": self.on.isoformat(),
            "evidence": self.evidence,
            "expires": self.expires.isoformat(),
        }


def unattested_reason(attestation: Attestation | None) -> str:
    """Why a ``kind: attestation`` requirement is not attested (no statement, or an old one)."""
    if attestation is None:
        return NEEDS_ATTESTATION
    return (
        f"{NEEDS_ATTESTATION} (the one by {attestation.by} of {attestation.on.isoformat()} "
        f"expired on {attestation.expires.isoformat()})"
    )


def _attestation(raw: Any, where: str, catalogue: Catalogue, today: date) -> Attestation:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected an [[attestation]] table")
    missing = [name for name in FIELDS if name not in raw]
    if missing:
        raise ConfigError(
            f"{where}: missing {', '.join(missing)} (an attestation needs {', '.join(FIELDS)})"
        )
    unknown = sorted(set(raw) - set(FIELDS))
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {', '.join(unknown)}")
    for name in ("id", "by", "evidence"):
        if not isinstance(raw[name], str) or not raw[name].strip():
            raise ConfigError(f"{where}: {name} must be a non-empty string")
    rid = raw["id"]
    if rid not in catalogue:
        raise ConfigError(f"{where}: unknown requirement id {rid!r}; see `harness requirements`")
    if catalogue[rid].kind != "attestation":
        raise ConfigError(
            f"{where}: {rid} is checked by the harness, not attested; only requirements of "
            "kind: attestation take an attestation (a waiver is for the others)"
        )
    on = as_date(raw["on"], where, "on")
    expires = as_date(raw["expires"], where)
    if on > today:
        raise ConfigError(f"{where}: on {on.isoformat()} is in the future")
    if expires < on:
        raise ConfigError(f"{where}: expires {expires.isoformat()} is before on {on.isoformat()}")
    return Attestation(rid, raw["by"].strip(), on, raw["evidence"].strip(), expires)


def load_attestations(
    path: Path, catalogue: Catalogue, today: date | None = None
) -> Mapping[str, Attestation]:
    """The attestations of ``path`` by requirement id, expired ones included."""
    today = today or date.today()
    attestations: dict[str, Attestation] = {}
    for index, raw in enumerate(read_tables(path, "attestation", "--attestations"), start=1):
        where = entry_label(path, "attestation", index, raw)
        attestation = _attestation(raw, where, catalogue, today)
        if attestation.id in attestations:
            raise ConfigError(f"{where}: {attestation.id} is attested twice")
        attestations[attestation.id] = attestation
    return attestations
