"""Known traffic for the metrics checks: scrape, send requests whose routes and statuses are
known, scrape again, and say how the target's counters should have moved."""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx

from harness.probes import answers
from harness.probes.metrics import MetricsFormatError, Scrape, status_class

PROMETHEUS_TYPES = ("text/plain", "application/openmetrics-text")
# ids no formula has: far above any a test deployment reaches, within a 32-bit integer
MISSING_IDS = tuple(2_000_000_000 + n for n in range(1, 5))
LIST_READS = 3
ITEM_READS = 5


class ScrapeFailed(Exception):
    """The metrics endpoint did not answer with metrics (one line); ``absent`` when its
    status says there is no such route (the metrics may live at another path)."""

    def __init__(self, message: str, absent: bool = False) -> None:
        super().__init__(message)
        self.absent = absent


def scrape(client: httpx.Client, path: str) -> Scrape:
    """``GET path`` parsed; ScrapeFailed says in one line why it could not be read."""
    try:
        response = client.get(path)
    except httpx.HTTPError as exc:
        raise ScrapeFailed(f"GET {path} failed: {exc}") from None
    if response.status_code in answers.ABSENT:
        raise ScrapeFailed(
            f"GET {path} answered {response.status_code}: the target has no such route; "
            "set --param metrics_path=/your/route",
            absent=True,
        )
    if response.status_code != 200:
        raise ScrapeFailed(f"GET {path} answered {answers.excerpt(response)}")
    kind = answers.media_type(response)
    if kind not in PROMETHEUS_TYPES:
        raise ScrapeFailed(
            f"GET {path} answered Content-Type {kind or '(none)'}, not the Prometheus text format"
        )
    try:
        return Scrape.parse(response.text)
    except MetricsFormatError as exc:
        raise ScrapeFailed(f"GET {path}: {exc}") from None


def create_formula(client: httpx.Client, api_path: str, label: str) -> str:
    """A new formula's id (the item the traffic reads); UnexpectedAnswer on another API."""
    body = {"name": f"metrics {label} {secrets.token_hex(4)}", "expression": "x + 1"}
    created = client.post(api_path, json=body)
    answers.present(created, "a formula created", answers.FORMULAS_API)
    answers.status_in(created, {200, 201}, "a formula created", answers.FORMULAS_API)
    return str(answers.identifier(created, api=answers.FORMULAS_API))


def item_path(api_path: str, ident: object) -> str:
    return f"{api_path.rstrip('/')}/{ident}"


@dataclass
class Traffic:
    """What the harness sent between two scrapes, and what came back."""

    list_path: str
    item_paths: set[str] = field(default_factory=set)
    # (kind, status) -> answers; kind is "list" or "item"
    answered: Counter[tuple[str, int]] = field(default_factory=Counter)

    def covers(self, route: str) -> bool:
        """Whether ``route`` (a template or a raw path) lies under the API path read."""
        return route == self.list_path or route.startswith(self.list_path.rstrip("/") + "/")

    def sent(self, kind: str | None = None) -> int:
        return sum(n for (k, _), n in self.answered.items() if kind in (None, k))

    def errors(self, kind: str | None = None) -> int:
        return sum(n for (k, s), n in self.answered.items() if s >= 400 and kind in (None, k))

    def by_status(self, classes: bool = False) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for (_, status), n in self.answered.items():
            counts[status_class(status) if classes else str(status)] += n
        return dict(counts)

    def error_classes(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for (_, status), n in self.answered.items():
            if status >= 400:
                counts[status_class(status)] += n
        return dict(counts)

    def to_json(self) -> dict[str, object]:
        return {
            "requests": self.sent(),
            "errors": self.errors(),
            "answers": {f"GET {kind} {status}": n for (kind, status), n in self.answered.items()},
        }


def send_reads(client: httpx.Client, api_path: str, ident: str) -> Traffic:
    """GET the list ``LIST_READS`` times, the formula ``ident`` ``ITEM_READS`` times and
    formulas that do not exist once each (the failing requests)."""
    traffic = Traffic(api_path)
    for _ in range(LIST_READS):
        traffic.answered["list", client.get(api_path).status_code] += 1
    paths = [item_path(api_path, ident)] * ITEM_READS
    paths += [item_path(api_path, missing) for missing in MISSING_IDS]
    for path in paths:
        traffic.item_paths.add(path)
        traffic.answered["item", client.get(path).status_code] += 1
    return traffic


def _listing(moves: Mapping[str, float]) -> str:
    return ", ".join(f"{label or '(none)'}: {value:g}" for label, value in sorted(moves.items()))


def judge_routes(moves: Mapping[str, float], traffic: Traffic, what: str) -> list[str]:
    """Problems with how ``what`` moved per route label for ``traffic``: raw paths as labels,
    requests not counted (or counted twice), one route's requests spread over labels."""
    problems: list[str] = []
    # requests to other routes in the meantime are the deployment's own (an orchestrator's
    # health check, a scraper): only the routes under the API path the harness read are judged
    moves = {label: n for label, n in moves.items() if traffic.covers(label)}
    raw = sorted(label for label in moves if label in traffic.item_paths)
    if raw:
        problems.append(
            f"{what} is labelled by raw path ({', '.join(raw)}): the route label must be the "
            "route template, or every id makes a new series"
        )
    total, sent = sum(moves.values()), traffic.sent()
    if total != sent:
        hint = (
            ": if the target balances requests over several replicas, point it at one"
            if total < sent
            else ": something else sent requests meanwhile"
        )
        problems.append(f"{what} moved by {total:g} for the {sent} requests sent{hint}")
    for kind in ("list", "item"):
        expected = traffic.sent(kind)
        if not any(value == expected for label, value in moves.items() if label not in raw):
            problems.append(
                f"no route label of {what} moved by the {expected} {kind} reads "
                f"(moved: {_listing(moves) or 'nothing'})"
            )
    return problems
