"""A forged Host answered by the real site, or by anything else."""

from __future__ import annotations

import httpx
import pytest

from harness.probes.hosts import HostCase, attack_cases, forged_host, judge_case, served_as_real

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


def test_attack_cases_cover_the_host_variants() -> None:
    cases = {case.name: case for case in attack_cases("evil.example", "127.0.0.1:8000", "/api")}
    assert cases["forged Host with a port"].host_lines == ("evil.example:443",)
    assert cases["forged Host with a trailing dot"].host_lines == ("evil.example.",)
    assert cases["forged Host first of two Host lines"].host_lines == (
        "evil.example",
        "127.0.0.1:8000",
    )
    absolute = cases["absolute URI naming the forged host"]
    assert (absolute.target, absolute.host_lines) == (
        "http://evil.example/api",
        ("127.0.0.1:8000",),
    )
    forwarded = [case for case in cases.values() if case.headers]
    assert {case.target for case in forwarded} == {"/api", "/api/"}  # "/api/" elicits redirects
    assert {case.headers[0][0] for case in forwarded} == {"X-Forwarded-Host", "X-Host", "Forwarded"}


@pytest.mark.parametrize(
    ("host_judged", "answer", "attack"),
    [
        (True, _json(400, {"detail": "Invalid host header: evil.example"}), False),
        (True, REAL_JSON, True),  # the real site under the forged name
        (False, REAL_JSON, False),  # a forwarded header ignored: the real site, rightly
        (False, httpx.Response(307, headers={"location": "http://evil.example/api"}), True),
        (False, httpx.Response(307, headers={"location": "http://127.0.0.1/api"}), False),
        (False, _html(200, '<a href="https://evil.example/reset">reset</a>'), True),
    ],
)
def test_judge_case(host_judged: bool, answer: httpx.Response, attack: bool) -> None:
    case = HostCase("probe", "/api", ("127.0.0.1",), (), host_judged)
    why = judge_case(case, "evil.example", REAL_JSON, answer)
    assert (why is not None) is attack, why
