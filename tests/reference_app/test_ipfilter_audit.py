"""The IP filter, the audit log and the login endpoint of the reference app, in process."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import logging.handlers
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from reference_app.app import create_app
from reference_app.core.config import Settings
from reference_app.core.middleware.audit import (
    LOGGER_NAME,
    is_sensitive,
    logger_sink,
    request_id_of,
)
from reference_app.core.middleware.ipfilter import client_ip, parse_address, parse_networks
from reference_app.core.tokens import bearer_subject, issue_token, token_subject
from reference_app.create_admin import create_admin_user

pytestmark = pytest.mark.anyio


def _scope(peer: str, xff: str | None = None) -> dict[str, Any]:
    headers = [] if xff is None else [(b"x-forwarded-for", xff.encode())]
    return {"type": "http", "client": (peer, 5000), "headers": headers}


@pytest.mark.parametrize(
    ("peer", "xff", "trusted", "expected"),
    [
        ("10.0.0.5", "1.2.3.4", [], "10.0.0.5"),  # nobody trusted: header ignored
        ("10.0.0.5", "1.2.3.4", ["10.0.0.1"], "10.0.0.5"),  # peer is not the proxy
        ("10.0.0.1", "1.2.3.4", ["10.0.0.1"], "1.2.3.4"),
        ("10.0.0.1", "6.6.6.6, 1.2.3.4", ["10.0.0.0/24"], "1.2.3.4"),  # right-most untrusted
        ("10.0.0.1", "1.2.3.4, 10.0.0.7", ["10.0.0.0/24"], "1.2.3.4"),  # skips trusted hops
        ("10.0.0.1", "10.0.0.9, 10.0.0.7", ["10.0.0.0/24"], "10.0.0.9"),  # all trusted
        ("10.0.0.1", "junk, 10.0.0.7", ["10.0.0.0/24"], "10.0.0.7"),  # stops at a bad hop
        ("10.0.0.1", None, ["10.0.0.1"], "10.0.0.1"),
        ("10.0.0.1", "1.2.3.4:8080", ["10.0.0.1"], "1.2.3.4"),
        ("10.0.0.1", "[2001:db8::1]:443", ["10.0.0.1"], "2001:db8::1"),
        ("::ffff:10.0.0.1", "1.2.3.4", ["10.0.0.1"], "1.2.3.4"),  # IPv4-mapped peer
    ],
)
def test_client_ip(peer: str, xff: str | None, trusted: list[str], expected: str) -> None:
    assert client_ip(_scope(peer, xff), trusted) == expected


def test_client_ip_joins_repeated_headers() -> None:
    scope = _scope("10.0.0.1")
    scope["headers"] = [(b"x-forwarded-for", b"1.1.1.1"), (b"X-Forwarded-For", b"2.2.2.2")]
    assert client_ip(scope, ["10.0.0.1"]) == "2.2.2.2"


def test_audit_logger_sink_writes_lines_and_honours_a_reconfigured_logger(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    logger = logging.getLogger(LOGGER_NAME)
    monkeypatch.setattr(logger, "handlers", [])
    sink = logger_sink()
    (own,) = logger.handlers
    assert isinstance(own, logging.StreamHandler)
    stream = io.StringIO()
    own.setStream(stream)
    sink('{"kind":"audit","n":1}')
    assert stream.getvalue() == '{"kind":"audit","n":1}\n'

    collected = logging.handlers.BufferingHandler(10)
    logger.addHandler(collected)  # someone routes the audit log elsewhere too
    sink('{"kind":"audit","n":2}')
    assert [record.getMessage() for record in collected.buffer] == ['{"kind":"audit","n":2}']
    assert stream.getvalue().splitlines()[-1] == '{"kind":"audit","n":2}'
    monkeypatch.setattr(logger, "disabled", True)
    sink('{"kind":"audit","n":3}')
    assert len(stream.getvalue().splitlines()) == 2


def test_parsing_helpers() -> None:
    assert parse_address("nonsense") is None
    assert str(parse_address(" 127.0.0.66 ")) == "127.0.0.66"
    with pytest.raises(ValueError, match=r"'10\.0\.0\.300'"):
        parse_networks(("10.0.0.300",))
    assert is_sensitive("/api/v1/auth/login", ["/api/v1/auth"])
    assert is_sensitive("/api/v1/auth", ["/api/v1/auth/"])
    assert not is_sensitive("/api/v1/authors", ["/api/v1/auth"])
    assert request_id_of({"headers": [(b"x-request-id", b"abc-123")]}) == "abc-123"
    assert request_id_of({"headers": [(b"x-request-id", b"a b\n")]}) != "a b\n"
    generated = {request_id_of({"headers": []}) for _ in range(1000)}
    assert len(generated) == 1000
    assert all(uuid.UUID(hex=value).version == 4 and len(value) == 32 for value in generated)


def test_tokens() -> None:
    token = issue_token("s" * 40, "alice", ttl_s=60, now=1000)
    assert token_subject("s" * 40, token, now=1030) == "alice"
    assert token_subject("s" * 40, token, now=1061) is None  # expired
    assert token_subject("t" * 40, token, now=1030) is None  # other key
    assert token_subject("", token, now=1030) is None
    assert token_subject("s" * 40, token[:-2] + "xx", now=1030) is None
    assert bearer_subject("s" * 40, "Basic abc") is None
    assert bearer_subject("s" * 40, None) is None


@pytest.fixture
def configured(
    monkeypatch: pytest.MonkeyPatch, make_settings: Callable[..., Settings], tmp_path: Path
) -> Callable[..., tuple[Settings, Path]]:
    def configure(**env: str) -> tuple[Settings, Path]:
        log = tmp_path / "audit.log"
        monkeypatch.setenv("SECURITY_AUDIT_LOG_PATH", str(log))
        for name, value in env.items():
            monkeypatch.setenv(f"SECURITY_{name.upper()}", value)
        return make_settings(), log

    return configure


def _client(settings: Settings, peer: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(settings), client=(peer, 4000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


def _records(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


async def test_deny_and_allow_lists(configured: Callable[..., tuple[Settings, Path]]) -> None:
    settings, _ = configured(ip_blacklist="127.0.0.66", trusted_proxies="127.0.0.1")
    async with _client(settings, "127.0.0.66") as denied:
        response = await denied.get("/api/v1/formulas", headers={"X-Forwarded-For": "1.2.3.4"})
        assert response.status_code == 403
        assert response.json()["detail"]
    async with _client(settings, "127.0.0.1") as proxy:
        spoofed = await proxy.get("/api/v1/formulas", headers={"X-Forwarded-For": "127.0.0.66"})
        assert spoofed.status_code == 403  # judged by the forwarded client
        assert (await proxy.get("/api/v1/formulas")).status_code == 200
    settings, _ = configured(ip_blacklist="", ip_whitelist="10.1.0.0/16")
    async with _client(settings, "10.1.2.3") as listed:
        assert (await listed.get("/api/v1/formulas")).status_code == 200
    async with _client(settings, "10.2.0.1") as unlisted:
        assert (await unlisted.get("/api/v1/formulas")).status_code == 403


async def test_audit_records_and_login(
    configured: Callable[..., tuple[Settings, Path]], db_url: str
) -> None:
    settings, log = configured(ip_blacklist="127.0.0.66")
    password = "correct horse battery staple"
    await create_admin_user(settings, "alice", "alice@example.com", password)
    async with _client(settings, "127.0.0.5") as client:
        plain = await client.get("/api/v1/formulas", headers={"X-Request-ID": "req-plain-1"})
        bad = await client.post(
            "/api/v1/auth/login", json={"username": "alice", "password": "wrong-" + password}
        )
        good = await client.post(
            "/api/v1/auth/login", json={"username": "alice", "password": password}
        )
        token = good.json()["access_token"]
        authed = await client.get(
            "/api/v1/formulas", headers={"Authorization": f"Bearer {token}", "Cookie": "a=b"}
        )
    await asyncio.sleep(0)
    assert plain.headers["x-request-id"] == "req-plain-1"
    assert bad.status_code == 401
    assert good.status_code == 200
    records = {r["request_id"]: r for r in _records(log)}
    assert len(records) == 4
    first = records["req-plain-1"]
    assert first["method"] == "GET"
    assert first["path"] == "/api/v1/formulas"
    assert first["status"] == 200
    assert first["client_ip"] == "127.0.0.5"
    assert first["user"] is None
    assert first["sensitive"] is False
    assert first["latency_ms"] > 0
    failed = records[bad.headers["x-request-id"]]
    assert failed["username"] == "alice"
    assert failed["outcome"] == "failure"
    assert failed["sensitive"] is True
    assert records[authed.headers["x-request-id"]]["user"] == "alice"
    text = log.read_text()
    assert password not in text
    assert token not in text


async def test_me_names_the_user_of_a_valid_token_only(
    configured: Callable[..., tuple[Settings, Path]], db_url: str
) -> None:
    settings, _ = configured(ip_blacklist="127.0.0.66")
    password = "correct horse battery staple"
    await create_admin_user(settings, "bob", "bob@example.com", password)
    async with _client(settings, "127.0.0.5") as client:
        login = await client.post(
            "/api/v1/auth/login", json={"username": "bob", "password": password}
        )
        token = login.json()["access_token"]
        me = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        forged = await client.get(
            "/api/v1/auth/me", headers={"Authorization": f"Bearer {token[:-2]}xx"}
        )
        anonymous = await client.get("/api/v1/auth/me")
    assert me.status_code == 200
    assert me.json() == {"username": "bob"}
    for refused in (forged, anonymous):
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"] == "Bearer"
