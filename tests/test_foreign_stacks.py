"""The gate against deployments nobody here wrote (tests/foreign/): a Django project under
gunicorn, a Flask app with flask-talisman and Flask-Limiter, Debian's stock nginx. Each test
asserts the verdicts a careful engineer would give: a pass where the stack keeps the claim, a
failure with the right reason where it does not, a skip naming the parameter to set where the
stack has no such route, and one root cause where one defect blocks several checks."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.foreign import servers
from tests.foreign.gate import checks, gate, message, only_check, verdict

NOT_PERFORMANCE = ("-k", "not test_performance")
PLAIN_HTTP = "production target answers on plain HTTP and offers no HTTPS"
HTTPS_CHECKS = ("SEC-HDR-HSTS", "CFG-HTTPS-REDIRECT", "CFG-HTTPS-TLS")
CSP_DIRECTIVES = (
    "SEC-HDR-CSP-SCRIPT",
    "SEC-HDR-CSP-FRAME-ANCESTORS",
    "SEC-HDR-CSP-OBJECT",
    "SEC-HDR-CSP-BASE-URI",
)
RATE_LIMITS: tuple[str, ...] = ("SEC-RL-DEFAULT-LIMIT", "SEC-RL-429", "SEC-RL-WINDOW-RESET")
RATE_LIMITS += ("SEC-RL-PER-IP", "SEC-RL-XFF", "SEC-RL-PER-ENDPOINT", "SEC-RL-LOGIN")
# the Flask app's limits in these tests: the documented "100 per minute" shape on a 10 s
# window, so waiting for one reset costs seconds (the closing measurement uses the minute)
FLASK_WINDOW = ("100 per 10 second", "5 per 10 second")
FLASK_PARAMS = (
    "--param=api_probe_path=/api/items",
    "--param=login_path=/api/login",
    "--param=rate_limit_period_s=10",
    "--param=login_rate_limit_period_s=10",
)
ANSWERED_ABSENT = re.compile(r"answered (?:404|405|501)\b")


@pytest.fixture(scope="module")
def django_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with servers.django_site(tmp_path_factory.mktemp("django")) as url:
        yield url


@pytest.fixture(scope="module")
def flask_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    limit, login = FLASK_WINDOW
    with servers.flask_app(tmp_path_factory.mktemp("flask"), limit, login) as url:
        yield url


@pytest.fixture(scope="module")
def nginx_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if servers.nginx_binary() is None:
        pytest.skip("nginx is not installed: apt-get install nginx")
    with servers.stock_nginx(tmp_path_factory.mktemp("nginx")) as url:
        yield url


def _outcomes(matrix: dict[str, Any], *ids: str) -> dict[str, str]:
    return {rid: only_check(matrix, rid)["outcome"] for rid in ids}


def _judged_only_what_exists(matrix: dict[str, Any], output: str) -> None:
    """No check fails on a route the target lacks; every check skipped for one names the
    parameter to set; nothing ends in a traceback."""
    __tracebackhide__ = True
    assert "Traceback" not in output, output[-3000:]
    on_absent = [
        f"{rid}: {message(check)}"
        for rid, check in checks(matrix)
        if check["outcome"] in ("failed", "error") and ANSWERED_ABSENT.search(message(check))
    ]
    assert not on_absent, "judged on a route the target does not have:\n" + "\n".join(on_absent)
    unnamed = [
        f"{rid}: {message(check)}"
        for rid, check in checks(matrix)
        if check["outcome"] == "skipped"
        and ANSWERED_ABSENT.search(message(check))
        and "set --param " not in message(check)
    ]
    assert not unnamed, "skipped without the parameter to set:\n" + "\n".join(unnamed)


def _console_lines(output: str) -> int:
    return len(output.splitlines())


def _csp_is_one_root_cause(matrix: dict[str, Any], output: str) -> None:
    __tracebackhide__ = True
    assert only_check(matrix, "SEC-HDR-CSP")["outcome"] == "failed"
    assert "Content-Security-Policy is missing" in message(only_check(matrix, "SEC-HDR-CSP"))
    for rid in CSP_DIRECTIVES:
        check = only_check(matrix, rid)
        assert check["outcome"] == "blocked", check
        assert check["blocked_by"] == "SEC-HDR-CSP", check
        assert verdict(matrix, rid) == "blocked"
    assert f"SEC-HDR-CSP blocks {', '.join(CSP_DIRECTIVES)}" in output


def _plain_http_fails_https(matrix: dict[str, Any]) -> None:
    __tracebackhide__ = True
    for rid in HTTPS_CHECKS:
        check = only_check(matrix, rid)
        assert check["outcome"] == "failed", check
        assert PLAIN_HTTP in message(check), check


def test_django_defaults_are_judged_for_what_they_are(django_url: str, tmp_path: Path) -> None:
    code, output, matrix = gate(django_url, tmp_path, *NOT_PERFORMANCE)
    assert code == 1, f"exit {code}:\n{output[-3000:]}"
    _judged_only_what_exists(matrix, output)
    assert _console_lines(output) < 120, output
    # SecurityMiddleware and XFrameOptionsMiddleware keep these; ALLOWED_HOSTS answers 400
    passed = ("SEC-HDR-NOSNIFF", "SEC-HDR-XFO", "SEC-HDR-REFERRER", "CFG-ALLOWED-HOSTS")
    assert _outcomes(matrix, *passed) == dict.fromkeys(passed, "passed")
    assert "SEC-HDR-NO-DISCLOSURE" not in _failed(matrix)
    # X-XSS-Protection is not sent (Django dropped it in 3.0); no CSP before Django 6
    assert only_check(matrix, "SEC-HDR-XXSS")["outcome"] == "failed"
    _csp_is_one_root_cause(matrix, output)
    _plain_http_fails_https(matrix)
    # the admin's login page sets csrftoken without Secure (CSRF_COOKIE_SECURE is off)
    for rid in ("SEC-HDR-COOKIE-SECURE", "SEC-HDR-COOKIE-FLAGS"):
        check = only_check(matrix, rid)
        assert check["outcome"] == "failed", check
        assert "GET /admin/login/: cookie 'csrftoken': no Secure" in message(check), check
    # APPEND_SLASH: /health is a redirect to /health/, which is named as the value to set
    moved = "/health answered 301, a redirect to /health/: the route lives there; "
    for rid in ("MON-HEALTH-001", "MON-HEALTH-002", "MON-HEALTH-003", "MON-HEALTH-004"):
        check = only_check(matrix, rid)
        assert check["outcome"] == "skipped", check
        assert message(check) == moved + "set --param health_path=/health/"
    assert "health_path /health: 301 (redirects to /health/)" in output
    # no /api/v1/formulas: the rate limit is not judged on 404s
    default = only_check(matrix, "SEC-RL-DEFAULT-LIMIT")
    assert default["outcome"] == "skipped", default
    assert message(default).endswith("set --param api_probe_path=/your/route")


def _failed(matrix: dict[str, Any]) -> set[str]:
    return {e["id"] for e in matrix["requirements"] if e["verdict"] in ("failed", "error")}


def test_django_without_a_limiter_is_one_root_cause(django_url: str, tmp_path: Path) -> None:
    params = ("--param=api_probe_path=/api/items/", "--param=health_path=/health/")
    body_checks = ("INP-SQLI", "SEC-VAL-SIZE-LIMIT")
    selected = [f"--requirement={rid}" for rid in (*RATE_LIMITS[:5], "MON-HEALTH-001")]
    selected += [f"--requirement={rid}" for rid in (*body_checks, "SEC-VAL-SQLI")]
    code, output, matrix = gate(django_url, tmp_path, *params, *selected)
    assert code == 1, f"exit {code}:\n{output[-3000:]}"
    _judged_only_what_exists(matrix, output)
    default = only_check(matrix, "SEC-RL-DEFAULT-LIMIT")
    assert default["outcome"] == "failed", default
    assert message(default).endswith(
        "no rate limiter: 101 requests served, no 429 and no RateLimit/X-RateLimit headers"
    )
    for rid in RATE_LIMITS[1:5]:
        check = only_check(matrix, rid)
        assert check["outcome"] == "blocked", check
        assert check["blocked_by"] == "SEC-RL-DEFAULT-LIMIT", check
    assert "SEC-RL-DEFAULT-LIMIT blocks SEC-RL-429, SEC-RL-WINDOW-RESET" in output
    assert "waiting" not in output  # no window to wait for
    # the health endpoint at the path the discovery named: JSON, 200
    assert only_check(matrix, "MON-HEALTH-001")["outcome"] == "passed"
    # CSRF refuses every anonymous POST with 403: not an attack rejected, nothing to judge
    for rid in body_checks:
        check = only_check(matrix, rid)
        assert check["outcome"] == "skipped", check
        assert "POST /api/items/ answered 403 to a " in message(check), check
        assert "the route refuses any body" in message(check), check
    # no injection filter: the query-string attacks are served; the CSRF 403s to POST bodies
    # are not counted as rejections (a benign POST gets them too)
    sqli = only_check(matrix, "SEC-VAL-SQLI")
    assert sqli["outcome"] == "failed", sqli
    assert "sqli: 0.0% of the PL1 must-block payloads rejected" in message(sqli), sqli


def test_flask_talisman_defaults(flask_url: str, tmp_path: Path) -> None:
    code, output, matrix = gate(flask_url, tmp_path, *NOT_PERFORMANCE)
    assert code == 1, f"exit {code}:\n{output[-3000:]}"
    _judged_only_what_exists(matrix, output)
    assert _console_lines(output) < 120, output
    # Talisman's default policy is default-src 'self': one policy, scripts from self only
    assert _outcomes(matrix, "SEC-HDR-CSP", "SEC-HDR-CSP-SCRIPT", "SEC-HDR-NOSNIFF") == {
        "SEC-HDR-CSP": "passed",
        "SEC-HDR-CSP-SCRIPT": "passed",
        "SEC-HDR-NOSNIFF": "passed",
    }
    frame = only_check(matrix, "SEC-HDR-CSP-FRAME-ANCESTORS")
    assert frame["outcome"] == "failed", frame
    assert "frame-ancestors is missing" in message(frame)
    xfo = only_check(matrix, "SEC-HDR-XFO")
    assert "X-Frame-Options is 'SAMEORIGIN', expected 'DENY'" in message(xfo), xfo
    # Talisman sends HSTS only over HTTPS, and there is none here
    _plain_http_fails_https(matrix)
    # Flask answers any Host with the real site
    hosts = only_check(matrix, "CFG-ALLOWED-HOSTS")
    assert hosts["outcome"] == "failed", hosts
    assert "with Host: evil.example answered 200 with the real site's content" in message(hosts)
    assert only_check(matrix, "MON-HEALTH-001")["outcome"] == "passed"
    assert "'timestamp' is a required property" in message(only_check(matrix, "MON-HEALTH-002"))
    for rid in RATE_LIMITS:  # the defaults point at routes the app does not have
        check = only_check(matrix, rid)
        assert check["outcome"] == "skipped", check
        assert "set --param " in message(check), check
    assert verdict(matrix, "SEC-HDR-COOKIE-SECURE") == "skipped"  # no page sets a cookie


def test_flask_limiter_limits_per_route_not_per_client(flask_url: str, tmp_path: Path) -> None:
    selected = [f"--requirement={rid}" for rid in RATE_LIMITS]
    code, output, matrix = gate(flask_url, tmp_path, *FLASK_PARAMS, *selected)
    assert code == 1, f"exit {code}:\n{output[-3000:]}"
    _judged_only_what_exists(matrix, output)
    default = only_check(matrix, "SEC-RL-DEFAULT-LIMIT")
    assert default["outcome"] == "failed", default
    per_route = "the limit is per route, not per client IP: after 100 requests to /api/items"
    assert per_route in message(default), default
    # within one route the limiter keeps every promise, its whole-second reset included
    unkept = {
        rid: message(only_check(matrix, rid))
        for rid in RATE_LIMITS[1:]
        if only_check(matrix, rid)["outcome"] != "passed"
    }
    assert not unkept, unkept
    entry = next(e for e in matrix["requirements"] if e["id"] == "SEC-RL-WINDOW-RESET")
    assert entry["checks"][0]["applied"]["rate_limit_period_s"] == 10
    assert output.count("rate limiting: waiting") <= 1, output  # one window wait per gate


def test_stock_nginx_default_page(nginx_url: str, tmp_path: Path) -> None:
    code, output, matrix = gate(nginx_url, tmp_path, *NOT_PERFORMANCE)
    assert code == 1, f"exit {code}:\n{output[-3000:]}"
    _judged_only_what_exists(matrix, output)
    assert _console_lines(output) < 120, output
    for rid in ("SEC-HDR-NOSNIFF", "SEC-HDR-XFO", "SEC-HDR-REFERRER"):
        check = only_check(matrix, rid)
        assert check["outcome"] == "failed", check
        assert "is missing" in message(check), check
    disclosure = only_check(matrix, "SEC-HDR-NO-DISCLOSURE")
    assert "Server discloses a version: 'nginx/" in message(disclosure), disclosure
    _csp_is_one_root_cause(matrix, output)
    _plain_http_fails_https(matrix)
    assert only_check(matrix, "CFG-ALLOWED-HOSTS")["outcome"] == "failed"
    # a static site: no health endpoint, no API, no login; each named, none failed
    skipped = {
        "MON-HEALTH-001": "health_path",
        "SEC-RL-DEFAULT-LIMIT": "api_probe_path",
        "SEC-RL-LOGIN": "login_path",
        "SEC-VAL-SQLI": "api_probe_path",
        "INP-SQLI": "api_probe_path",
    }
    for rid, param in skipped.items():
        check = only_check(matrix, rid)
        assert check["outcome"] == "skipped", check
        assert message(check).endswith(f"set --param {param}=/your/route"), check
    assert "HTML page: /" in output
