"""The trusted-host layer: a forged Host is refused with 400 before any route sees it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from reference_app.app import create_app
from reference_app.core.config import Settings
from reference_app.core.middleware.hosts import is_allowed
from reference_app.mutants import apply_mutant
from tests.reference_app.conftest import Serve

pytestmark = pytest.mark.anyio
DEFAULT = ("localhost", "backend", "frontend", "testserver")


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("localhost", True),
        ("backend", True),
        ("127.0.0.1", True),  # an IP literal names no site an attacker could own
        ("::1", True),
        ("evil.example", False),
        ("localhost.evil.example", False),
        ("", False),
    ],
)
def test_default_hosts(host: str, allowed: bool) -> None:
    assert is_allowed(host, DEFAULT) is allowed


def test_patterns() -> None:
    assert is_allowed("api.shop.example", ("*.shop.example",))
    assert not is_allowed("shop.example.evil", ("*.shop.example",))
    assert is_allowed("anything.example", ("*",))
    assert is_allowed("SHOP.example", (" shop.example ",))


async def test_forged_host_is_refused_and_the_real_one_served(
    make_settings: Callable[..., Settings], serve: Serve
) -> None:
    client = await serve(create_app(make_settings()))
    assert (await client.get("/health")).status_code == 200
    for host in ("evil.example", "evil.example:443"):
        forged = await client.get("/health", headers={"Host": host})
        assert forged.status_code == 400, host
        assert forged.json() == {"detail": "Invalid host header"}
        assert forged.headers["x-content-type-options"] == "nosniff"  # headers layer outside
    served = await client.get("/health", headers={"Host": "127.0.0.1:8000"})
    assert served.status_code == 200


async def test_the_mutant_serves_any_host(
    make_settings: Callable[..., Settings], serve: Serve
) -> None:
    settings = make_settings()
    app = create_app(settings)
    apply_mutant(app, settings, "hosts-accepts-any-host")
    client = await serve(app)
    forged = await client.get("/health", headers={"Host": "evil.example"})
    assert forged.status_code == 200


async def test_allowed_hosts_from_the_environment(
    make_settings: Callable[..., Settings], serve: Serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SECURITY_ALLOWED_HOSTS", "shop.example")
    client = await serve(create_app(make_settings()))
    assert (await client.get("/health", headers={"Host": "shop.example"})).status_code == 200
    assert (await client.get("/health", headers={"Host": "localhost"})).status_code == 400
