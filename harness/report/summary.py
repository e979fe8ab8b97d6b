"""The gate's closing summary on the terminal, read from matrix.json: one line per requirement
that ran (failures first), the counts, what would prove the rest, the headline."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.report.verdicts import LABELS, counts_line

# the start of a skip reason -> (the cause as a group title, what would prove it)
CAUSES: tuple[tuple[str, str, str], ...] = (
    ("needs an attestation", "needs an attestation", "--attestations FILE"),
    (
        "needs the deployment's repository",
        "needs the deployment's repository",
        "--project-root DIR",
    ),
    ("needs stack control", "needs stack control", "--stack containers"),
    ("needs a Redis component", "needs a Redis component", "--stack containers"),
    ("needs a frontend service", "needs a frontend service", "--stack containers"),
    ("needs a containers stack", "needs a containers stack", "--stack containers"),
    ("needs two backend replicas", "needs backend replicas", "--stack containers"),
    ("needs access to the audit log", "needs the audit log", "--stack containers"),
    ("needs a second instance", "needs a second app instance", "--stack containers"),
    ("needs a way to create user", "needs user accounts", "--stack containers"),
    ("needs distinct client addresses", "needs distinct client addresses", "a loopback target"),
    ("needs a host on the load/attack", "needs the load/attack allow-list", "--allow-host HOST"),
    ("needs a load generator address", "needs a load generator apart", "harness load SCENARIO"),
    ("the target has no HTTPS", "no HTTPS endpoint", "an https:// --target-url"),
    ("the target has no plain-HTTP", "no plain-HTTP entry", "--stack containers"),
    ("nothing listens for plain HTTP", "no plain-HTTP entry", "--stack containers"),
)
# the order of the per-requirement lines: what broke first, what is fine last; a verdict this
# list does not know (added later) comes right after the failures
ORDER = (
    "failed",
    "error",
    "blocked",
    "partial",
    "skipped",
    "scaled",
    "waived",
    "attested",
    "passed",
)
# the user's own statements (waivers, attestations): shown whole on the console
WHOLE = ("waived", "attested")
# counted, not listed: nothing of them ran (their ids are in matrix.md)
COUNTED = ("not_applicable", "deselected", "uncovered")
# how pytest frames a check's own verdict; the reason reads better without it
_FRAME = re.compile(r"^(?:AssertionError|Failed|Skipped): ")
_METHOD = re.compile(r"^(?:GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS) (?=/)")
REASON_WIDTH = 100  # characters of a reason on the console; matrix.md has the whole message
MAX_IDS = 12  # more ids than this in one group are a wall: the matrix lists them all
LISTED_PER_CAUSE = 10  # skips of one cause listed one per line up to this many


def _wrap(ids: list[str]) -> str:
    shown = ids if len(ids) <= MAX_IDS else [*ids[:MAX_IDS], f"... {len(ids) - MAX_IDS} more"]
    return textwrap.fill(
        ", ".join(shown),
        width=96,
        initial_indent="      ",
        subsequent_indent="      ",
        break_on_hyphens=False,
    )


def cause_of(reason: str) -> tuple[str, str]:
    """(cause, the option or setting that would prove it) of one skip reason."""
    for prefix, cause, remedy in CAUSES:
        if reason.startswith(prefix):
            return cause, remedy
    head = reason.split(";", maxsplit=1)[0].split(":", maxsplit=1)[0].strip()
    # "GET /x answered 404" and "/x answered 404" are one missing route, whatever the method
    head = _METHOD.sub("", head)
    # a probe path the target does not have: the reason ends with the parameter to set
    _, setting, fix = reason.rpartition("set --param ")
    if setting:
        return head[:80], setting + fix
    # "...: use --stack containers": the reason ends with the option to use
    _, use, option = reason.rpartition(": use ")
    return head[:80], option.strip() if use else "see the reason in matrix.md"


def causes(entry: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Why an applicable requirement is not proven, as (cause, remedy); empty when it is."""
    verdict = entry["verdict"]
    if verdict == "scaled":
        return [("scaled load scenarios (quick profile)", "--load-profile full")]
    if verdict == "uncovered":
        return [("uncovered (no check yet)", "write a check")]
    if verdict in ("skipped", "partial"):
        found = [cause_of(reason) for reason in entry["skip_reasons"]]
        return list(dict.fromkeys(found)) or [("skipped without a reason", "see matrix.md")]
    return []


