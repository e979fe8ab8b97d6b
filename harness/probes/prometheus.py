"""Prometheus' own HTTP API, read the way a check needs it: is it ready, which targets it
scrapes and how they fare, what a PromQL query returns, and a bounded wait for fresh scrapes.

Every answer of another shape (not Prometheus, an error status, a failed query) becomes one
``UnexpectedAnswer`` line naming the endpoint, what was expected and what came back.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any

import httpx

from harness.errors import TargetUnreachable, UnexpectedAnswer
from harness.probes.answers import excerpt, json_object, unexpected

API = "Prometheus' HTTP API (set prometheus_url)"
POLL_S = 1.0
_FRACTION = re.compile(r"\.\d+")  # seconds' fraction: Python reads six digits, not nine


class ScrapeTimeout(TargetUnreachable):
    """Prometheus did not scrape every target of a job within the bound."""


def scrape_started(target: dict[str, Any]) -> float | None:
    """Unix time at which the last scrape of ``target`` began, or None before the first."""
    stamp = target.get("lastScrape")
    if not isinstance(stamp, str) or stamp.startswith("0001-"):
        return None
    # Prometheus writes RFC 3339 with nanoseconds; Python reads at most microseconds
    stamp = _FRACTION.sub(lambda m: m.group(0)[:7], stamp)
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def describe_target(target: dict[str, Any]) -> str:
    """``job instance: health (last error)`` on one line, for evidence."""
    found = target.get("labels")
    labels: dict[str, Any] = found if isinstance(found, dict) else {}
    job = labels.get("job") or target.get("scrapePool", "?")
    instance = labels.get("instance") or target.get("scrapeUrl", "?")
    error = target.get("lastError") or ""
    return f"{job} {instance}: {target.get('health', '?')}" + (f" ({error})" if error else "")


class PrometheusApi:
    """A client of one Prometheus server (``url`` without a trailing path)."""

    def __init__(
        self, url: str, timeout: float = 10.0, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.transport = transport  # tests answer in-process (httpx.MockTransport)

    def _get(self, path: str, params: dict[str, str] | None = None) -> httpx.Response:
        try:
            with httpx.Client(transport=self.transport, timeout=self.timeout) as client:
                return client.get(self.url + path, params=params)
        except httpx.HTTPError as exc:
            raise TargetUnreachable(
                f"Prometheus at {self.url} does not answer GET {path}: {exc or type(exc).__name__}"
            ) from None

    def _data(
        self, path: str, expected: str, params: dict[str, str] | None = None
    ) -> tuple[httpx.Response, Any]:
        response = self._get(path, params)
        body = json_object(response, ("status",), API)
        if body.get("status") != "success" or "data" not in body:
            detail = body.get("error") or excerpt(response)
            raise UnexpectedAnswer(f"GET {path}", expected, f"{response.status_code} {detail}")
        return response, body["data"]

    def ready(self) -> bool:
        """Whether ``/-/ready`` answers 200 (an unreachable server raises)."""
        return self._get("/-/ready").status_code == 200

    def targets(self) -> list[dict[str, Any]]:
        """The active targets (``/api/v1/targets``), each as Prometheus describes it."""
        expected = "a success answer with data.activeTargets as a list"
        response, data = self._data("/api/v1/targets", expected, {"state": "active"})
        found = data.get("activeTargets") if isinstance(data, dict) else None
        if not isinstance(found, list) or not all(isinstance(t, dict) for t in found):
            raise unexpected(response, expected, API)
        return found

    def query(self, promql: str) -> list[dict[str, Any]]:
        """The instant vector ``promql`` evaluates to now (a scalar or string result is a
        one-item list holding its ``value``)."""
        expected = f"a success answer with data.result for {promql!r}"
        response, data = self._data("/api/v1/query", expected, {"query": promql})
        if not isinstance(data, dict) or not isinstance(data.get("result"), list):
            raise unexpected(response, expected, API)
        if data.get("resultType") in ("scalar", "string"):
            return [{"metric": {}, "value": data["result"]}]
        result: list[dict[str, Any]] = data["result"]
        return result

    def wait_scraped_after(
        self,
        moment: float,
        job: str = "backend",
        timeout: float = 60,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Wait until every target of ``job`` has a scrape that began after ``moment``.

        ``moment`` is a Unix time (``time.time()``), as Prometheus reports scrapes in wall
        time; the bound ``timeout`` is measured on ``clock``."""
        deadline = clock() + timeout
        while True:
            mine = [t for t in self.targets() if job_of(t) == job]
            stale = [t for t in mine if (scrape_started(t) or 0.0) <= moment]
            if mine and not stale:
                return
            if clock() >= deadline:
                waiting = ", ".join(describe_target(t) for t in stale) or "no target at all"
                raise ScrapeTimeout(
                    f"Prometheus at {self.url} did not scrape job {job!r} within {timeout:g} s "
                    f"after the moment asked for: {waiting}"
                )
            sleep(POLL_S)


def job_of(target: dict[str, Any]) -> str | None:
    """The ``job`` label of an active target (its scrape pool when unlabelled)."""
    labels = target.get("labels")
    job = labels.get("job") if isinstance(labels, dict) else None
    return job if isinstance(job, str) else target.get("scrapePool")


def unsettled(
    targets: list[dict[str, Any]], jobs: Collection[str], since: float
) -> tuple[list[dict[str, Any]], list[str]]:
    """What keeps a judgement of the targets from being about now: targets never scraped, or
    not up in a scrape that began before ``since`` (Unix time; another check may have stopped
    and restarted the service since), and the jobs of ``jobs`` without a target yet
    (discovery follows Prometheus' start by seconds)."""

    def settled(target: dict[str, Any]) -> bool:
        began, health = scrape_started(target), target.get("health")
        return began is not None and (health == "up" or (health == "down" and began > since))

    pending = [target for target in targets if not settled(target)]
    have = {job_of(t) for t in targets}
    return pending, [job for job in jobs if job not in have]


NEEDS_PROMETHEUS = (
    "needs a Prometheus: run with --stack containers (which starts one) or set "
    "--param prometheus_url=URL"
)


def prometheus_url(user_set: str | None, stack: str | None) -> str | None:
    """The Prometheus a check talks to: the one the user named (prometheus_url set anywhere),
    else the stack's own; None when neither exists, for the check to skip with
    ``NEEDS_PROMETHEUS`` (the catalogue's default is the spec's example, not a finding that
    a Prometheus answers there)."""
    return user_set or stack or None
