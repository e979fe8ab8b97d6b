"""Accounts over HTTP: registration, per-account lockout kept in the database, TOTP 2FA."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import httpx
import pyotp
import pytest
from fastapi import FastAPI

from reference_app.app import create_app
from reference_app.core.config import Settings
from reference_app.create_admin import create_admin_user
from reference_app.models import utc_now
from reference_app.mutants import apply_mutant
from tests.reference_app.conftest import STRONG_SECRET, Serve

pytestmark = pytest.mark.anyio

LOGIN = "/api/v1/auth/login"
REGISTER = "/api/v1/auth/register"
PASSWORD = "Tr0ub4dor-and-3"


def _production(make_settings: Callable[..., Settings], **fields: object) -> Settings:
    return make_settings(environment="production", secret_key=STRONG_SECRET, **fields)


async def _login(client: httpx.AsyncClient, password: str, **extra: str) -> httpx.Response:
    return await client.post(LOGIN, json={"username": "carol", "password": password, **extra})


async def test_register_stores_a_sanitised_bio_and_refuses_duplicates(
    client: httpx.AsyncClient,
) -> None:
    body = {
        "username": "dave",
        "email": "Dave@Example.COM",
        "password": PASSWORD,
        "bio": '<b>hi</b><img src=x onerror="alert(1)"><script>alert(2)</script>',
    }
    created = await client.post(REGISTER, json=body)
    again = await client.post(REGISTER, json=body)
    same_email = await client.post(REGISTER, json={**body, "username": "dave2"})
    login = await client.post(LOGIN, json={"username": "dave", "password": PASSWORD})

    assert created.status_code == 201, created.text
    account = created.json()
    assert (account["username"], account["email"]) == ("dave", "Dave@example.com")
    assert account["bio"] == "<b>hi</b>"
    assert again.status_code == same_email.status_code == 409
    assert login.status_code == 200


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("email", "a@b", "not a valid e-mail address"),
        ("username", "x/y", "a username is 3-32"),
        ("username", "ab", "a username is 3-32"),
        ("password", "short", "at least 8 characters"),
        ("password", "password123", "too common"),
        ("password", "xx-erin-xx-1", "must not contain the username"),
    ],
)
async def test_register_refuses_an_invalid_field_with_its_reason(
    client: httpx.AsyncClient, field: str, value: str, reason: str
) -> None:
    body = {"username": "erin", "email": "erin@example.com", "password": PASSWORD, field: value}
    answer = await client.post(REGISTER, json=body)

    assert answer.status_code == 422, answer.text
    [error] = answer.json()["detail"]
    assert error["loc"] == ["body", field]
    assert reason in error["msg"]


async def test_production_policy_counts_characters_not_bytes(
    make_settings: Callable[..., Settings], serve: Serve
) -> None:
    client = await serve(create_app(_production(make_settings)))
    body = {"username": "frank", "email": "frank@example.com"}
    eleven = await client.post(REGISTER, json={**body, "password": "Ünïcödé-Pw1"})
    twelve = await client.post(REGISTER, json={**body, "password": "Ünïcödé-Pw12"})
    two_classes = await client.post(REGISTER, json={**body, "password": "lowercase-only"})

    assert eleven.status_code == 422
    assert "at least 12 characters" in eleven.json()["detail"][0]["msg"]
    assert twelve.status_code == 201, twelve.text
    assert two_classes.status_code == 422
    assert "at least 3 of" in two_classes.json()["detail"][0]["msg"]


async def test_lockout_outlives_a_restart_and_expires(
    make_settings: Callable[..., Settings], serve: Serve
) -> None:
    settings = make_settings(login_max_attempts=3, lockout_seconds=60)
    await create_admin_user(settings, "carol", "carol@example.com", PASSWORD, admin=False)
    first = await serve(create_app(settings))
    failures = [(await _login(first, "wrong-password")).status_code for _ in range(3)]
    # a restart: a new app instance (new engine, new state) on the same database
    second = await serve(create_app(settings))
    locked = await _login(second, PASSWORD)

    assert failures == [401, 401, 401]
    assert locked.status_code == 423
    until = datetime.fromisoformat(locked.json()["locked_until"])
    assert timedelta(seconds=55) < until - utc_now() <= timedelta(seconds=60)
    assert 55 <= int(locked.headers["retry-after"]) <= 60

    later = create_app(settings)
    later.state.login_attempts.clock = lambda: utc_now() + timedelta(seconds=61)
    after = await _login(await serve(later), PASSWORD)
    assert after.status_code == 200


async def test_a_success_resets_the_count_and_unknown_users_are_never_locked(
    make_settings: Callable[..., Settings], serve: Serve
) -> None:
    settings = make_settings(login_max_attempts=2)
    await create_admin_user(settings, "carol", "carol@example.com", PASSWORD, admin=False)
    client = await serve(create_app(settings))
    statuses = [(await _login(client, "wrong")).status_code]
    statuses.append((await _login(client, PASSWORD)).status_code)
    statuses.append((await _login(client, "wrong")).status_code)
    statuses.append((await _login(client, PASSWORD)).status_code)
    ghosts = [
        (await client.post(LOGIN, json={"username": "ghost", "password": "x"})).status_code
        for _ in range(4)
    ]

    assert statuses == [401, 200, 401, 200]
    assert ghosts == [401] * 4


async def test_admin_needs_a_fresh_totp_code_in_production(
    make_settings: Callable[..., Settings], serve: Serve
) -> None:
    settings = _production(make_settings)
    secret = pyotp.random_base32()
    await create_admin_user(settings, "carol", "c@example.com", PASSWORD, totp_secret=secret)
    await create_admin_user(settings, "root", "r@example.com", PASSWORD)  # not enrolled
    client = await serve(create_app(settings))
    code = pyotp.TOTP(secret).now()

    missing = await _login(client, PASSWORD)
    wrong = await _login(client, PASSWORD, otp="000000" if code != "000000" else "111111")
    good = await _login(client, PASSWORD, otp=code)
    replayed = await _login(client, PASSWORD, otp=code)
    unenrolled = await client.post(LOGIN, json={"username": "root", "password": PASSWORD})

    for refused in (missing, wrong, replayed, unenrolled):
        assert refused.status_code == 401
        assert refused.json() == {"detail": "a one-time code is required", "otp_required": True}
    assert good.status_code == 200, good.text


async def test_development_admin_without_totp_logs_in_with_the_password(
    make_settings: Callable[..., Settings], serve: Serve
) -> None:
    settings = make_settings()
    await create_admin_user(settings, "carol", "c@example.com", PASSWORD)
    client = await serve(create_app(settings))

    assert (await _login(client, PASSWORD)).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        '{"username": "carol", "password": "\\ud800x"}',
        '{"username": "\\ud800", "password": "x"}',
        '{"username": "carol", "password": "x", "otp": "\\ud800"}',
        '{"username": "carol", "password": "a\\u0000b"}',
    ],
)
async def test_text_no_hash_or_database_can_take_is_a_422(
    client: httpx.AsyncClient, body: str
) -> None:
    headers = {"Content-Type": "application/json"}
    login = await client.post(LOGIN, content=body, headers=headers)
    register = await client.post(
        REGISTER,
        content=body.replace('"carol"', '"carol", "email": "c@example.com"'),
        headers=headers,
    )

    assert login.status_code == 422, login.text
    assert register.status_code == 422, register.text


def _mutated(settings: Settings, name: str) -> FastAPI:
    app = create_app(settings)
    apply_mutant(app, settings, name)
    return app


async def test_lockout_mutants(make_settings: Callable[..., Settings], serve: Serve) -> None:
    settings = make_settings(login_max_attempts=3, lockout_seconds=60)
    await create_admin_user(settings, "carol", "carol@example.com", PASSWORD, admin=False)
    late = await serve(_mutated(settings, "lockout-after-4"))
    statuses = [(await _login(late, "wrong")).status_code for _ in range(4)]
    statuses.append((await _login(late, PASSWORD)).status_code)
    assert statuses == [401, 401, 401, 401, 423]

    await create_admin_user(settings, "dora", "dora@example.com", PASSWORD, admin=False)
    body = {"username": "dora", "password": "wrong"}
    forgetful = await serve(_mutated(settings, "lockout-in-memory"))
    failed = [(await forgetful.post(LOGIN, json=body)).status_code for _ in range(3)]
    locked = await forgetful.post(LOGIN, json={**body, "password": PASSWORD})
    restarted = await serve(_mutated(settings, "lockout-in-memory"))
    after_restart = await restarted.post(LOGIN, json={**body, "password": PASSWORD})
    assert (failed, locked.status_code, after_restart.status_code) == ([401] * 3, 423, 200)


async def test_second_factor_mutants(make_settings: Callable[..., Settings], serve: Serve) -> None:
    settings = _production(make_settings)
    secret = pyotp.random_base32()
    await create_admin_user(settings, "carol", "c@example.com", PASSWORD, totp_secret=secret)
    await create_admin_user(settings, "root", "r@example.com", PASSWORD)
    replaying = await serve(_mutated(settings, "totp-replay"))
    code = pyotp.TOTP(secret).now()
    first = await _login(replaying, PASSWORD, otp=code)
    again = await _login(replaying, PASSWORD, otp=code)
    lax = await serve(_mutated(settings, "admin-without-2fa"))
    unenrolled = await lax.post(LOGIN, json={"username": "root", "password": PASSWORD})

    assert (first.status_code, again.status_code, unenrolled.status_code) == (200, 200, 200)
