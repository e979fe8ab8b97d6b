"""The reference API under load: reads, searches, writes and authenticated calls.

Works with plain locust, as the spec runs it::

    locust -f harness/load/locustfile.py --host=http://localhost:8000
    locust -f harness/load/locustfile.py --host=http://localhost:8000 --headless \\
        --users 50 --spawn-rate 5 --run-time 10m --html reports/load_test.html

Each user plans ``--harness-user-rps`` requests per second on a fixed schedule, one request
per task, so a late answer is measurable against its plan. Authenticated calls need
an account: ``HARNESS_LOAD_USERNAME`` and ``HARNESS_LOAD_PASSWORD`` (without them the mix
has no authenticated calls, and says so). ``harness load`` adds the scenario's load shape
(``shapes.py``) and the exact recorder (``recording.py``).
"""

from __future__ import annotations

import logging
import os
import random
import time
import uuid
from typing import Any, ClassVar

import gevent
from gevent.lock import Semaphore
from locust import FastHttpUser, task

logger = logging.getLogger("harness.load")

API = "/api/v1/formulas"
SEARCH_TERMS = ("sum", "mean", "ratio", "load", "x", "formula", "total", "rate")
DEFAULT_USER_RPS = 3.0
OWN_ITEMS = 5  # each user keeps at most this many formulas of its own: the table stays small


def _field(response: Any, name: str, kind: type | tuple[type, ...]) -> Any:
    """Field ``name`` of a JSON-object answer when it has type ``kind``, else None."""
    try:
        body = response.json()
    except (ValueError, TypeError):  # not JSON, or no body at all
        return None
    value = body.get(name) if isinstance(body, dict) else None
    return value if isinstance(value, kind) and not isinstance(value, bool) else None


def _is_id(value: object) -> bool:
    return isinstance(value, int | str) and not isinstance(value, bool) and value != ""


def _unexpected(response: Any, endpoint: str, expected: str) -> None:
    """Count an answer of another shape as a failed request, said in one line (this file
    runs under plain locust too, so it does not use harness.probes.answers)."""
    text = " ".join((response.text or "").split())
    got = f"{response.status_code} {text[:120]!r}" if text else f"{response.status_code} (empty)"
    response.failure(f"{endpoint}: expected {expected}, got {got}")


def _user_rps(user: FastHttpUser) -> float:
    """``--harness-user-rps`` when the harness runs us (recording.py defines it), else 3."""
    options = user.environment.parsed_options
    return float(getattr(options, "harness_user_rps", DEFAULT_USER_RPS) or DEFAULT_USER_RPS)


class ApiUser(FastHttpUser):
    """One client of the reference API, pacing its requests to a planned rate."""

    # one token per process: argon2 makes a login deliberately slow, a real client keeps it
    _token: ClassVar[str | None] = None
    _token_lock: ClassVar[Semaphore] = Semaphore()
    _login_failed: ClassVar[bool] = False
    _known_ids: ClassVar[list[int | str]] = []
    next_start: float = 0.0  # the planned start of the next request (time.monotonic)

    def wait_time(self) -> float:
        """Until the next planned start: one every 1 / rate seconds on a fixed schedule.

        Locust's ``constant_throughput`` measures each wait from the last task's end with
        gevent's cached loop time; its errors accumulate and pull the users into step, so
        they fire in bursts the deployment would not see from real clients. A fixed
        schedule cannot drift; a user that falls behind starts at once and does not try to
        catch up (the correction for coordinated omission accounts for what it missed)."""
        now = time.monotonic()
        self.next_start = max(self.next_start + 1 / _user_rps(self), now)
        return float(self.next_start - now)

    def on_start(self) -> None:
        self.own: list[int | str] = []
        # a random phase: users spawned together would otherwise fire in step
        gevent.sleep(random.uniform(0, 1 / _user_rps(self)))
        self.next_start = time.monotonic()

    # --- reads -----------------------------------------------------------------------------
    @task(3)
    def list_page(self) -> None:
        page = random.randint(1, 3)
        with self.client.get(
            f"{API}?page={page}&size=20", name=f"GET {API}?page", catch_response=True
        ) as response:
            if response.status_code != 200:
                return  # locust judges the status itself
            items = _field(response, "items", list)
            if items is None:
                _unexpected(response, f"GET {API}", "a JSON object with 'items' as an array")
                return
            ids = [
                item["id"] for item in items if isinstance(item, dict) and _is_id(item.get("id"))
            ]
            if ids:
                ApiUser._known_ids = ids[-50:]

    @task(3)
    def search(self) -> None:
        term = random.choice(SEARCH_TERMS)
        self.client.get(f"{API}?q={term}", name=f"GET {API}?q")

    @task(3)
    def read_one(self) -> None:
        choices = self.own or ApiUser._known_ids
        if not choices:
            self.list_page()
            return
        with self.client.get(
            f"{API}/{random.choice(choices)}", name=f"GET {API}/{{id}}", catch_response=True
        ) as response:
            if response.status_code == 404:
                response.success()  # another user deleted it meanwhile: a normal outcome

    # --- writes ----------------------------------------------------------------------------
    @task(2)
    def write(self) -> None:
        if len(self.own) >= OWN_ITEMS:
            formula_id = self.own.pop(0)
            self.client.delete(f"{API}/{formula_id}", name=f"DELETE {API}/{{id}}")
        elif self.own and random.random() < 0.5:
            self.client.patch(
                f"{API}/{random.choice(self.own)}",
                json={"description": f"updated {uuid.uuid4().hex[:8]}"},
                name=f"PATCH {API}/{{id}}",
            )
        else:
            body = {
                "name": f"load {uuid.uuid4().hex}",
                "expression": f"x * {random.randint(1, 99)} + y",
                "description": "created by the load test",
            }
            with self.client.post(API, json=body, name=f"POST {API}", catch_response=True) as r:
                if r.status_code != 201:
                    return
                created = _field(r, "id", (int, str))
                if _is_id(created):
                    self.own.append(created)
                else:
                    _unexpected(r, f"POST {API}", "a JSON object with 'id'")

    # --- authenticated ---------------------------------------------------------------------
    @task(1)
    def who_am_i(self) -> None:
        token = self._login()
        if token is None:
            return
        self.client.get(
            "/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}, name="GET /auth/me"
        )

    def _login(self) -> str | None:
        with ApiUser._token_lock:
            if ApiUser._token is None and not ApiUser._login_failed:
                ApiUser._token = self._fetch_token()
                ApiUser._login_failed = ApiUser._token is None
        return ApiUser._token

    def _fetch_token(self) -> str | None:
        username = os.environ.get("HARNESS_LOAD_USERNAME")
        password = os.environ.get("HARNESS_LOAD_PASSWORD")
        if not username or not password:
            logger.warning(
                "no HARNESS_LOAD_USERNAME / HARNESS_LOAD_PASSWORD: "
                "the mix runs without authenticated calls"
            )
            return None
        response = self.client.post(
            "/api/v1/auth/login",
            json={"username": username, "password": password},
            name="POST /auth/login",
        )
        token = _field(response, "access_token", str) if response.status_code == 200 else None
        if not isinstance(token, str):
            logger.warning("login as %s failed with %s", username, response.status_code)
            return None
        return token
