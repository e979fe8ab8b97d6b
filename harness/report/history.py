"""Run history: one compact record per gate run in ``REPORT_DIR/history/``, and the trend per
requirement against the earlier runs of the same target and profile.

A record holds the run's verdicts, not its evidence (under 10 kB for the whole catalogue): a
folder of ``HISTORY_CAP`` records stays under 2 MB. The trend compares the last ``WINDOW``
comparable runs:

- ``new``: no earlier run of this target and profile judged the requirement;
- ``newly_failing``: failed or errored now, passed (or scaled/partial) the last run that
  judged it; ``fixed``: the reverse;
- ``flaky``: within the window its verdict flipped between passing and failing at least twice
  between runs of the same known target version (one flip may be a change of the deployment's
  configuration; a flip back and forth with no new version is not);
- ``steady``: anything else (a skip, a deselection or an uncovered run changes nothing).
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

RECORD_FORMAT = 1
HISTORY_CAP = 200  # records kept in the folder, all targets and profiles together
WINDOW = 10  # comparable runs (this one included) the trend looks at
PASSING = frozenset({"passed", "scaled", "partial"})
FAILING = frozenset({"failed", "error"})
# a run that did not select the requirement says nothing of it: not recorded
UNRECORDED = frozenset({"deselected"})
TRENDS = ("newly_failing", "fixed", "flaky", "new", "steady")
VERSION_SOURCE = "MON-HEALTH-004"  # the check that reads the version /health reports

Warn = Callable[[str], None]


def target_version(matrix: Mapping[str, Any]) -> str | None:
    """The version the target reported of itself: what its description carries, else what
    its /health said in this run; None when unknown."""
    for target in matrix.get("targets") or ():
        for key in ("version", "app_version"):
            if isinstance(target, Mapping) and isinstance(target.get(key), str):
                return str(target[key])[:64]
    for entry in matrix.get("requirements") or ():
        if entry.get("id") != VERSION_SOURCE:
            continue
        for item in entry.get("evidence") or ():
            value = item.get("value") if item.get("label") == "version" else None
            if isinstance(value, str) and value:
                return value[:64]
    return None


def target_key(target: Mapping[str, Any]) -> str:
    """What makes two runs' targets the same system: the URL of a deployment; the image of a
    container stack; the embedded reference app is one target whatever port it listened on."""
    kind = str(target.get("kind") or "unknown")
    if kind == "url":
        return f"url {target.get('url')}"
    if kind == "containers":
        return f"containers {target.get('backend_image') or 'reference'}"
    return kind


def make_record(matrix: Mapping[str, Any]) -> dict[str, Any]:
    """The compact record of one run."""
    targets = matrix.get("targets") or [{}]
    first: Mapping[str, Any] = targets[0]
    return {
        "format": RECORD_FORMAT,
        "generated_at": matrix.get("generated_at"),
        "headline": matrix.get("headline"),
        "target": {
            "kind": first.get("kind"),
            "url": first.get("url"),
            "key": target_key(first),
            "version": target_version(matrix),
        },
        "profile": matrix.get("profile"),
        "harness_version": matrix.get("harness_version"),
        "verdicts": {
            e["id"]: e["verdict"]
            for e in matrix.get("requirements") or ()
            if e.get("verdict") not in UNRECORDED
        },
    }


def record_run(
    matrix: Mapping[str, Any],
    history_dir: Path,
    warn: Warn | None = None,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Append this run's record to ``history_dir`` (trimmed to ``HISTORY_CAP``) and return the
    matrix's ``history``: the trend of each recorded requirement over the comparable runs."""
    say = warn or (lambda line: None)
    record = make_record(matrix)
    earlier = [r for r in read_records(history_dir, say) if _comparable(r, record)]
    try:
        _append(history_dir, record, now or datetime.now(UTC))
        _trim(history_dir, HISTORY_CAP)
    except OSError as exc:  # a read-only report folder loses the history, not the run
        say(f"history: could not write to {history_dir}: {exc.strerror or exc}")
    return trends([*earlier[-(WINDOW - 1) :], record])


