"""The API contract: the deployment against its own OpenAPI document (the target's
``openapi_path``, or ``openapi_file``), with cases schemathesis generates from it.

One run per session (``contract``): schemathesis' deterministic coverage cases and
``contract_max_examples`` valid and invalid examples per operation, then
``contract_scenarios`` linked scenarios along the document's OpenAPI links; each requirement's
check judges its part of what the run saw. Every failing case is in the evidence with the
curl line that replays it. On a target that sees client addresses the cases are spread over
addresses of the contract's own (127.79.0.x), so the deployment's rate limiter never stands
between a case and its answer; elsewhere a 429 is waited for (Retry-After) and repeated.
Operations that need a bearer token get one of a user the harness creates (Capability.USERS)
and are left out, with a note, where it cannot.
"""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from harness.errors import HarnessError
from harness.probes import contract as ct
from harness.probes.contract_send import (
    ContractSourceError,
    Sender,
    base_for,
    load_document,
    needs_token,
    operations,
)
from harness.probes.contract_stateful import run_contract
from harness.report.console import say
from harness.report.evidence import Evidence
from harness.stacks.lock import shared_while_probing
from harness.targets import Capability, Target

pytestmark = [pytest.mark.xdist_group("api-contract")]  # one worker runs the contract once
# the contract's own client addresses: enough that no address meets a per-IP limit
_SOURCES = tuple(f"127.79.0.{host}" for host in range(1, 65))
_LOGIN_SOURCE = "127.79.1.1"
_MISSING = (
    "set --param openapi_path=/your/openapi.json, or --param openapi_file=PATH for an API "
    "that publishes none"
)


def _token(target: Target, params: dict[str, Any]) -> tuple[str | None, str]:
    """A bearer token of a user the harness creates, or why there is none."""
    from harness.probes import answers
    from harness.probes.http import client_for

    if not target.has(Capability.USERS):
        return None, "needs a bearer token: the target offers no way to create a user"
    users = target.require(Capability.USERS)
    username = f"contract{secrets.token_hex(4)}"
    password = f"Ct-{secrets.token_urlsafe(18)}-9z"
    try:
        users.create_user(username, password)
    except HarnessError as exc:
        return None, f"needs a bearer token: {exc}"
    source = _LOGIN_SOURCE if target.has(Capability.CLIENT_ADDRESSES) else None
    with client_for(target.url, local_address=source) as client:
        answer = client.post(
            params["login_path"], json={"username": username, "password": password}
        )
    if answer.status_code != 200:
        return None, f"needs a bearer token: logging in as a new user answered {answer.status_code}"
    return answers.field(answer, "access_token", str, answers.LOGIN_API), ""


@pytest.fixture(scope="session")
def contract(
    pytestconfig: pytest.Config, target: Target, session_params: dict[str, Any]
) -> ct.ContractRun:
    """The contract, run once for every check of this module."""
    path, file = session_params["openapi_path"], session_params["openapi_file"]
    try:
        schema, source = load_document(target.url, path, file)
    except ContractSourceError as exc:
        pytest.skip(f"{exc}: {_MISSING}")
    token, why = (None, "")
    if any(needs_token(operation) for operation in operations(schema)[0]):
        token, why = _token(target, session_params)
    sources = _SOURCES if target.has(Capability.CLIENT_ADDRESSES) else (None,)
    sender = Sender(base_for(schema, target.url), sources, token=token, token_note=why)
    budget = ct.Budget(
        max_examples=session_params["contract_max_examples"],
        scenarios=session_params["contract_scenarios"],
    )
    try:
        with shared_while_probing(target):  # no restart of a shared stack under the run
            run = run_contract(schema, sender, source, budget)
    finally:
        sender.close()
    say(
        pytestconfig,
        f"API contract: {sum(run.cases.values())} cases on {len(run.operations)} operations "
        f"in {run.seconds:.1f} s ({source})",
    )
    return run


def _judge(run: ct.ContractRun, kind: str, claim: str, evidence: Evidence) -> None:
    __tracebackhide__ = True
    evidence.note("contract run", run.summary())
    if run.skipped:
        evidence.note("operations left out", run.skipped)
    found = run.of(kind)
    evidence.note("failing cases (curl replays each)", [f.to_json() for f in found[:20]])
    if not run.operations:
        pytest.skip(
            f"{run.source}: no operation could be tried ({'; '.join(run.skipped.values())})"
        )
    if found:
        first = found[0]
        more = f" (and {len(found) - 1} more, see the evidence)" if len(found) > 1 else ""
        pytest.fail(f"{claim}: {first.line()}{more}; replay: {first.curl}")


# what one contract run applies; every check judges that run
_RUN_PARAMS = ("openapi_path", "openapi_file", "contract_max_examples", "contract_scenarios")


def _applied(params: dict[str, Any], *names: str) -> None:
    for name in names:
        params[name]  # reading a parameter records it as applied in the check's row


@pytest.mark.requirement("API-CONTRACT-NO-5XX")
def test_no_generated_request_gets_a_server_error(
    contract: ct.ContractRun, params: dict[str, Any], evidence: Evidence
) -> None:
    _applied(params, *_RUN_PARAMS)
    _judge(contract, ct.NO_5XX, "a generated request got a server error", evidence)


@pytest.mark.requirement("API-CONTRACT-STATUS")
def test_every_status_is_documented_and_invalid_input_refused(
    contract: ct.ContractRun, params: dict[str, Any], evidence: Evidence
) -> None:
    _applied(params, *_RUN_PARAMS)
    _judge(contract, ct.STATUS, "a status the document does not allow", evidence)


@pytest.mark.requirement("API-CONTRACT-SCHEMA")
def test_every_answer_matches_its_documented_schema(
    contract: ct.ContractRun, params: dict[str, Any], evidence: Evidence
) -> None:
    _applied(params, *_RUN_PARAMS)
    _judge(contract, ct.SCHEMA, "an answer off its documented schema", evidence)


@pytest.mark.requirement("API-CONTRACT-STATEFUL")
def test_created_resources_follow_their_links(
    contract: ct.ContractRun, params: dict[str, Any], evidence: Evidence
) -> None:
    _applied(params, "openapi_path", "openapi_file", "contract_scenarios")
    evidence.note("links in the document", contract.links)
    evidence.note("steps taken along a link", contract.linked_steps)
    if not contract.links:
        pytest.skip(
            f"{contract.source} declares no OpenAPI links, so nothing chains create -> read "
            "-> update -> delete: add links to the responses of the operations that create"
        )
    _judge(contract, ct.STATEFUL, "a linked scenario broke", evidence)
    assert contract.linked_steps, (
        f"the document declares {contract.links} links, but no scenario could follow one: "
        "no operation that creates answered with what its links need"
    )
