"""Reading a target's answer: the typed value, or one line naming endpoint, expectation, answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from harness.errors import UnexpectedAnswer
from harness.probes import answers

FORMULAS = answers.FORMULAS_API


def answer(
    status: int = 200,
    body: str | bytes = "",
    content_type: str | None = "application/json",
    method: str = "GET",
    path: str = "/api/v1/formulas",
) -> httpx.Response:
    headers = {"content-type": content_type} if content_type else {}
    request = httpx.Request(method, f"http://127.0.0.1:9{path}?q=1")
    content = body.encode() if isinstance(body, str) else body
    return httpx.Response(status, content=content, headers=headers, request=request)


Read = Callable[[httpx.Response], Any]

READS_THAT_SUCCEED: list[tuple[str, Read, httpx.Response, Any]] = [
    ("any JSON", answers.json_value, answer(body="[1, 2]"), [1, 2]),
    ("JSON null", answers.json_value, answer(body="null"), None),
    ("object", answers.json_object, answer(body='{"a": 1}'), {"a": 1}),
    (
        "object with keys",
        lambda r: answers.json_object(r, ("id", "name")),
        answer(body='{"id": 3, "name": "x", "more": true}'),
        {"id": 3, "name": "x", "more": True},
    ),
    ("array", answers.json_array, answer(body='[{"id": 1}]'), [{"id": 1}]),
    ("string field", lambda r: answers.field(r, "name", str), answer(body='{"name": "n"}'), "n"),
    ("list field", lambda r: answers.field(r, "items", list), answer(body='{"items": []}'), []),
    (
        "field of a part",
        lambda r: answers.field(r, "id", int, within={"id": 7}),
        answer(body="[]"),
        7,
    ),
    ("integer id", answers.identifier, answer(status=201, body='{"id": 12}'), 12),
    ("string id", answers.identifier, answer(status=201, body='{"id": "a1b2"}'), "a1b2"),
    ("interpretable status", lambda r: answers.status_in(r, {200, 201}, "x"), answer(201), 201),
    ("present endpoint", lambda r: answers.present(r, "x", FORMULAS).status_code, answer(500), 500),
]


@pytest.mark.parametrize(
    ("read", "response", "value"),
    [pytest.param(r, resp, v, id=name) for name, r, resp, v in READS_THAT_SUCCEED],
)
def test_reads_of_the_expected_shape(read: Read, response: httpx.Response, value: Any) -> None:
    assert read(response) == value


READS_THAT_CANNOT_JUDGE: list[tuple[str, Read, httpx.Response, str, str]] = [
    (
        "HTML instead of JSON",
        answers.json_value,
        answer(body="<html><body>Welcome</body></html>", content_type="text/html"),
        "a JSON body",
        "200 text/html '<html><body>Welcome</body></html>'",
    ),
    (
        "empty body",
        answers.json_object,
        answer(status=204, content_type=None),
        "a JSON object",
        "204 (no content type) (empty body)",
    ),
    (
        "array for an object",
        lambda r: answers.json_object(r, ("id",)),
        answer(body='[{"id": 1}]'),
        "a JSON object with 'id'",
        "200 application/json '[{\"id\": 1}]'",
    ),
    (
        "object without the key",
        lambda r: answers.json_object(r, ("id", "name")),
        answer(body='{"id": 1}'),
        "a JSON object with 'id', 'name'",
        "200 application/json",
    ),
    (
        "object for an array",
        answers.json_array,
        answer(body='{"items": []}'),
        "a JSON array",
        "'{\"items\": []}'",
    ),
    (
        "field of another type",
        lambda r: answers.field(r, "items", list),
        answer(body='{"items": "none"}'),
        "a JSON object with 'items' as an array",
        "200 application/json",
    ),
    (
        "a boolean is no integer",
        lambda r: answers.field(r, "id", int),
        answer(body='{"id": true}'),
        "'id' as an integer",
        "200",
    ),
    (
        "item without an id",
        lambda r: answers.identifier(r, within={"name": "x"}),
        answer(body='{"items": [{"name": "x"}]}'),
        "'id' as an integer or string id",
        "200",
    ),
    (
        "empty string id",
        answers.identifier,
        answer(status=201, body='{"id": ""}'),
        "'id' as an integer or string id",
        "201",
    ),
    (
        "status it cannot interpret",
        lambda r: answers.status_in(r, {200}, "200 and a token"),
        answer(status=302, content_type=None),
        "200 and a token",
        "302",
    ),
]


@pytest.mark.parametrize(
    ("read", "response", "expected", "got"),
    [pytest.param(r, resp, e, g, id=name) for name, r, resp, e, g in READS_THAT_CANNOT_JUDGE],
)
def test_other_shapes_raise_one_line(
    read: Read, response: httpx.Response, expected: str, got: str
) -> None:
    with pytest.raises(UnexpectedAnswer) as caught:
        read(response)
    error = caught.value
    assert error.endpoint == f"{response.request.method} /api/v1/formulas"
    assert expected in error.expected
    assert got in error.got
    line = str(error)
    assert "\n" not in line
    assert line.startswith(f"{error.endpoint}: expected ")
    assert ", got " in line


def test_a_long_body_is_cut_to_an_excerpt() -> None:
    text = "x" * 1000 + " tail"
    with pytest.raises(UnexpectedAnswer) as caught:
        answers.json_value(answer(body=text))
    error = caught.value
    assert "x" * answers.EXCERPT_CHARS + "..." in error.got
    assert "tail" not in error.got
    assert len(str(error)) < 250


@pytest.mark.parametrize("status", sorted(answers.ABSENT))
def test_a_missing_endpoint_says_the_claim_cannot_be_judged(status: int) -> None:
    response = answer(status, "<h1>Not Found</h1>", "text/html", method="POST")
    with pytest.raises(UnexpectedAnswer) as caught:
        answers.present(response, "a formula created", FORMULAS)
    line = str(caught.value)
    assert line.startswith("POST /api/v1/formulas: expected a formula created from " + FORMULAS)
    assert f"got {status} text/html '<h1>Not Found</h1>'" in line
    assert "cannot be judged" in line


def test_the_api_hint_names_the_setting_whatever_the_status() -> None:
    response = answer(201, '{"status": "accepted"}', method="POST")
    with pytest.raises(UnexpectedAnswer) as caught:
        answers.identifier(response, api=FORMULAS)
    line = str(caught.value)
    assert "expected a JSON object with 'id' from " + FORMULAS in line
    assert "cannot be judged" not in line  # the endpoint is there; its answer has another shape


def test_a_response_without_its_request_still_reads() -> None:
    response = httpx.Response(500, text="boom")
    with pytest.raises(UnexpectedAnswer) as caught:
        answers.json_value(response)
    error = caught.value
    assert error.endpoint == "(unknown endpoint)"
    assert "500 text/plain 'boom'" in error.got


def test_a_streamed_body_not_read_is_said_so() -> None:
    response = httpx.Response(200, stream=httpx.ByteStream(b"{}"), request=answer().request)
    assert answers.excerpt(response) == "200 (no content type) (body not read)"