def read_records(history_dir: Path, warn: Warn) -> list[dict[str, Any]]:
    """The folder's records, oldest first; a malformed one is skipped with one line."""
    if not history_dir.is_dir():
        return []
    records = []
    for path in sorted(history_dir.glob("*.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            warn(f"history: skipped {path.name}: not a readable JSON record ({exc})"[:300])
            continue
        why = _malformed(record)
        if why:
            warn(f"history: skipped {path.name}: {why}")
            continue
        records.append(record)
    return records


def _malformed(record: Any) -> str | None:
    if not isinstance(record, dict):
        return "not a JSON object"
    if record.get("format") != RECORD_FORMAT:
        return f"unknown record format {record.get('format')!r}"
    if not isinstance(record.get("target"), dict):
        return "no target"
    verdicts = record.get("verdicts")
    if not isinstance(verdicts, dict) or not all(isinstance(v, str) for v in verdicts.values()):
        return "no verdicts by requirement id"
    return None


def _comparable(earlier: Mapping[str, Any], record: Mapping[str, Any]) -> bool:
    return bool(
        earlier["target"].get("key") == record["target"]["key"]
        and earlier.get("profile") == record["profile"]
    )


def _append(history_dir: Path, record: Mapping[str, Any], now: datetime) -> Path:
    history_dir.mkdir(parents=True, exist_ok=True)
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path = history_dir / f"{stamp}-{secrets.token_hex(3)}.json"
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(record, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(partial, path)  # a reader never sees half a record
    return path


def _trim(history_dir: Path, cap: int) -> None:
    records = sorted(history_dir.glob("*.json"))
    for path in records[: max(0, len(records) - cap)]:
        path.unlink(missing_ok=True)


def trends(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The ``history`` value of the last record, judged against those before it."""
    current = records[-1]
    versions = [r["target"].get("version") for r in records]
    result: dict[str, dict[str, Any]] = {}
    for rid in current["verdicts"]:
        seen = [
            (version, record["verdicts"][rid])
            for version, record in zip(versions, records, strict=True)
            if rid in record["verdicts"]
        ]
        result[rid] = {"trend": trend(seen), "recent": [said for _, said in seen]}
    return {"runs": len(records), "window": WINDOW, "requirements": result}


def trend(seen: Sequence[tuple[str | None, str]]) -> str:
    """The trend of one requirement from its (target version, verdict) per run, oldest first;
    the last is this run."""
    if len(seen) < 2:
        return "new"
    judged = [(version, verdict in PASSING) for version, verdict in seen if _judged(verdict)]
    same_version_flips = sum(
        1
        for (before, was), (after, now) in pairwise(judged)
        if was != now and before is not None and before == after
    )
    if same_version_flips >= 2:
        return "flaky"
    verdict = seen[-1][1]
    if not _judged(verdict) or len(judged) < 2:
        return "steady"
    passing_before = judged[-2][1]
    if verdict in FAILING and passing_before:
        return "newly_failing"
    if verdict in PASSING and not passing_before:
        return "fixed"
    return "steady"


def _judged(verdict: str) -> bool:
    return verdict in PASSING or verdict in FAILING


def trend_lines(history: Mapping[str, Any]) -> list[str]:
    """What the console says of the history: the counts, then the ids of each change."""
    requirements: Mapping[str, Mapping[str, Any]] = history.get("requirements") or {}
    runs = int(history.get("runs") or 0)
    if runs <= 1:
        return ["history: the first recorded run of this target and profile; nothing to compare"]
    by_trend: dict[str, list[str]] = {name: [] for name in TRENDS}
    for rid, row in sorted(requirements.items()):
        by_trend.setdefault(str(row.get("trend")), []).append(rid)
    counts = ", ".join(f"{len(by_trend[name])} {name.replace('_', ' ')}" for name in TRENDS)
    lines = [f"history: {runs} runs of this target and profile compared: {counts}"]
    for name in ("newly_failing", "fixed", "flaky"):
        for rid in by_trend[name]:
            recent = " > ".join(requirements[rid].get("recent") or ())
            lines.append(f"  {name.replace('_', ' '):<13} {rid}  ({recent})")
    return lines
