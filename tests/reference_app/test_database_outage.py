"""The app while its database is unreachable: a clean 503 the client may retry, never a
dropped connection; a statement that fails for another reason is still a 500."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

pytestmark = pytest.mark.anyio


async def test_unreachable_database_is_a_clean_503(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refused(self: AsyncSession) -> None:
        raise OperationalError("COMMIT", {}, ConnectionRefusedError(111, "Connection refused"))

    monkeypatch.setattr(AsyncSession, "commit", refused)
    answer = await client.post("/api/v1/formulas", json={"name": "x", "expression": "1"})
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "5"
    assert answer.json() == {"detail": "the database is unavailable; try again shortly"}


async def test_a_failed_statement_is_still_a_500(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(self: AsyncSession) -> None:
        raise OperationalError("COMMIT", {}, ValueError("no such table: formulas"))

    monkeypatch.setattr(AsyncSession, "commit", broken)
    answer = await client.post("/api/v1/formulas", json={"name": "y", "expression": "1"})
    assert answer.status_code == 500
    assert answer.json() == {"detail": "Internal Server Error"}


class _ServerError(Exception):
    """A driver error carrying PostgreSQL's SQLSTATE, as asyncpg's do."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"server error {sqlstate}")
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("sqlstate", "status"), [("57P01", 503), ("08006", 503), ("57P03", 503), ("42P01", 500)]
)
async def test_a_server_shutting_down_is_unreachable(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, sqlstate: str, status: int
) -> None:
    async def lost(self: AsyncSession) -> None:
        raise OperationalError("COMMIT", {}, _ServerError(sqlstate))

    monkeypatch.setattr(AsyncSession, "commit", lost)
    answer = await client.post("/api/v1/formulas", json={"name": sqlstate, "expression": "1"})
    assert answer.status_code == status
