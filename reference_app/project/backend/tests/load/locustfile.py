"""Users of the formulas API: reads, searches, writes and authenticated calls.

    locust -f backend/tests/load/locustfile.py --host=http://localhost:8000

Authenticated calls log in with LOAD_TEST_USERNAME and LOAD_TEST_PASSWORD (an account made
with `python -m app.create_admin`); without them the users only read and search.
"""

from __future__ import annotations

import os
import random
import uuid

from locust import HttpUser, between, task

API = "/api/v1/formulas"
SEARCH_TERMS = ("sum", "mean", "ratio", "rate", "total")


class ApiUser(HttpUser):
    """A client of the API with a short think time between requests."""

    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        self.token: str | None = None
        username = os.environ.get("LOAD_TEST_USERNAME")
        password = os.environ.get("LOAD_TEST_PASSWORD")
        if username and password:
            response = self.client.post(
                "/api/v1/auth/login", json={"username": username, "password": password}
            )
            if response.status_code == 200:
                self.token = response.json().get("access_token")

    @task(5)
    def list_formulas(self) -> None:
        self.client.get(f"{API}?page={random.randint(1, 3)}&size=20", name=f"{API}?page")

    @task(3)
    def search(self) -> None:
        self.client.get(f"{API}?q={random.choice(SEARCH_TERMS)}", name=f"{API}?q")

    @task(1)
    def health(self) -> None:
        self.client.get("/health")

    @task(2)
    def create_formula(self) -> None:
        if self.token is None:
            return
        self.client.post(
            API,
            json={"name": f"load-{uuid.uuid4().hex[:12]}", "expression": "a + b"},
            headers={"Authorization": f"Bearer {self.token}"},
        )
