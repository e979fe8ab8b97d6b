"""Stored XSS (INP-XSS): rich text with scripts and event handlers goes in through the API,
and what comes back must be inert: served as JSON with ``nosniff``, and no executable
construct left in the stored value.

``executable_constructs`` parses the value as a browser would read it as HTML (entities
decoded in attribute values) and names what would run: script-bearing elements, event
handler attributes, script URLs and ``srcdoc``. Escaped text (``&lt;script&gt;``) is inert.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

# elements that run script or load active content on their own
_ACTIVE = frozenset(
    {"script", "iframe", "frame", "object", "embed", "applet", "svg", "math", "base", "meta"}
)
_URL_ATTRIBUTES = frozenset(
    {"href", "src", "action", "formaction", "xlink:href", "data", "background", "poster"}
)
_SCRIPT_URL = re.compile(r"^(javascript|vbscript|data:text/html|data:image/svg)", re.I)
_INVISIBLE = re.compile(r"[\x00-\x20\x7f]+")

# rich text around each payload: allowed markup a sanitiser keeps
_AROUND = "<p>Notes on the formula: <b>bold</b>, <em>em</em>. {payload}</p>"
PAYLOADS = (
    "<script>alert(document.domain)</script>",
    "<img src=x onerror=alert(document.domain)>",
    '<a href="javascript:alert(document.domain)">link</a>',
    "<svg onload=alert(document.domain)></svg>",
    '<iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;"></iframe>',
    '<p onclick="alert(document.domain)">click</p>',
    '<a href="&#106;avascript:alert(1)">encoded</a>',
)
BENIGN = _AROUND.format(payload='<a href="https://example.org/">a link</a>')


def rich_texts() -> list[str]:
    """Every payload inside ordinary rich text."""
    return [_AROUND.format(payload=payload) for payload in PAYLOADS]


class _Finder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _ACTIVE:
            self.found.append(f"<{tag}> element")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{name} handler on <{tag}>")
            elif name == "srcdoc":
                self.found.append(f"srcdoc on <{tag}>")
            elif name in _URL_ATTRIBUTES and value and _SCRIPT_URL.match(_INVISIBLE.sub("", value)):
                self.found.append(f"script URL in {name} of <{tag}>")

    handle_startendtag = handle_starttag


def executable_constructs(value: str) -> list[str]:
    """What in ``value``, read as HTML, would run script (empty when it is inert)."""
    finder = _Finder()
    finder.feed(value)
    finder.close()
    return list(dict.fromkeys(finder.found))
