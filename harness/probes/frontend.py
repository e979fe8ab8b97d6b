"""What a frontend serves: cache lifetimes, fingerprinted assets, compression, headers."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

# a content hash in a file name: app.3f9a1c2e.js, main-5d0b68870c.css, chunk.abcdef12.mjs
_FINGERPRINT = re.compile(r"[.\-_][0-9a-fA-F]{8,}\.[A-Za-z0-9]+$")
# headers a frontend must add to its own responses, errors included (values: issue of SEC-HDR)
FRONTEND_SECURITY_HEADERS = (
    "x-content-type-options",
    "x-frame-options",
    "content-security-policy",
    "referrer-policy",
)


def cache_control(value: str | None) -> dict[str, str | None]:
    """Parse Cache-Control into lower-case directives (``max-age`` -> ``"31536000"``)."""
    directives: dict[str, str | None] = {}
    for part in (value or "").split(","):
        name, sep, arg = part.strip().partition("=")
        if name:
            directives[name.strip().lower()] = arg.strip().strip('"') if sep else None
    return directives


def max_age(value: str | None) -> int | None:
    """The max-age in seconds, or None when absent or malformed."""
    raw = cache_control(value).get("max-age")
    if raw is None or not raw.isdigit():
        return None
    return int(raw)


def must_revalidate(value: str | None) -> bool:
    """True when a cache has to ask the server before reusing the response."""
    directives = cache_control(value)
    if {"no-cache", "no-store"} & set(directives):
        return True
    return max_age(value) == 0


def is_fingerprinted(path: str) -> bool:
    return bool(_FINGERPRINT.search(urlsplit(path).path))


class _AssetLinks(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script" and values.get("src"):
            self.links.append(str(values["src"]))
        elif tag == "link" and values.get("href") and "stylesheet" in (values.get("rel") or ""):
            self.links.append(str(values["href"]))


def referenced_assets(html: str) -> list[str]:
    """Same-origin scripts and stylesheets an HTML page loads."""
    parser = _AssetLinks()
    parser.feed(html)
    return [link for link in parser.links if not urlsplit(link).netloc]


def missing_headers(headers: dict[str, str], required: tuple[str, ...]) -> list[str]:
    present = {name.lower() for name in headers}
    return [name for name in required if name not in present]
