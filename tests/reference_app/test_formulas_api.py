"""The formulas API against a migrated SQLite file: CRUD, search, pagination, errors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import httpx
import pytest

from reference_app.app import create_app
from reference_app.core.config import Settings
from reference_app.core.middleware.validation import RequestValidationMiddleware
from tests.reference_app.conftest import Serve

pytestmark = pytest.mark.anyio

BASE = "/api/v1/formulas"


async def _create(client: httpx.AsyncClient, name: str, **fields: str | None) -> dict[str, object]:
    body = {"name": name, "expression": fields.pop("expression", "x + 1"), **fields}
    response = await client.post(BASE, json=body)
    assert response.status_code == 201, response.text
    created: dict[str, object] = response.json()
    return created


async def test_create_then_read(client: httpx.AsyncClient) -> None:
    created = await _create(client, "Pythagoras", expression="a^2 + b^2 = c^2", description="sides")

    response = await client.get(f"{BASE}/{created['id']}")

    assert response.status_code == 200
    assert response.json() == created
    assert created["name"] == "Pythagoras"
    assert created["description"] == "sides"
    for field in ("created_at", "updated_at"):
        stamp = datetime.fromisoformat(str(created[field]))
        assert stamp.utcoffset() == timedelta(0)


async def test_duplicate_name_is_409(client: httpx.AsyncClient) -> None:
    await _create(client, "Euler")

    response = await client.post(BASE, json={"name": "Euler", "expression": "e^(i*pi) + 1 = 0"})

    assert response.status_code == 409
    assert "Euler" in response.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [
        {"expression": "x"},
        {"name": "n"},
        {"name": "", "expression": "x"},
        {"name": "   ", "expression": "x"},
        {"name": "n" * 201, "expression": "x"},
        {"name": "n", "expression": "x" * 2001},
        {"name": "n", "expression": "x", "unknown": 1},
        {"name": "nul\x00byte", "expression": "x"},
    ],
)
async def test_invalid_bodies_are_422(client: httpx.AsyncClient, body: dict[str, object]) -> None:
    response = await client.post(BASE, json=body)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/json"
    assert all({"loc", "msg", "type"} <= set(error) for error in response.json()["detail"])


async def test_missing_formula_is_json_404(client: httpx.AsyncClient) -> None:
    for method in ("GET", "DELETE"):
        response = await client.request(method, f"{BASE}/4242")
        assert response.status_code == 404
        assert response.json() == {"detail": "formula 4242 not found"}
    response = await client.patch(f"{BASE}/4242", json={"name": "x"})
    assert response.status_code == 404


async def test_out_of_range_id_is_422_not_500(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{BASE}/{10**30}")

    assert response.status_code == 422


async def test_patch_changes_only_given_fields(client: httpx.AsyncClient) -> None:
    created = await _create(client, "Area", expression="w * h", description="rectangle")

    response = await client.patch(f"{BASE}/{created['id']}", json={"expression": "width * height"})

    assert response.status_code == 200
    updated = response.json()
    assert updated["expression"] == "width * height"
    assert updated["name"] == "Area"
    assert updated["description"] == "rectangle"
    assert updated["updated_at"] >= created["updated_at"]
    assert (await client.get(f"{BASE}/{created['id']}")).json() == updated


async def test_patch_can_clear_description_but_not_name(client: httpx.AsyncClient) -> None:
    created = await _create(client, "Speed", description="distance over time")
    url = f"{BASE}/{created['id']}"

    cleared = await client.patch(url, json={"description": None})
    refused = await client.patch(url, json={"name": None})

    assert cleared.status_code == 200
    assert cleared.json()["description"] is None
    assert refused.status_code == 422


async def test_patch_to_taken_name_is_409(client: httpx.AsyncClient) -> None:
    await _create(client, "First")
    second = await _create(client, "Second")

    response = await client.patch(f"{BASE}/{second['id']}", json={"name": "First"})

    assert response.status_code == 409
    assert (await client.get(f"{BASE}/{second['id']}")).json()["name"] == "Second"


async def test_put_replaces_every_field(client: httpx.AsyncClient) -> None:
    created = await _create(client, "Old", expression="1", description="will vanish")

    response = await client.put(f"{BASE}/{created['id']}", json={"name": "New", "expression": "2"})

    assert response.status_code == 200
    assert response.json()["name"] == "New"
    assert response.json()["expression"] == "2"
    assert response.json()["description"] is None
    incomplete = await client.put(f"{BASE}/{created['id']}", json={"name": "New"})
    assert incomplete.status_code == 422


async def test_delete(client: httpx.AsyncClient) -> None:
    created = await _create(client, "Temporary")

    response = await client.delete(f"{BASE}/{created['id']}")

    assert response.status_code == 204
    assert response.content == b""
    assert (await client.get(f"{BASE}/{created['id']}")).status_code == 404


async def test_pagination_is_ordered_by_id(client: httpx.AsyncClient) -> None:
    ids = [(await _create(client, f"formula-{n:02}"))["id"] for n in range(25)]

    first = (await client.get(BASE)).json()
    second = (await client.get(BASE, params={"page": 2, "size": 20})).json()
    small = (await client.get(BASE, params={"page": 3, "size": 7})).json()
    beyond = (await client.get(BASE, params={"page": 9})).json()

    assert [item["id"] for item in first["items"]] == ids[:20]
    assert (first["total"], first["page"], first["size"], first["pages"]) == (25, 1, 20, 2)
    assert [item["id"] for item in second["items"]] == ids[20:]
    assert [item["id"] for item in small["items"]] == ids[14:21]
    assert small["pages"] == 4
    assert beyond["items"] == []
    assert beyond["total"] == 25


@pytest.mark.parametrize(
    "params", [{"page": 0}, {"size": 0}, {"size": 101}, {"page": "x"}, {"q": "q" * 201}]
)
async def test_bad_paging_is_422(client: httpx.AsyncClient, params: dict[str, str | int]) -> None:
    response = await client.get(BASE, params=params)

    assert response.status_code == 422


async def test_search_is_case_insensitive_on_name_and_description(
    client: httpx.AsyncClient,
) -> None:
    await _create(client, "Newton's second law", expression="F = m * a")
    await _create(client, "Kinetic energy", expression="E = m * v^2 / 2", description="NEWTONian")
    await _create(client, "Ohm", expression="V = I * R")

    page = (await client.get(BASE, params={"q": "newton"})).json()
    empty = (await client.get(BASE, params={"q": "   "})).json()

    assert sorted(item["name"] for item in page["items"]) == [
        "Kinetic energy",
        "Newton's second law",
    ]
    assert page["total"] == 2
    assert empty["total"] == 3


@pytest.fixture
async def unguarded_client(
    make_settings: Callable[..., Settings], serve: Serve
) -> httpx.AsyncClient:
    """The app without its request-validation layer, which would reject SQL payloads at the
    edge (400) before the queries under test ever ran."""
    app = create_app(make_settings())
    app.user_middleware = [
        m
        for m in app.user_middleware
        if m.cls is not RequestValidationMiddleware  # type: ignore[comparison-overlap]
    ]
    return await serve(app)


@pytest.mark.parametrize("q", ["%", "_", "' OR 1=1 --", "\\", "x'); DROP TABLE formulas; --"])
async def test_search_treats_query_as_literal_text(
    unguarded_client: httpx.AsyncClient, q: str
) -> None:
    client = unguarded_client
    await _create(client, "plain")
    await _create(client, "100% sure", description="under_score")

    response = await client.get(BASE, params={"q": q})

    assert response.status_code == 200
    names = {item["name"] for item in response.json()["items"]}
    expected = {"100% sure"} if q in {"%", "_"} else set()
    assert names == expected
    assert (await client.get(BASE)).json()["total"] == 2


async def test_data_survives_a_new_app_instance(
    client: httpx.AsyncClient, make_settings: Callable[..., Settings], serve: Serve
) -> None:
    created = await _create(client, "Persistent")
    other = await serve(create_app(make_settings()))

    response = await other.get(f"{BASE}/{created['id']}")

    assert response.json()["name"] == "Persistent"
