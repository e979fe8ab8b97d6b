"""A forged Host answered by the real site, or by anything else."""

from __future__ import annotations

import httpx
import pytest

from harness.probes.hosts import forged_host, served_as_real

PAGE = "<html><head><title>Shop</title></head><body>{}</body></html>"


def _html(status: int, body: str) -> httpx.Response:
    return httpx.Response(status, headers={"content-type": "text/html"}, text=body)


def _json(status: int, body: object) -> httpx.Response:
    return httpx.Response(status, json=body)


REAL_JSON = _json(200, {"items": [1, 2], "total": 2})
REAL_HTML = _html(200, PAGE.format("Welcome, 3 items"))


@pytest.mark.parametrize(
    ("real", "forged", "served"),
    [
        (REAL_JSON, _json(400, {"detail": "Invalid host header"}), False),  # Starlette, ours
        (REAL_HTML, _html(400, "<h1>Bad Request (400)</h1>"), False),  # Django
        (REAL_JSON, _json(421, {}), False),
        (REAL_JSON, _html(404, "not found"), False),
        (REAL_HTML, httpx.Response(301, headers={"location": "https://shop.example/"}), False),
        # nginx's default server: another site
        (REAL_HTML, _html(200, "<html><title>Welcome to nginx!</title></html>"), False),
        (REAL_JSON, _json(200, {"items": [1, 2, 3], "total": 3}), True),  # the list grew
        (REAL_HTML, _html(200, PAGE.format("Welcome, 4 items")), True),
        (REAL_JSON, REAL_JSON, True),
    ],
)
def test_served_as_real(real: httpx.Response, forged: httpx.Response, served: bool) -> None:
    why = served_as_real(real, forged)
    assert (why is not None) is served, why
    if served:
        assert why == "answered 200 with the real site's content"


def test_forged_host_is_never_an_allowed_one() -> None:
    assert forged_host(["localhost", "127.0.0.1"]) == "evil.example"
    assert forged_host(["evil.example"]) == "evil.invalid"
    assert forged_host(["*.example", "*.invalid"]) == "harness-forged.invalid"
