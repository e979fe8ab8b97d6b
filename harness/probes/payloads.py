"""The injection payload corpora shipped in ``fixtures/corpora/injection`` (see its README.md
for the record format, NOTICE for their sources and licences)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import HarnessError
from harness.resources import fixture_path

MUST_BLOCK = ("crs-must-block.jsonl",)
MUST_BLOCK_PL2 = ("crs-must-block-pl2.jsonl",)
# the paranoia-level tiers of the must-block corpora: the gate judges PL1, PL2 is reported
GATED_TIER = "PL1"
TIERS = ("PL1", "PL2")
MUST_ALLOW = ("crs-must-allow.jsonl", "libinjection-benign.jsonl")
CLASSES = ("sqli", "xss", "traversal")


class CorpusError(HarnessError):
    """A corpus file is missing or malformed."""


@dataclass(frozen=True)
class Payload:
    """One request of a corpus, as its README describes the record."""

    id: str
    cls: str
    location: str
    method: str
    uri: str
    headers: tuple[tuple[str, str], ...]
    body: str
    expect: str
    edge_case: bool = False
    tier: str = ""
    payload: str = ""
    extra: dict[str, object] = field(default_factory=dict, compare=False, repr=False)

    @property
    def path(self) -> str:
        return self.uri.split("?", 1)[0]

    @property
    def query(self) -> str:
        return self.uri.partition("?")[2]

    @property
    def body_bytes(self) -> bytes:
        return self.body.encode("utf-8")


def _record(data: dict[str, object], where: str) -> Payload:
    try:
        headers = data.get("headers") or {}
        assert isinstance(headers, dict)
        return Payload(
            id=str(data["id"]),
            cls=str(data["class"]),
            location=str(data["location"]),
            method=str(data.get("method") or "GET"),
            uri=str(data["uri"]),
            headers=tuple((str(k), str(v)) for k, v in headers.items()),
            body=str(data.get("body") or ""),
            expect=str(data["expect"]),
            edge_case=bool(data.get("edge_case", False)),
            tier=str(data.get("tier") or ""),
            payload=str(data.get("payload") or ""),
            extra=data,
        )
    except (KeyError, AssertionError) as exc:
        raise CorpusError(f"{where}: record lacks a valid field {exc}") from None


def corpus_dir() -> Path:
    """The shipped corpora's folder (``harness.fixtures``, found by importlib.resources)."""
    try:
        return fixture_path("corpora", "injection")
    except HarnessError as exc:
        raise CorpusError(str(exc)) from None


def load_file(path: Path) -> list[Payload]:
    """Every record of one JSON Lines corpus file."""
    if not path.is_file():
        raise CorpusError(
            f"injection corpus {path} not found: the harness ships it in "
            "fixtures/corpora/injection; reinstall it"
        )
    records = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                try:
                    data = json.loads(line)
                except ValueError as exc:
                    raise CorpusError(f"{path.name}:{number}: not JSON: {exc}") from None
                records.append(_record(data, f"{path.name}:{number}"))
    return records


def load(names: Iterable[str], directory: Path | None = None) -> list[Payload]:
    """The records of the named corpus files, in order."""
    base = directory or corpus_dir()
    return [record for name in names for record in load_file(base / name)]


def must_block(directory: Path | None = None) -> list[Payload]:
    return load(MUST_BLOCK, directory)


def must_block_pl2(directory: Path | None = None) -> list[Payload]:
    return load(MUST_BLOCK_PL2, directory)


def must_allow(directory: Path | None = None) -> list[Payload]:
    return load(MUST_ALLOW, directory)


def counted(records: Iterable[Payload]) -> Iterator[Payload]:
    """Records that count towards the rates: edge cases are reported, not counted."""
    return (record for record in records if not record.edge_case)


# --- turning records into requests and judging the answers ----------------------------------

# what a security layer answers when it rejects a request as an attack; 404/405 from routing,
# 413, 422 from the app's own validation and 429 from a rate limiter are not that
REJECT_STATUSES = frozenset({400, 403})
NO_ROUTE_STATUSES = frozenset({404, 405, 501})
# the rate limit allows 100 requests per 60 s per client address: stay well below it
REQUESTS_PER_ADDRESS = 80


@dataclass(frozen=True)
class WireRequest:
    """What the raw sender puts on the wire for one record."""

    method: str
    target: str
    headers: tuple[tuple[str, str], ...]
    body: bytes


def wire_request(record: Payload, probe_path: str) -> WireRequest:
    """The record as a request to the target: path records go as they are; for the others
    the path becomes ``probe_path`` (an endpoint that exists), query, headers and body stay."""
    if record.location == "path":
        target = record.uri
    else:
        target = probe_path + (f"?{record.query}" if "?" in record.uri else "")
    headers = tuple((name, value) for name, value in record.headers if name.lower() != "host")
    return WireRequest(record.method, target, headers, record.body_bytes)


