"""Image probes on inspect data: users, health checks, secrets."""

from __future__ import annotations

from typing import Any

import pytest

from harness.probes.images import (
    found_paths,
    healthcheck_test,
    is_root_user,
    proc_status_uid,
    secret_env,
    secret_history,
)


@pytest.mark.parametrize(
    ("user", "root"),
    [
        ("", True),
        ("root", True),
        ("0", True),
        ("0:0", True),
        ("root:app", True),
        ("10001", False),
        ("app", False),
        ("101:101", False),
        ("nginx", False),
    ],
)
def test_root_users(user: str, root: bool) -> None:
    assert is_root_user(user) is root


def test_proc_status_uid() -> None:
    assert proc_status_uid("Name:\tpython\nUid:\t10001\t10001\t10001\t10001\n") == 10001
    assert proc_status_uid("Name:\tx\n") is None


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"Healthcheck": {"Test": ["CMD", "python", "-c", "x"]}}, ["CMD", "python", "-c", "x"]),
        ({"Healthcheck": {"Test": ["NONE"]}}, None),
        ({}, None),
    ],
)
def test_healthcheck(config: dict[str, Any], expected: list[str] | None) -> None:
    assert healthcheck_test({"Config": config}) == expected


def test_secret_env() -> None:
    image = {
        "Config": {
            "Env": [
                "PATH=/usr/bin",
                "SECRET_KEY=abc",
                "DB_PASSWORD=",
                "API_TOKEN=x",
                "PYTHONUNBUFFERED=1",
            ]
        }
    }
    assert secret_env(image) == ["SECRET_KEY", "API_TOKEN"]


def test_secret_history() -> None:
    steps = [
        {"CreatedBy": "/bin/sh -c #(nop)  ENV SECRET_KEY=hunter2hunter2"},
        {"CreatedBy": "/bin/sh -c pip install --no-index app"},
        {"CreatedBy": "|1 DB_PASSWORD=s3cret /bin/sh -c ./configure"},
        {"CreatedBy": "/bin/sh -c #(nop)  ENV PATH=/opt/venv/bin:/usr/bin"},
    ]
    found = secret_history(steps)
    assert [item.split(" ")[0] for item in found] == ["SECRET_KEY", "DB_PASSWORD"]


def test_found_paths() -> None:
    assert found_paths("/usr/bin/gcc\nnoise\n  /usr/bin/make \n") == [
        "/usr/bin/gcc",
        "/usr/bin/make",
    ]
