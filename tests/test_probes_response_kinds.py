"""Response kinds from in-process targets: each kind under its own status, the rest listed."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from harness.probes.response_kinds import ordinary_kinds

HTML = {"content-type": "text/html"}
JSON = {"content-type": "application/json"}


def _client(handle: Callable[[httpx.Request], httpx.Response]) -> httpx.Client:
    return httpx.Client(base_url="http://t", transport=httpx.MockTransport(handle))


def _django_like(request: httpx.Request) -> httpx.Response:
    """No API at the probe path; a page at /, JSON at /health; DELETE anywhere is a 404."""
    path = request.url.path
    if path == "/" and request.method in ("GET", "HEAD"):
        return httpx.Response(200, headers=HTML, text="<html>")
    if path == "/health" and request.method == "GET":
        return httpx.Response(200, headers=JSON, json={"status": "ok"})
    if request.method == "TRACE":
        return httpx.Response(400, headers=HTML, text="bad")
    return httpx.Response(404, headers=HTML, text="missing")


def test_discovered_routes_give_json_and_html_and_a_404_stays_a_404() -> None:
    with _client(_django_like) as client:
        kinds = ordinary_kinds(client, "/api/v1/formulas", ("/docs", "/"), "/", ("/health",))
    assert kinds.responses["json-200"].request.url.path == "/health"
    assert kinds.responses["html-200"].request.url.path == "/"
    # the 404 sample is the missing page, not the DELETE that also answered 404
    assert kinds.responses["404"].request.method == "GET"
    assert kinds.responses["400"].request.method == "TRACE"
    assert kinds.missing["405"] == (
        "TRACE /api/v1/formulas answered 400; DELETE /api/v1/formulas answered 404"
    )
    assert "json-200" not in kinds.missing


def test_a_405_is_kept_under_405() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/items" and request.method == "GET":
            return httpx.Response(200, headers=JSON, json=[])
        if request.url.path == "/items":
            return httpx.Response(405)
        return httpx.Response(404)

    with _client(handle) as client:
        kinds = ordinary_kinds(client, "/items", ("/",), "/items")
    assert kinds.responses["405"].request.method == "TRACE"
    assert kinds.responses["404"].request.method == "GET"
    assert "405" not in kinds.missing
    assert kinds.missing["html-200"] == "none of ['/'] answered 200 text/html"
