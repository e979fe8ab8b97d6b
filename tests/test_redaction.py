"""No secret in any output: registered values and credential shapes are masked wherever the
harness records what it saw."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import httpx
import pytest

from harness.report import redaction
from harness.report.evidence import AppliedParams, Evidence
from harness.report.redaction import (
    MASK,
    redact_body,
    redact_fields,
    redact_text,
    redact_value,
    register,
    register_params,
)

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJoYXJuZXNzIn0.c2lnbmF0dXJlLXBhcnQ"


@pytest.fixture(autouse=True)
def _fresh_registry() -> Iterator[None]:
    saved = set(redaction._registered)
    yield
    redaction._registered.clear()
    redaction._registered.update(saved)


def test_registered_values_are_masked_everywhere() -> None:
    register("Pl4nted-secret-value")
    assert redact_text("password Pl4nted-secret-value sent") == f"password {MASK} sent"
    assert redact_value({"note": ["x Pl4nted-secret-value"]}) == {"note": [f"x {MASK}"]}


def test_short_values_are_not_registered() -> None:
    register("abc")
    assert redact_text("abc abc") == "abc abc"


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Authorization: Bearer abc.def-1234567890", "Authorization: Bearer "),
        (f"token {JWT} issued", "token "),
        ("otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&issuer=ref", "&issuer=ref"),
        ('{"password": "hunter2hunter2"}', '{"password": '),
        ("GET /cb?access_token=abcdef123&x=1", "&x=1"),
    ],
)
def test_credential_shapes_are_masked(text: str, kept: str) -> None:
    masked = redact_text(text)
    assert MASK in masked
    assert kept in masked


@pytest.mark.parametrize(
    "prose", ["Bearer authentication is required", "Basic authentication", "password: too short"]
)
def test_prose_is_left_alone(prose: str) -> None:
    assert redact_text(prose) == prose


def test_json_credential_fields_and_secret_parameters() -> None:
    value = {"access_token": "x" * 20, "token_type": "bearer", "params": {"login_password": "pw"}}
    assert redact_value(value) == {
        "access_token": MASK,
        "token_type": "bearer",
        "params": {"login_password": MASK},
    }
    assert redact_body('{"access_token": "abc", "expires_in": 60}') == (
        f'{{"access_token": "{MASK}", "expires_in": 60}}'
    )


def test_secret_parameters_are_registered() -> None:
    register_params({"admin_totp_secret": "JBSWY3DPEHPK3PXP", "login_path": "/api/login"})
    assert redact_text("JBSWY3DPEHPK3PXP /api/login") == f"{MASK} /api/login"


@dataclasses.dataclass(eq=False)
class _Crash:
    path: str
    message: str


@dataclasses.dataclass(eq=False)
class _Repr:
    lines: list[str]
    chain: list[tuple[_Crash, str | None]]


def test_failure_representations_are_masked_in_place() -> None:
    register("Pl4nted-secret-value")
    crash = _Crash("suites/x.py", "assert 'Pl4nted-secret-value' == 'y'")
    repr_ = _Repr(["E   login('u', 'Pl4nted-secret-value')"], [(crash, "Bearer abcdef1234567")])
    assert redact_fields(repr_) is repr_
    assert repr_.lines == [f"E   login('u', '{MASK}')"]
    assert repr_.chain[0][0] is crash
    assert crash.message == f"assert '{MASK}' == 'y'"
    assert repr_.chain[0][1] == f"Bearer {MASK}"


def test_evidence_keeps_no_credential() -> None:
    evidence = Evidence()
    request = httpx.Request(
        "POST", "http://t/login?token=abcdef123", headers={"Authorization": "Bearer x"}
    )
    evidence.exchange(httpx.Response(200, json={"access_token": JWT}, request=request))
    evidence.note("later registered", "Pl4nted-secret-value")
    register("Pl4nted-secret-value")
    AppliedParams({"login_password": "Pl4nted-secret-value"}, evidence)["login_password"]
    text = repr(evidence.to_json()) + repr(evidence.applied_params)
    assert JWT not in text
    assert "Pl4nted-secret-value" not in text
    assert "abcdef123" not in text
    assert "Bearer x" not in text


def test_notes_keep_their_slots_when_exchanges_overflow() -> None:
    evidence = Evidence()
    request = httpx.Request("GET", "http://t/x")
    for _ in range(40):
        evidence.exchange(httpx.Response(200, request=request))
    evidence.note("summary", {"statuses": {"200": 40}})
    items = evidence.to_json()
    assert {"kind": "note", "label": "summary", "value": {"statuses": {"200": 40}}} in items
    assert items[-1]["label"] == "truncated"
