"""The gate against a small third-party-like API (tests/foreign_app.py), which has none of the
reference API: every check ends in its own words, and an answer of an unexpected shape is one
line naming the endpoint, what was expected and what came back; never a Python exception."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.probes import answers
from harness.stacks.processes import free_port
from tests.foreign import gate as fg
from tests.foreign.gate import checks, gate, only_check, verdict
from tests.foreign.servers import serve
from tests.verdicts import exception_named

# the one line of harness.errors.UnexpectedAnswer, as the matrix shows it
UNEXPECTED = re.compile(
    r"^(?P<endpoint>(?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) /\S*): "
    r"expected (?P<expected>.+?), got (?P<got>\d{3} \S+ .+)$"
)
FORMULAS_HINT = answers.FORMULAS_API


@pytest.fixture(scope="module")
def foreign_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    argv = [sys.executable, "-m", "uvicorn", "tests.foreign_app:app", "--no-access-log"]
    argv += ["--host", "127.0.0.1", "--port", str(port)]
    with serve("foreign-app", argv, tmp_path_factory.mktemp("foreign"), port) as url:
        yield url


def test_the_whole_gate_speaks_in_its_own_words(foreign_url: str, tmp_path: Path) -> None:
    # the spec's 60 s windows: an API without a limiter is judged without waiting for one
    code, output, matrix = gate(foreign_url, tmp_path, "-k", "not test_performance")
    assert code in (1, 4), f"exit {code}:\n{output[-3000:]}"
    assert "Traceback" not in output, output[-3000:]
    judged = [(rid, c) for rid, c in checks(matrix) if c["outcome"] != "passed"]
    assert any(c["outcome"] == "failed" for _, c in judged), "nothing failed on a foreign API"
    crashes = [
        f"{rid} {check['nodeid']} ({check['outcome']}): {fg.message(check)}"
        for rid, check in judged
        if exception_named(fg.message(check))
    ]
    assert not crashes, "checks ended in a Python exception:\n" + "\n".join(crashes)
    # on this target an error can only be an answer the check could not judge: its line
    # names the endpoint, what was expected and what came back (UnexpectedAnswer)
    shapeless = [
        f"{rid}: {fg.message(check)}"
        for rid, check in judged
        if (check["outcome"] == "error" or ", got " in fg.message(check))
        and not UNEXPECTED.search(fg.message(check))
    ]
    assert not shapeless, "errors without endpoint, expectation and answer:\n" + "\n".join(
        shapeless
    )
    sqli = only_check(matrix, "INP-SQLI")
    assert sqli["outcome"] == "error", sqli
    assert verdict(matrix, "INP-SQLI") == "error"
    found = UNEXPECTED.search(fg.message(sqli))
    assert found, sqli
    assert found["endpoint"] == "POST /api/v1/formulas"
    assert found["expected"] == f"a JSON object with 'id' from {FORMULAS_HINT}"
    assert found["got"] == '201 application/json \'{"status":"accepted"}\''
    # no login API at all: its rate limit is not judged on a 404, the check names the parameter
    for rid in ("SEC-RL-LOGIN", "SEC-RL-PER-ENDPOINT"):
        check = only_check(matrix, rid)
        assert check["outcome"] == "skipped", check
        assert fg.message(check) == (
            "POST /api/v1/auth/login answered 404: the target has no such route; "
            "set --param login_path=/your/route"
        )
    # no limiter at all: one root cause, its dependants blocked by it, no window waited for
    default = only_check(matrix, "SEC-RL-DEFAULT-LIMIT")
    assert default["outcome"] == "failed", default
    assert fg.message(default).endswith(
        "no rate limiter: 101 requests served, no 429 and no RateLimit/X-RateLimit headers"
    )
    for rid in ("SEC-RL-429", "SEC-RL-WINDOW-RESET", "SEC-RL-PER-IP", "SEC-RL-XFF"):
        check = only_check(matrix, rid)
        assert check["outcome"] == "blocked", check
        assert check["blocked_by"] == "SEC-RL-DEFAULT-LIMIT"
        assert check["duration_s"] < 10, check
        assert verdict(matrix, rid) == "blocked"
    assert "SEC-RL-DEFAULT-LIMIT blocks SEC-RL-429, SEC-RL-WINDOW-RESET" in output


# api_probe_path -> what INP-SQLI must say about it
CANNOT_JUDGE = [
    ("/notes", "POST /notes", "a JSON object with 'id'", "201 text/html '<p>saved</p>'"),
]


@pytest.mark.parametrize(("path", "endpoint", "expected", "got"), CANNOT_JUDGE)
def test_an_api_of_another_shape_cannot_be_judged(
    foreign_url: str, tmp_path: Path, path: str, endpoint: str, expected: str, got: str
) -> None:
    args = ("--requirement", "INP-SQLI", "--param", f"api_probe_path={path}")
    code, output, matrix = gate(foreign_url, tmp_path, *args)
    assert code in (1, 4), f"exit {code}:\n{output[-3000:]}"
    assert "Traceback" not in output, output[-3000:]
    check = only_check(matrix, "INP-SQLI")
    assert check["outcome"] == "error", check
    message = fg.message(check)
    assert exception_named(message) is None, message
    found = UNEXPECTED.search(message)
    assert found, message
    assert found["endpoint"] == endpoint
    assert expected in found["expected"]
    assert found["got"].startswith(got), message
    if found["got"][:3] in {"404", "405"}:
        assert "cannot be judged" in found["got"], message


# parameter -> a path the foreign app does not have
MISSING = {"api_probe_path": "/missing", "health_path": "/healthz"}
# checks of content behind those paths: skipped, naming the parameter to set
ON_MISSING_PATHS = {
    "INP-SQLI": "api_probe_path",
    "SEC-VAL-FALSE-POSITIVES": "api_probe_path",
    "CFG-CORS-STRICT": "api_probe_path",
    "MON-HEALTH-002": "health_path",
    "MON-HEALTH-003": "health_path",
    "MON-HEALTH-004": "health_path",
    # the endpoint may live at another path: not failed, not passed, the parameter named
    "MON-HEALTH-001": "health_path",
}


def test_checks_of_missing_paths_are_skipped_naming_the_parameter(
    foreign_url: str, tmp_path: Path
) -> None:
    selection = [f"--requirement={rid}" for rid in ON_MISSING_PATHS]
    params = [f"--param={name}={path}" for name, path in MISSING.items()]
    code, output, matrix = gate(foreign_url, tmp_path, *selection, *params)
    assert code == 4, f"exit {code}:\n{output[-3000:]}"  # INCOMPLETE: nothing judged
    for rid, param in ON_MISSING_PATHS.items():
        check = only_check(matrix, rid)
        assert check["outcome"] == "skipped", check
        assert fg.message(check) == (
            f"{MISSING[param]} answered 404: the target has no such route; "
            f"set --param {param}=/your/route"
        )
    assert matrix["discovery"]["paths"]["health_path"] == {
        "path": "/healthz", "status": 404, "media_type": "text/html", "exists": False,
    }  # fmt: skip
    assert "health_path /healthz: 404 (MISSING)" in output
    assert "HTML page: /" in output


def test_a_forged_host_served_as_the_real_site_fails(foreign_url: str, tmp_path: Path) -> None:
    code, output, matrix = gate(foreign_url, tmp_path, "--requirement=CFG-ALLOWED-HOSTS")
    assert code == 1, f"exit {code}:\n{output[-3000:]}"
    check = only_check(matrix, "CFG-ALLOWED-HOSTS")
    assert check["outcome"] == "failed", check
    expected = "GET /api/v1/formulas with Host: evil.example answered 200 with the real site's"
    assert expected in fg.message(check), check


def test_a_server_error_is_a_failed_assertion_not_an_error(
    foreign_url: str, tmp_path: Path
) -> None:
    args = ("--requirement", "INP-SQLI", "--param", "api_probe_path=/broken")
    code, output, matrix = gate(foreign_url, tmp_path, *args)
    assert code == 1, f"exit {code}:\n{output[-3000:]}"
    check = only_check(matrix, "INP-SQLI")
    assert check["outcome"] == "failed", check
    message = fg.message(check)
    assert exception_named(message) is None, message
    assert "answered 500" in message
    assert not UNEXPECTED.search(message), message


def test_a_login_page_cookie_without_secure_fails_the_cookiechecks(
    foreign_url: str, tmp_path: Path
) -> None:
    selection = ("--requirement=SEC-HDR-COOKIE-SECURE", "--requirement=SEC-HDR-COOKIE-FLAGS")
    code, output, matrix = gate(foreign_url, tmp_path, *selection)
    assert code == 1, f"exit {code}:\n{output[-3000:]}"
    for rid in ("SEC-HDR-COOKIE-SECURE", "SEC-HDR-COOKIE-FLAGS"):
        assert verdict(matrix, rid) == "failed"
    message = fg.message(only_check(matrix, "SEC-HDR-COOKIE-SECURE"))
    assert "backend GET /admin/login/: cookie 'csrftoken': no Secure, no HttpOnly" in message
    assert matrix["discovery"]["cookie_pages"] == [
        {
            "path": "/admin/login/",
            "status": 200,
            "media_type": "text/html",
            "cookies": ["csrftoken"],
        }
    ]
    assert "pages setting cookies: /admin/login/ (csrftoken)" in output


def test_a_route_that_takes_no_post_skips_the_round_trip(foreign_url: str, tmp_path: Path) -> None:
    args = ("--requirement", "INP-SQLI", "--param", "api_probe_path=/items")
    code, output, matrix = gate(foreign_url, tmp_path, *args)
    assert code == 4, f"exit {code}:\n{output[-3000:]}"  # INCOMPLETE: not judged
    check = only_check(matrix, "INP-SQLI")
    assert check["outcome"] == "skipped", check
    assert fg.message(check).startswith("POST /items answered 405: the route creates nothing"), (
        check
    )
    assert "set --param api_probe_path=/your/route" in fg.message(check)
