"""The API contract suite: its parts without a server, the clean reference app keeping every
contract requirement, and a foreign API with and without an OpenAPI document of its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
import yaml

from harness.probes import contract as ct
from harness.probes.contract_send import (
    ContractSourceError,
    Sender,
    base_for,
    load_document,
    needs_token,
)
from harness.probes.contract_stateful import count_links
from tests.conftest import SuiteRun, suite_runner
from tests.test_foreign_target import foreign_url  # noqa: F401  (the served foreign API)
from tests.verdicts import exception_named

CONTRACT_IDS = ("API-CONTRACT-NO-5XX", "API-CONTRACT-STATUS", "API-CONTRACT-SCHEMA")
ALL_IDS = (*CONTRACT_IDS, "API-CONTRACT-STATEFUL")
SELECT = tuple(f"--requirement={rid}" for rid in ALL_IDS)
# the foreign API as a user would describe it: /broken documented as never failing
FOREIGN_DOCUMENT: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Shop", "version": "1.0"},
    "paths": {
        "/items": {
            "get": {
                "responses": {
                    "200": {
                        "description": "the items",
                        "content": {
                            "application/json": {
                                "schema": {"type": "array", "items": {"type": "object"}}
                            }
                        },
                    }
                }
            }
        },
        "/broken": {"get": {"responses": {"200": {"description": "never fails"}}}},
    },
}


def _document(**operation: Any) -> dict[str, Any]:
    answer = {"201": {"description": "created", **operation.pop("extra", {})}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": {"/things": {"post": {"responses": answer, **operation}}},
    }


def test_links_are_counted_across_responses() -> None:
    links = {"links": {"Get": {"operationId": "g"}, "Delete": {"operationId": "d"}}}
    assert count_links(_document(extra=links)) == 2
    assert count_links(_document()) == 0


def test_a_security_requirement_means_a_token() -> None:
    plain = schemathesis.openapi.from_dict(_document())
    secured = schemathesis.openapi.from_dict(_document(security=[{"bearer": []}]))
    anonymous_too = schemathesis.openapi.from_dict(_document(security=[{}, {"bearer": []}]))
    assert not needs_token(plain["/things"]["POST"])
    assert needs_token(secured["/things"]["POST"])
    assert not needs_token(anonymous_too["/things"]["POST"])
    header = {"name": "Authorization", "in": "header", "schema": {"type": "string"}}
    fastapi_style = schemathesis.openapi.from_dict(_document(parameters=[header]))
    assert needs_token(fastapi_style["/things"]["POST"])


def test_every_failure_code_of_the_checks_run_has_its_claim() -> None:
    assert ct.KIND_OF_CODE["ST101"] == ct.NO_5XX
    assert ct.KIND_OF_CODE["ST103"] == ct.STATUS
    assert ct.KIND_OF_CODE["ST108"] == ct.SCHEMA
    assert ct.KIND_OF_CODE["ST302"] == ct.STATEFUL
    assert {ct.NO_5XX, ct.STATUS, ct.SCHEMA, ct.STATEFUL} == set(ct.KIND_OF_CODE.values())


def test_the_curl_line_replays_from_the_source_and_hides_the_token() -> None:
    schema = schemathesis.openapi.from_dict(_document(security=[{"bearer": []}]))
    operation = schema["/things"]["POST"]
    sender = Sender("http://127.0.0.1:9", ["127.79.0.7"], token="s3cr3t-token-value")
    line = sender.curl(operation.Case())
    sender.close()
    assert line.startswith("curl -X POST"), line
    assert "http://127.0.0.1:9/things" in line
    assert "--interface 127.79.0.7" in line
    assert "Bearer $TOKEN" in line
    assert "s3cr3t" not in line
    assert sender.cannot_send(operation) is None
    assert Sender("http://127.0.0.1:9", [None]).cannot_send(operation) == "needs a bearer token"


@pytest.mark.parametrize(
    ("servers", "base"),
    [
        (None, "http://127.0.0.1:9"),
        ([{"url": "/api/"}], "http://127.0.0.1:9/api"),
        ([{"url": "https://api.example.com/v2"}], "http://127.0.0.1:9/v2"),
    ],
)
def test_cases_go_to_the_target_under_the_documents_server_path(
    servers: list[dict[str, str]] | None, base: str
) -> None:
    document = _document() | ({"servers": servers} if servers else {})
    assert base_for(schemathesis.openapi.from_dict(document), "http://127.0.0.1:9/") == base


def test_a_missing_document_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ContractSourceError, match=r"^openapi_file .*nope\.yaml: no such file$"):
        load_document("http://127.0.0.1:9", None, str(tmp_path / "nope.yaml"))


@pytest.fixture(scope="module")
def clean_contract(tmp_path_factory: pytest.TempPathFactory) -> SuiteRun:
    return suite_runner(tmp_path_factory.mktemp("contract"))(*SELECT)


def test_the_clean_reference_app_keeps_the_contract(clean_contract: SuiteRun) -> None:
    for rid in ALL_IDS:
        assert clean_contract.verdict(rid) == "passed", (rid, clean_contract.output[-3000:])
    evidence = clean_contract.entry("API-CONTRACT-NO-5XX")["evidence"]
    run = next(item["value"] for item in evidence if item.get("label") == "contract run")
    assert run["operations"] >= 6, run
    assert sum(run["cases per phase"].values()) >= 100, run
    assert run["cases per phase"]["stateful"] > 0, run
    linked = next(
        item["value"]
        for item in clean_contract.entry("API-CONTRACT-STATEFUL")["evidence"]
        if item.get("label") == "steps taken along a link"
    )
    assert linked > 0, "no scenario followed a link of the formulas API"


def test_a_foreign_api_without_a_document_skips_naming_the_parameter(
    foreign_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    run = suite_runner(tmp_path)(f"--target-url={foreign_url}", *SELECT)
    for rid in ALL_IDS:
        entry = run.entry(rid)
        assert entry["verdict"] == "skipped", (rid, entry["verdict"])
        assert entry["skip_reasons"] == [
            "GET /openapi.json answered 404: the target publishes no OpenAPI document there: "
            "set --param openapi_path=/your/openapi.json, or --param openapi_file=PATH for an "
            "API that publishes none"
        ]


def test_a_foreign_api_described_by_a_file_fails_on_its_server_error(
    foreign_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    document = tmp_path / "shop-openapi.yaml"
    document.write_text(yaml.safe_dump(FOREIGN_DOCUMENT), encoding="utf-8")
    run = suite_runner(tmp_path)(
        f"--target-url={foreign_url}", f"--param=openapi_file={document}", *SELECT
    )
    failed = run.entry("API-CONTRACT-NO-5XX")
    assert failed["verdict"] == "failed", run.output[-3000:]
    message = failed["checks"][0]["message"]
    assert "GET /broken answered 500: Server error (ST101)" in message, message
    assert f"replay: curl -X GET --insecure {foreign_url}/broken" in message, message
    assert not exception_named(message), message
    cases = next(e["value"] for e in failed["evidence"] if e.get("label", "").startswith("failing"))
    assert all(case["curl"].startswith("curl ") for case in cases), cases
    assert run.verdict("API-CONTRACT-SCHEMA") == "passed"
    stateful = run.entry("API-CONTRACT-STATEFUL")
    assert stateful["verdict"] == "skipped"
    assert "declares no OpenAPI links" in stateful["skip_reasons"][0]


def test_a_request_without_an_answer_is_a_finding_not_a_crash() -> None:
    schema = schemathesis.openapi.from_dict(_document())
    sender = Sender("http://127.0.0.1:9", [None])  # the discard port: nothing listens
    run = ct.ContractRun("t")
    assert run.exchange(schema["/things"]["POST"].Case(), "coverage", sender) is None
    sender.close()
    [finding] = run.of(ct.NO_5XX)
    assert finding.line() == "POST /things: no answer: the connection failed or dropped"
    assert finding.curl.startswith("curl -X POST"), finding.curl
    assert run.cases["coverage"] == 1
