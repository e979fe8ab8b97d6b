"""Security Hardening > Input Validation > XSS prevention: rich text with scripts and event
handlers, stored through the API, comes back inert (INP-XSS).

Two rich-text fields of the spec's API: a formula's ``description`` (POST ``api_probe_path``,
read back at ``api_probe_path/ID``) and the ``bio`` of a registration (POST
``register_path``, whose answer is the stored account). A payload refused at the door (400,
422) is inert too; one that is stored must come back as ``application/json`` with
``X-Content-Type-Options: nosniff`` and without any construct that would run as HTML.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from harness.probes import answers
from harness.probes.http import client_for, next_loopback_address
from harness.probes.stored_xss import BENIGN, executable_constructs, rich_texts
from harness.report.evidence import Evidence
from harness.report.redaction import register
from harness.targets import Capability, Target
from harness.targets.accounts import new_password, new_username

requirement = pytest.mark.requirement
needs_path = pytest.mark.needs_path
REGISTER_API = "the registration API (set register_path)"
REFUSED = frozenset({400, 422})


@pytest.fixture
def client(target: Target, evidence: Evidence) -> Iterator[httpx.Client]:
    source = next_loopback_address() if target.has(Capability.CLIENT_ADDRESSES) else None
    with client_for(target.url, on_response=evidence.exchange, local_address=source) as made:
        yield made


def _inert(response: httpx.Response, value: object) -> list[str]:
    """Why a stored value as served could run in a browser."""
    problems = []
    if answers.media_type(response) != "application/json":
        problems.append(f"served as {answers.media_type(response) or 'no type'}")
    if response.headers.get("x-content-type-options", "").lower() != "nosniff":
        problems.append("served without X-Content-Type-Options: nosniff")
    if isinstance(value, str):
        problems += executable_constructs(value)
    return problems


def _judge(outcomes: dict[str, Any], problems: list[str], evidence: Evidence, where: str) -> None:
    __tracebackhide__ = True
    evidence.note(where, outcomes)
    stored = [label for label, outcome in outcomes.items() if outcome == "stored"]
    assert stored or not outcomes, f"{where}: no rich text was stored, not even plain markup"
    assert not problems, f"{where}: stored rich text comes back executable: " + "; ".join(problems)


@requirement("INP-XSS")
@needs_path("api_probe_path")
def test_formula_description_comes_back_inert(
    client: httpx.Client, params: dict[str, Any], evidence: Evidence
) -> None:
    path, tag = params["api_probe_path"], secrets.token_hex(4)
    outcomes: dict[str, Any] = {}
    problems: list[str] = []
    for number, text in enumerate([BENIGN, *rich_texts()]):
        body = {"name": f"xss {tag} {number}", "expression": "a-b/c", "description": text}
        created = client.post(path, json=body)
        label = "plain markup" if number == 0 else f"payload {number}"
        if created.status_code in REFUSED and number:
            outcomes[label] = f"refused {created.status_code}"
            continue
        answers.present(created, "a formula created", answers.FORMULAS_API)
        assert created.status_code < 500, f"storing {label} answered {created.status_code}"
        answers.status_in(created, {200, 201}, "a formula created", answers.FORMULAS_API)
        ident = answers.identifier(created, api=answers.FORMULAS_API)
        read = client.get(f"{path.rstrip('/')}/{ident}")
        answers.status_in(read, {200}, "the formula read back", answers.FORMULAS_API)
        value = answers.json_object(read, ("description",), answers.FORMULAS_API)["description"]
        outcomes[label] = "stored"
        problems += [f"{label}: {why}" for why in _inert(read, value)]
        client.delete(f"{path.rstrip('/')}/{ident}")
    _judge(outcomes, problems, evidence, f"POST {path} description")


@requirement("INP-XSS")
@needs_path("register_path")
def test_registration_bio_comes_back_inert(
    client: httpx.Client, params: dict[str, Any], evidence: Evidence
) -> None:
    path = params["register_path"]
    outcomes: dict[str, Any] = {}
    problems: list[str] = []
    for number, text in enumerate([BENIGN, *rich_texts()]):
        username = new_username(f"bio{number}")
        password = register(new_password())
        body = {
            "username": username,
            "email": f"{username}@example.org",
            "password": password,
            "bio": text,
        }
        created = client.post(path, json=body)
        label = "plain markup" if number == 0 else f"payload {number}"
        if created.status_code in REFUSED and number:
            outcomes[label] = f"refused {created.status_code}"
            continue
        answers.present(created, "an account registered", REGISTER_API)
        assert created.status_code < 500, f"registering with {label} answered {created.status_code}"
        answers.status_in(created, {200, 201}, "an account registered", REGISTER_API)
        value = answers.json_object(created, ("bio",), REGISTER_API)["bio"]
        outcomes[label] = "stored"
        problems += [f"{label}: {why}" for why in _inert(created, value)]
    _judge(outcomes, problems, evidence, f"POST {path} bio")