def not_proven(entries: list[Mapping[str, Any]]) -> dict[tuple[str, str], list[str]]:
    """Applicable requirements that are not proven, by (cause, remedy), in catalogue order."""
    groups: dict[tuple[str, str], list[str]] = {}
    for entry in entries:
        for key in causes(entry):
            groups.setdefault(key, []).append(entry["id"])
    return groups


def blocked_by_cause(entries: list[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Blocked requirements under the root cause that blocks them, in catalogue order."""
    causes: dict[str, list[str]] = {}
    for entry in entries:
        for cause in entry.get("blocked_by", ()) if entry["verdict"] == "blocked" else ():
            causes.setdefault(cause, []).append(entry["id"])
    return causes


def plain(message: str) -> str:
    """A check's message without pytest's ``AssertionError: `` framing."""
    return _FRAME.sub("", message.strip(), count=1)


def reason(entry: Mapping[str, Any], applied: bool = True) -> str:
    """Why a requirement has its verdict, in the check's own words (every message, joined);
    with ``applied``, also the applied parameters that differ from the declared ones."""
    verdict = entry["verdict"]
    parts: list[str] = []
    if verdict == "blocked" and entry.get("blocked_by"):
        parts.append(f"blocked by {', '.join(entry['blocked_by'])}")
    if verdict in ("failed", "error", "blocked"):
        outcomes = (
            ("failed", "error")
            if verdict != "blocked"
            else ("failed", "error", "blocked", "skipped")
        )
        said = [
            plain(c.get("message") or c.get("skip_reason") or "")
            for c in entry["checks"]
            if c["outcome"] in outcomes
        ]
        joined = "; ".join(dict.fromkeys(m for m in said if m))
        # a blocked check's message already opens with "blocked by ID": say it once
        if parts and joined.startswith(parts[0]):
            parts.pop()
        parts.append(joined)
    elif verdict == "waived":
        w = entry["waiver"]
        parts.append(
            f"{w['reason']} (owner {w['owner']}, expires {w['expires']}; "
            f"its checks: {w['checks_verdict']})"
        )
    elif verdict == "attested":
        a = entry["attestation"]
        parts.append(
            f"attested by {a['by']} on {a['on']}, expires {a['expires']}; evidence: {a['evidence']}"
        )
    elif verdict == "scaled":
        parts.append(f"ran {entry['scaled']['share']}; only --load-profile full proves it")
    elif verdict in ("skipped", "partial", "not_applicable"):
        parts.append("; ".join(entry["skip_reasons"]))
    elif verdict == "uncovered":
        parts.append("no check yet")
    elif verdict == "deselected":
        parts.append("left out by this run's selection")
    else:
        count = len(entry["checks"])
        parts.append(f"{count} check{'s' if count != 1 else ''}")
    if applied:
        parts.append(differences(entry))
    return "; ".join(part for part in parts if part)


def shorten(text: str, width: int = REASON_WIDTH) -> str:
    """The first line of ``text``, cut at a word boundary to ``width`` characters."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if len(first) <= width:
        return first
    cut = first[: width - 4].rsplit(" ", maxsplit=1)[0].rstrip(" ;,:")
    return f"{cut} ..."


def crowded(entries: list[Mapping[str, Any]]) -> set[str]:
    """Skipped requirements whose cause leaves more than LISTED_PER_CAUSE unproven: that
    cause is said once with its count and remedy, not as a wall of identical lines."""
    ids = {rid for g in not_proven(entries).values() if len(g) > LISTED_PER_CAUSE for rid in g}
    return {e["id"] for e in entries if e["verdict"] == "skipped" and e["id"] in ids}


def requirement_lines(entries: list[Mapping[str, Any]]) -> list[str]:
    """One line per requirement whose checks ran: id, verdict, reason; failures first; the
    skips of a crowded cause are counted under their cause instead."""
    hidden = crowded(entries)
    # an unanswered attestation ran nothing either: its cause group below names the fix
    shown = [
        e
        for e in entries
        if e["verdict"] not in COUNTED
        and e["id"] not in hidden
        and not (e["verdict"] == "skipped" and e.get("kind") == "attestation")
    ]

    def rank(entry: Mapping[str, Any]) -> int:
        verdict = entry["verdict"]
        return ORDER.index(verdict) if verdict in ORDER else ORDER.index("blocked")

    shown.sort(key=rank)  # stable: catalogue order within a verdict
    id_width = max((len(e["id"]) for e in shown), default=0)
    label_width = max((len(LABELS.get(e["verdict"], e["verdict"])) for e in shown), default=0)
    return [
        f"  {e['id']:<{id_width}}  {LABELS.get(e['verdict'], e['verdict']):<{label_width}}  "
        # a waiver's or attestation's who and expiry are the user's own words and matter whole
        # the differing parameters have their own block below the lines
        f"{reason(e, False) if e['verdict'] in WHOLE else shorten(reason(e, False))}".rstrip()
        for e in shown
    ]


def _inapplicable_lines(entries: Sequence[Mapping[str, Any]], profile: str) -> list[str]:
    """Counts of the rows the profile leaves out and of those a check found nothing to judge
    in (``evidence.not_applicable``: no database connection to encrypt on SQLite)."""
    inapplicable = [e for e in entries if e["verdict"] == "not_applicable"]
    by_profile = sum(1 for e in inapplicable if not e["applicable"])
    lines = [f"not applicable to profile {profile}: {by_profile}"] if by_profile else []
    if len(inapplicable) > by_profile:
        lines.append(f"not applicable to this deployment: {len(inapplicable) - by_profile}")
    return lines


def render_summary(matrix: Mapping[str, Any], report_dir: Path, log: Path | None = None) -> str:
    """The console's summary; ``log`` is the file that holds pytest's own output, if any."""
    s = matrix["summary"]
    entries = matrix["requirements"]
    lines = ["", *requirement_lines(entries), ""]
    lines += [
        f"requirements: {s['total']} in the catalogue, profile {matrix['profile']}",
        f"  {counts_line(s)}",
    ]
    blocked = blocked_by_cause(entries)
    if blocked:
        lines.append("root causes (fix these first):")
        lines += [f"  {cause} blocks {', '.join(ids)}" for cause, ids in blocked.items()]
    lines += _inapplicable_lines(entries, matrix["profile"])
    if s.get("attested"):
        lines.append(
            f"attested (a person's statement, not a check): {s['attested']}; "
            "they count toward PASS like a waiver"
        )
    if s.get("deselected"):
        lines.append(f"deselected (left out by this run's selection): {s['deselected']}")
    groups = not_proven(entries)
    if groups:
        lines.append("not proven, by cause (ids in matrix.md):")
        hidden = crowded(entries)
        for (cause, remedy), ids in sorted(groups.items(), key=lambda kv: -len(kv[1])):
            unlisted = " (not listed above)" if hidden.intersection(ids) else ""
            lines.append(f"  {cause}: {len(ids)}{unlisted} -> {remedy}")
    changed: dict[str, list[str]] = {}
    # a scaled run's shortened durations are said under "scaled load scenarios" already
    for entry in (e for e in entries if e["verdict"] != "scaled" and "scaled" not in e):
        for difference in _differences(entry):
            changed.setdefault(difference, []).append(entry["id"])
    if changed:
        lines.append("applied parameters that differ from the declared ones:")
        for difference, ids in changed.items():
            lines.append(f"  {difference} ({len(ids)})")
            lines.append(_wrap(ids))
    names = ("matrix.json", "matrix.md", "matrix.html", "junit.xml", "allure-results", "history")
    written = [report_dir / name for name in names if (report_dir / name).exists()]
    lines.append(f"reports: {', '.join(str(path) for path in written)}")
    if (report_dir / "allure-results").is_dir():
        lines.append("the Allure HTML report and the trend: harness report")
    if log is not None:
        lines.append(f"pytest's output (tracebacks, assertion details): {log}")
    lines.append(f"verdict: {matrix['headline']}")
    return "\n".join(lines)


def _differences(entry: Mapping[str, Any]) -> list[str]:
    declared, applied = entry["params"], entry.get("applied", {})
    return [
        f"{name} {_value(declared[name])} declared, {_value(applied[name])} applied"
        for name in declared
        if name in applied and applied[name] != declared[name]
    ]


def differences(entry: Mapping[str, Any]) -> str:
    """``rate_limit_period_s 60 declared, 10 applied``, for each parameter where they differ."""
    return "; ".join(_differences(entry))


def _value(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value) if isinstance(value, str) else str(value)
