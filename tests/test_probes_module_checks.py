"""What the module checks judge, without a child: security_settings per environment, the
middleware's observations, registration answers, and the parameters of the child."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.probes.backend_modules import backend_process, child_env, validator_names
from harness.probes.middleware_observe import RATE_LIMIT_CALLS, middleware_gaps
from harness.probes.modulecall import ModuleError
from harness.probes.registration import absent_route, field_errors, wrong_answer
from harness.probes.settings_module import settings_gaps

PROD = {
    "allowed_hosts": ["app.example.org"],
    "rate_limit_calls": 100,
    "rate_limit_period": 60,
    "ip_whitelist": [],
    "ip_blacklist": ["192.0.2.0/24", "203.0.113.7"],
}
DEV = PROD | {"allowed_hosts": ["localhost"], "rate_limit_calls": 1000}


@pytest.mark.parametrize(
    ("production", "development", "profile", "gap"),
    [
        (PROD, DEV, "production", None),
        (PROD, DEV, "development", None),
        (PROD | {"rate_limit_calls": 50}, DEV, "production", "production: 50 requests per 60 s"),
        (PROD, PROD, "production", "ENVIRONMENT is ignored"),
        (PROD | {"allowed_hosts": ["*"]}, DEV, "production", "holds '*'"),
        (PROD, DEV | {"rate_limit_calls": 10}, "production", "fewer requests than production"),
        ({"rate_limit_calls": 100}, DEV, "production", "production: no allowed_hosts"),
        (PROD | {"ip_blacklist": ["nonsense"]}, DEV, "production", "not a list of addresses"),
        (PROD | {"rate_limit_period": True}, DEV, "production", "not a positive integer"),
    ],
)
def test_settings_gaps(
    production: dict[str, Any], development: dict[str, Any], profile: str, gap: str | None
) -> None:
    rate = (1000, 60) if profile == "development" else (100, 60)
    found = settings_gaps({"production": production, "development": development}, profile, rate)
    if gap is None:
        assert found == []
    else:
        assert any(gap in line for line in found), found


COMPLETE: dict[str, Any] = {
    "plain": {
        "status": 200,
        "headers": {
            "x-content-type-options": "nosniff",
            "x-frame-options": "DENY",
            "content-security-policy": "default-src 'self'",
        },
    },
    "foreign_host": 400,
    "injection": 400,
    "denied_ip": 403,
    "limited": [200] * RATE_LIMIT_CALLS + [429, 429],
    "audit": True,
}


@pytest.mark.parametrize(
    ("change", "gap"),
    [
        ({}, None),
        ({"plain": {"status": 200, "headers": {}}}, "no security headers"),
        ({"foreign_host": 200}, "a Host outside allowed_hosts answered 200"),
        ({"injection": 200}, "an SQL injection in the query answered 200"),
        ({"denied_ip": 200}, "a client in ip_blacklist answered 200"),
        ({"limited": [200] * (RATE_LIMIT_CALLS + 2)}, "rate_limit_calls=5"),
        ({"limited": [429] * (RATE_LIMIT_CALLS + 2)}, "rate_limit_calls=5"),
        ({"audit": False}, "no log record names the request"),
    ],
)
def test_middleware_gaps(change: dict[str, Any], gap: str | None) -> None:
    found = middleware_gaps(COMPLETE | change)
    if gap is None:
        assert found == []
    else:
        assert len(found) == 1
        assert gap in found[0]


def _answer(status: int, body: Any = None) -> httpx.Response:
    request = httpx.Request("POST", "http://t/api/v1/auth/register")
    return httpx.Response(status, json=body, request=request)


FASTAPI_422 = {"detail": [{"loc": ["body", "email"], "msg": "no dot", "type": "value_error"}]}


@pytest.mark.parametrize(
    ("response", "refused", "wrong"),
    [
        (_answer(422, FASTAPI_422), True, None),
        (_answer(400, {"errors": {"email": "bad"}}), True, None),
        (_answer(400, {"error": "bad"}), True, None),
        (_answer(201, {"id": 1}), False, None),
        (_answer(201, {"id": 1}), True, "is invalid but answered 201"),
        (_answer(422, FASTAPI_422), False, "is valid but answered 422"),
        (_answer(500, None), True, "a server error"),
        (_answer(422, {"detail": [{"loc": ["body", "password"]}]}), True, "naming ['password']"),
    ],
)
def test_registration_answers(response: httpx.Response, refused: bool, wrong: str | None) -> None:
    found = wrong_answer(response, "email", "a@b", refused)
    if wrong is None:
        assert found is None
    else:
        assert found is not None
        assert wrong in found


def test_field_errors_and_absent_routes() -> None:
    assert field_errors(_answer(422, FASTAPI_422)) == {"email"}
    assert field_errors(httpx.Response(422, text="nope")) == set()
    assert absent_route(_answer(201, {}), "register_path") is None
    assert absent_route(_answer(404, {}), "register_path") == (
        "POST /api/v1/auth/register answered 404: the target has no such route; "
        "set --param register_path=/your/route"
    )


def test_child_parameters(tmp_path: Path) -> None:
    assert validator_names(["email=check_mail", " html = clean "]) == {
        "email": "check_mail",
        "html": "clean",
    }
    with pytest.raises(ModuleError, match="expected ROLE=FUNCTION"):
        validator_names(["mail=check"])
    env = child_env("production", "email-accepts-a-at-b", ["DATABASE_URL=sqlite://", "X=a=b"])
    assert env["ENVIRONMENT"] == "production"
    assert env["REFERENCE_APP_MUTANT"] == "email-accepts-a-at-b"
    assert env["X"] == "a=b"
    assert len(env["SECRET_KEY"]) >= 32
    assert "REFERENCE_APP_MUTANT" not in child_env("development", None)
    with pytest.raises(ModuleError, match="expected NAME=VALUE"):
        child_env("production", None, ["JUSTANAME"])
    params: dict[str, Any] = {"backend_dir": "backend", "backend_python": None, "module_env": []}
    with pytest.raises(ModuleError, match=r"^backend/: no such directory .* backend_dir=DIR"):
        backend_process(tmp_path, params, "production", None)
    with pytest.raises(ModuleError, match="leaves the repository"):
        backend_process(tmp_path, params | {"backend_dir": "../.."}, "production", None)