# answers to a benign request that show the route refuses every request of that shape from
# this client (no such route or method, authentication or CSRF required): the corpus
# records of that shape cannot show what a security layer does, and are not counted
REFUSED_STATUSES = frozenset({401, 403, *NO_ROUTE_STATUSES})
Shape = tuple[str, str]  # (method, media type of the body)


def shape_of(record: Payload) -> Shape | None:
    """The method and body media type a control request copies; None for path records,
    which carry URIs of their own."""
    if record.location == "path":
        return None
    content_type = next((v for k, v in record.headers if k.lower() == "content-type"), "")
    return record.method.upper(), content_type


def control_request(shape: Shape, probe_path: str) -> WireRequest:
    """A benign request of ``shape`` to ``probe_path``: what the route answers to anyone."""
    method, content_type = shape
    media_type = content_type.split(";", 1)[0].strip().lower()
    body = b""
    if method not in ("GET", "HEAD", "DELETE", "OPTIONS"):
        if media_type == "application/json":
            body = b'{"q": "hello"}'
        elif media_type == "multipart/form-data" and "boundary=" in content_type:
            boundary = content_type.split("boundary=", 1)[1].split(";", 1)[0].strip('" ')
            body = (
                f'--{boundary}\r\nContent-Disposition: form-data; name="q"\r\n\r\n'
                f"hello\r\n--{boundary}--\r\n"
            ).encode()
        elif media_type == "application/x-www-form-urlencoded":
            body = b"q=hello"
        else:
            body = b"hello"
    headers = (("Content-Type", content_type),) if content_type else ()
    return WireRequest(method, probe_path, headers, body)


def is_rejected(status: int) -> bool:
    return status in REJECT_STATUSES


def loopback_addresses(block: int, count: int) -> list[str]:
    """``count`` source addresses 127.77.<block>.1 ... for spreading a corpus over clients."""
    if not 0 <= block <= 255 or not 0 < count <= 254:
        raise ValueError("block must be 0-255 and count 1-254")
    return [f"127.77.{block}.{host}" for host in range(1, count + 1)]


def spread(records: Sequence[Payload], block: int) -> list[tuple[str, Payload]]:
    """Each record with the source address to send it from, at most REQUESTS_PER_ADDRESS
    records per address."""
    needed = max(1, -(-len(records) // REQUESTS_PER_ADDRESS))
    addresses = loopback_addresses(block, needed)
    return [(addresses[i // REQUESTS_PER_ADDRESS], rec) for i, rec in enumerate(records)]


@dataclass
class Tally:
    """Rejections counted per class and location; edge cases kept apart."""

    total: Counter[tuple[str, str]] = field(default_factory=Counter)
    rejected: Counter[tuple[str, str]] = field(default_factory=Counter)
    edge_rejected: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    wrong: list[str] = field(default_factory=list)  # misses (block) or false positives (allow)
    # must-allow requests answered as if there were no route: served by nothing, so they
    # prove nothing about false positives and are not counted
    unreached: list[str] = field(default_factory=list)
    # records whose shape the route refuses to a benign request too: not counted
    refused: list[str] = field(default_factory=list)

    def add(
        self, record: Payload, status: int | None, error: str = "", control: int | None = None
    ) -> None:
        """Count one answer; ``control`` is what a benign request of the same shape got."""
        if status is None:
            self.errors[record.id] = error
            return
        if control in REFUSED_STATUSES:
            self.refused.append(f"{record.id} ({status}; benign: {control})")
            return
        if record.expect == "allow" and status in NO_ROUTE_STATUSES:
            self.unreached.append(f"{record.id} ({status})")
            return
        rejected = is_rejected(status)
        if record.edge_case:
            if rejected:
                self.edge_rejected.append(record.id)
            return
        key = (record.cls, record.location)
        self.total[key] += 1
        self.rejected[key] += rejected
        if rejected != (record.expect == "block"):
            self.wrong.append(f"{record.id} ({status})")

    def rate(self, cls: str | None = None) -> float:
        """Share rejected, over one class or all; 0.0 when nothing was counted."""
        keys = [key for key in self.total if cls is None or key[0] == cls]
        total = sum(self.total[key] for key in keys)
        return sum(self.rejected[key] for key in keys) / total if total else 0.0

    def counted(self, cls: str | None = None) -> int:
        return sum(n for key, n in self.total.items() if cls is None or key[0] == cls)

    def table(self) -> dict[str, str]:
        """ "class/location" -> "rejected/total (rate)", for the evidence."""
        return {
            f"{cls}/{loc}": f"{self.rejected[(cls, loc)]}/{n} ({self.rejected[(cls, loc)] / n:.1%})"
            for (cls, loc), n in sorted(self.total.items())
        }
