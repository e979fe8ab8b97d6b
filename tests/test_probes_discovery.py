"""Discovery against in-process targets: which paths exist, pages, cookies, HTTPS."""

from __future__ import annotations

from collections.abc import Mapping

import httpx
import pytest

from harness.probes import tls
from harness.probes.discovery import (
    Answer,
    Discovery,
    Handshake,
    discover,
    https_offer,
    lines,
    moved_to,
)

PATHS = {"health_path": "/health", "api_probe_path": "/api/v1/formulas", "login_path": "/login"}
HTML = {"content-type": "text/html; charset=utf-8"}
JSON = {"content-type": "application/json"}


def _client(routes: Mapping[str, httpx.Response], base: str = "http://127.0.0.1:9") -> httpx.Client:
    def handle(request: httpx.Request) -> httpx.Response:
        return routes.get(request.url.path, httpx.Response(404, headers=HTML, text="nope"))

    return httpx.Client(base_url=base, transport=httpx.MockTransport(handle))


def _refused(url: str) -> tls.Handshake:
    return tls.Handshake(None, "ConnectionRefusedError: refused")


def _discover(routes: Mapping[str, httpx.Response], **kwargs: str) -> Discovery:
    with _client(routes, **kwargs) as client:
        return discover(client, PATHS, handshake=_refused)


def test_a_django_like_site() -> None:
    csrf = "csrftoken=abc; Path=/; SameSite=Lax"
    found = _discover(
        {
            "/": httpx.Response(200, headers=HTML, text="<html>"),
            "/admin/login/": httpx.Response(200, headers={**HTML, "set-cookie": csrf}),
            "/health": httpx.Response(200, text="ok"),
        }
    )
    assert found.exists("health_path")
    assert not found.exists("api_probe_path")
    assert not found.exists("login_path")
    assert found.missing("api_probe_path") == (
        "/api/v1/formulas answered 404: the target has no such route; "
        "set --param api_probe_path=/your/route"
    )
    assert found.missing("health_path") is None
    assert found.html_page is not None
    assert found.html_page.path == "/"
    assert found.json_route is None  # /health is text
    assert [page.path for page in found.cookie_pages] == ["/admin/login/"]
    assert found.cookie_pages[0].cookies == (csrf,)
    assert found.https is False
    assert found.serves_plain_http_only
    assert found.plain_redirect is False


def test_a_post_only_login_answering_405_exists_but_an_api_answering_405_does_not() -> None:
    found = _discover({"/login": httpx.Response(405), "/api/v1/formulas": httpx.Response(405)})
    assert found.exists("login_path")
    assert not found.exists("api_probe_path")


def test_json_route_and_unprobed_parameters() -> None:
    found = _discover({"/api/v1/formulas": httpx.Response(200, headers=JSON, json={"items": []})})
    assert found.json_route is not None
    assert found.json_route.path == "/api/v1/formulas"
    assert found.exists("upload_path")  # not probed: no claim that it is missing
    assert found.missing("upload_path") is None


def test_cookies_from_a_404_page_do_not_count_as_a_page() -> None:
    tracked = httpx.Response(404, headers={**HTML, "set-cookie": "visitor=1"})
    found = _discover({"/login": tracked})
    assert found.cookie_pages == []


def test_the_record_and_its_lines() -> None:
    found = _discover(
        {
            "/": httpx.Response(301, headers={"location": "https://127.0.0.1/"}),
            "/login": httpx.Response(200, headers={**HTML, "set-cookie": "session=1; Secure"}),
        }
    )
    record = found.to_json()
    assert record["paths"]["login_path"] == {
        "path": "/login", "status": 200, "media_type": "text/html",
        "cookies": ["session"], "exists": True,
    }  # fmt: skip
    assert record["plain_http_redirects"] is True
    shown = lines(record)
    assert "api_probe_path /api/v1/formulas: 404 (MISSING)" in shown
    assert "pages setting cookies: /login (session)" in shown
    assert "the plain-HTTP target URL redirects to HTTPS: yes" in shown
    assert any(line.startswith("HTTPS: not offered") for line in shown)


def _timeout(url: str) -> tls.Handshake:
    raise TimeoutError("timed out")


@pytest.mark.parametrize(
    ("base", "handshake", "expected"),
    [
        ("https://shop.example", _refused, True),
        ("http://127.0.0.1:8000", _refused, False),
        ("http://127.0.0.1:8000", _timeout, False),  # loopback: nothing can hide in front
        ("http://shop.example:8000", _timeout, None),  # a proxy elsewhere cannot be seen
        ("http://shop.example:8000", _refused, False),
        ("http://shop.example", lambda url: tls.Handshake("TLSv1.3"), True),
    ],
)
def test_https_offer(base: str, handshake: Handshake, expected: bool | None) -> None:
    offered, note = https_offer(base, handshake)
    assert offered is expected, note


def test_a_request_that_gets_no_answer_is_status_zero() -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with httpx.Client(base_url="http://127.0.0.1:9", transport=httpx.MockTransport(fail)) as c:
        found = discover(c, {"health_path": "/health"}, handshake=_refused)
    assert found.paths["health_path"] == Answer("/health", 0)
    assert found.exists("health_path")  # no answer is not a 404: the checks say what happened


def test_a_frontend_on_https_is_https_offered() -> None:
    with _client({}) as client:
        found = discover(client, PATHS, handshake=_refused, surfaces=("https://127.0.0.1:8443",))
    assert found.https is True
    assert found.https_note == "TLS at https://127.0.0.1:8443"
    assert not found.serves_plain_http_only


@pytest.mark.parametrize(
    ("path", "status", "location", "moved"),
    [
        ("/health", 301, "/health/", "/health/"),  # Django's APPEND_SLASH
        ("/health", 302, "http://127.0.0.1:9/status?full=1", "/status?full=1"),
        ("/health", 301, "https://example.org/health", None),  # the HTTPS redirect
        ("/health", 200, "", None),
        ("/health", 304, "", None),  # no Location: not a move
    ],
)
def test_a_redirect_to_another_path_is_where_the_route_lives(
    path: str, status: int, location: str, moved: str | None
) -> None:
    assert moved_to(path, status, location) == moved


def test_a_moved_health_path_is_missing_and_names_where_it_went() -> None:
    moved = httpx.Response(301, headers={"location": "/health/"})
    found = _discover({"/health": moved, "/health/": httpx.Response(200, headers=JSON)})
    assert not found.exists("health_path")
    assert found.missing("health_path") == (
        "/health answered 301, a redirect to /health/: the route lives there; "
        "set --param health_path=/health/"
    )
    assert "health_path /health: 301 (redirects to /health/)" in lines(found.to_json())
