"""Frontend probes: Cache-Control parsing, fingerprints, asset discovery."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from harness.probes.frontend import (
    cache_control,
    is_fingerprinted,
    max_age,
    missing_headers,
    must_revalidate,
    referenced_assets,
)

STATIC = Path(__file__).resolve().parents[1] / "reference_app" / "frontend" / "static"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("public, max-age=31536000, immutable", 31536000),
        ("max-age=60", 60),
        ('max-age="120"', 120),
        ("no-cache", None),
        ("max-age=abc", None),
        (None, None),
        ("", None),
        ("MAX-AGE=5", 5),
    ],
)
def test_max_age(value: str | None, expected: int | None) -> None:
    assert max_age(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("no-cache", True),
        ("no-store", True),
        ("max-age=0, must-revalidate", True),
        ("public, max-age=600", False),
        (None, False),
    ],
)
def test_must_revalidate(value: str | None, expected: bool) -> None:
    assert must_revalidate(value) is expected


def test_cache_control_directives() -> None:
    assert cache_control("Public, Max-Age=10, immutable") == {
        "public": None,
        "max-age": "10",
        "immutable": None,
    }


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/assets/app.dd47563f91.js", True),
        ("/static/main-5d0b68870c.css?v=1", True),
        ("/app.js", False),
        ("/assets/app.v2.js", False),
        ("/assets/logo.png", False),
    ],
)
def test_fingerprint(path: str, expected: bool) -> None:
    assert is_fingerprinted(path) is expected


def test_referenced_assets() -> None:
    html = (
        '<link rel="stylesheet" href="/a.css"><link rel="icon" href="/i.png">'
        '<script src="/b.js"></script><script>inline()</script>'
        '<script src="https://cdn.example/x.js"></script>'
    )
    assert referenced_assets(html) == ["/a.css", "/b.js"]


def test_missing_headers_is_case_insensitive() -> None:
    assert missing_headers({"X-Frame-Options": "DENY"}, ("x-frame-options", "referrer-policy")) == [
        "referrer-policy"
    ]


def test_reference_assets_are_fingerprinted_by_their_content() -> None:
    """A changed asset must get a new name, or browsers keep the old one for a year."""
    links = referenced_assets((STATIC / "index.html").read_text())
    assert links
    for link in links:
        path = STATIC / link.lstrip("/")
        assert path.is_file(), f"index.html loads {link}, which does not exist"
        digest = re.search(r"\.([0-9a-f]{10})\.", path.name)
        assert digest, f"{link} is not fingerprinted"
        assert hashlib.sha256(path.read_bytes()).hexdigest()[:10] == digest.group(1), (
            f"{link} changed without a new fingerprint: rename it to its content hash"
        )
