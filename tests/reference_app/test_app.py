"""The app factory: JSON error bodies, no leaked internals, engine disposal."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from reference_app.app import create_app
from reference_app.core.config import Settings, SettingsError
from reference_app.core.database import database_of
from tests.reference_app.conftest import Serve

pytestmark = pytest.mark.anyio


async def test_unknown_path_is_json_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/no/such/page")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"detail": "Not Found"}


async def test_wrong_method_is_json_405(client: httpx.AsyncClient) -> None:
    response = await client.put("/health")

    assert response.status_code == 405
    assert response.json() == {"detail": "Method Not Allowed"}
    assert "GET" in response.headers["allow"]


async def test_malformed_json_is_422_without_echo(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/formulas",
        # benign text: a script payload would be rejected as XSS (400) before the app parses it
        content=b'{"name": "echo-marker-7f3a", ',
        headers={"content-type": "application/json"},
    )

    assert response.status_code == 422
    assert "echo-marker-7f3a" not in response.text
    assert all("input" not in error for error in response.json()["detail"])


async def test_unhandled_error_is_json_500_without_traceback(
    make_settings: Callable[..., Settings], serve: Serve
) -> None:
    app = create_app(make_settings())

    async def explode() -> None:
        raise RuntimeError("secret internal state: password=hunter2")

    app.add_api_route("/explode", explode)
    client = await serve(app)

    response = await client.get("/explode")

    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"detail": "Internal Server Error"}
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text


async def test_openapi_documents_the_formulas_api(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()

    assert schema["info"]["version"] == "1.0.0"
    assert set(schema["paths"]) == {
        "/api/v1/formulas",
        "/api/v1/formulas/{formula_id}",
        "/api/v1/auth/login",
        "/api/v1/auth/me",
        "/api/v1/auth/register",
        "/api/v1/uploads",
        "/api/v1/uploads/{name}",
    }


async def test_lifespan_disposes_the_engine(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(make_settings())
    database = database_of(app)
    disposed: list[bool] = []
    real_dispose = database.dispose

    async def spy() -> None:
        disposed.append(True)
        await real_dispose()

    monkeypatch.setattr(database, "dispose", spy)
    async with app.router.lifespan_context(app):
        assert not disposed

    assert disposed == [True]


def test_factory_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("SECRET_KEY", "changeme")

    with pytest.raises(SettingsError, match="SECRET_KEY"):
        create_app()
