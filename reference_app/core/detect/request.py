"""Take a request apart into the values an attacker controls and run the detectors on each."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from urllib.parse import unquote_plus

from reference_app.core.detect.decode import MAX_ROUNDS, percent_layers, variants
from reference_app.core.detect.sqli import detect_sqli
from reference_app.core.detect.traversal import detect_traversal
from reference_app.core.detect.xss import detect_xss

ALL_CLASSES = frozenset({"sqli", "xss", "traversal"})
# headers whose values are structural, parsed by the server itself, never used as data
_STRUCTURAL = frozenset(
    {"host", "content-length", "content-type", "transfer-encoding", "connection", "accept",
     "accept-encoding", "accept-language", "keep-alive", "te", "expect", "upgrade",
     "proxy-connection", "cache-control",
     # credentials are opaque tokens checked by the server, never data (a JWT's base64url
     # may hold "--" and read as an SQL comment)
     "authorization"}
)  # fmt: skip
# MongoDB query operators: a value that names one can change the query (NoSQL injection)
_MONGO_OPERATORS = (
    "ne|eq|gt|gte|lt|lte|in|nin|not|nor|and|or|where|regex|exists|elemMatch|text|expr|all|"
    "size|type|mod|jsonSchema|function|accumulator|lookup|search"
)
_OPERATOR_KEY = re.compile(rf"(?:^|\[)\$(?:{_MONGO_OPERATORS})(?:\]|$)", re.I)
_XML_VALUES = re.compile(r"=\s*\"([^\"]*)\"|=\s*'([^']*)'|>([^<]+)<")
_MULTIPART_NAME = re.compile(r'(?:file)?name\*?="([^"]*)"', re.I)
# path segments, parameter names and most values repeat from request to request ("api",
# "v1", "page", "20"): their verdicts are kept, for values short enough that a bounded cache
# of them stays small; longer values are scanned every time
_CACHED_CHARS = 128
_CACHE_ENTRIES = 8192


@dataclass(frozen=True)
class Options:
    """Which detectors run, and how many percent-decoding layers they look through."""

    classes: frozenset[str] = ALL_CLASSES
    traversal_rounds: int = MAX_ROUNDS
    # JSON keys whose values are rich text the app sanitises (markup is their purpose): the
    # XSS detector leaves them to the sanitiser; the other detectors still look
    rich_text_fields: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Finding:
    """Why a request was rejected: the attack class, where, and the detector's reason."""

    kind: str  # sqli, xss, traversal
    location: str
    reason: str


def _json_strings(node: object, key: str = "") -> Iterator[tuple[str, bool, str]]:
    """(string, is a key, the key it is the value of) for every string of a JSON document."""
    if isinstance(node, dict):
        for name, value in node.items():
            yield str(name), True, ""
            yield from _json_strings(value, str(name))
    elif isinstance(node, list):
        for item in node:
            yield from _json_strings(item, key)
    elif isinstance(node, str):
        yield node, False, key


def _first(findings: Iterator[Finding | None]) -> Finding | None:
    return next((finding for finding in findings if finding is not None), None)


class Scanner:
    """Runs the enabled detectors over every part of a request."""

    def __init__(self, options: Options | None = None) -> None:
        self.options = options or Options()
        self._cached: Callable[[str, str, bool], Finding | None] = functools.lru_cache(
            maxsize=_CACHE_ENTRIES
        )(self._scan)

    def value(self, value: str, location: str, *, plus_is_space: bool = True) -> Finding | None:
        """The detectors over the decoded forms of one value."""
        if not value:
            return None
        if len(value) <= _CACHED_CHARS:
            return self._cached(value, location, plus_is_space)
        return self._scan(value, location, plus_is_space)

    def _scan(self, value: str, location: str, plus_is_space: bool) -> Finding | None:
        classes = self.options.classes
        forms = variants(value, plus_is_space=plus_is_space)
        if "traversal" in classes:
            shallow = variants(
                value, plus_is_space=plus_is_space, rounds=self.options.traversal_rounds
            )
            for form in shallow:
                reason = detect_traversal(form, is_path=location == "path")
                if reason:
                    return Finding("traversal", location, reason)
        if "xss" in classes:
            for form in forms:
                reason = detect_xss(form, markup_only=location == "path")
                if reason:
                    return Finding("xss", location, reason)
        if "sqli" in classes:
            if any(_OPERATOR_KEY.search(form) for form in forms):
                return Finding("sqli", location, "query operator injection ($ operator)")
            for form in forms:
                reason = detect_sqli(form)
                if reason:
                    return Finding("sqli", location, reason)
        return None

    def pairs(self, encoded: str, location: str) -> Finding | None:
        """``a=b&c=d`` (query, form body, cookie crumb): every name and value."""
        parts = (part for item in encoded.split("&") if item for part in item.partition("=")[::2])
        # the app sees names and values decoded once; further layers are the detectors' job
        return _first(
            self.value(unquote_plus(part), location, plus_is_space=False) for part in parts
        )

    def path(self, path: str) -> Finding | None:
        if "traversal" in self.options.classes:
            for layer in percent_layers(path, self.options.traversal_rounds):
                reason = detect_traversal(layer.replace("\x00", ""), is_path=True)
                if reason:
                    return Finding("traversal", "path", reason)
        return _first(
            self.value(segment, "path", plus_is_space=False) for segment in path.split("/")
        )

    def headers(self, headers: list[tuple[str, str]]) -> Finding | None:
        for name, value in headers:
            lower = name.lower()
            if lower == "cookie":
                finding = _first(self.pairs(crumb.strip(), "cookie") for crumb in value.split(";"))
            elif lower in _STRUCTURAL:
                continue
            else:
                finding = self.value(value, "header", plus_is_space=False)
            if finding:
                return finding
        return None

    def body(self, body: bytes, content_type: str) -> Finding | None:
        text = body.decode("utf-8", errors="replace")
        media = content_type.split(";", 1)[0].strip().lower()
        if media == "application/x-www-form-urlencoded" or not media:
            return self.pairs(text, "body-form")
        if media == "multipart/form-data":
            names = (
                self.value(n, "body-form", plus_is_space=False)
                for n in _MULTIPART_NAME.findall(text)
            )
            parts = (
                self.value(chunk.split("\r\n--", 1)[0], "body-form", plus_is_space=False)
                for chunk in re.split(r"\r?\n\r?\n", text)[1:]
            )
            return _first(names) or _first(parts)
        if media.endswith("json"):
            return self.json(text)
        if media.endswith("xml"):
            values = (
                next(group for group in match.groups() if group is not None)
                for match in _XML_VALUES.finditer(text)
            )
            return _first(self.value(v, "body-xml", plus_is_space=False) for v in values)
        if media.startswith("text/"):
            return self.value(text, "body", plus_is_space=False)
        return None  # binary content is the app's to parse

    def json(self, text: str) -> Finding | None:
        try:
            document = json.loads(text)
        except ValueError:
            return self.value(text, "body-json", plus_is_space=False)
        rich = self.options.rich_text_fields
        for value, is_key, key in _json_strings(document):
            if is_key and "sqli" in self.options.classes and _OPERATOR_KEY.match(value):
                return Finding("sqli", "body-json", "query operator injection ($ operator)")
            scanner = self.rich_text_scanner if key in rich else self
            finding = scanner.value(value, "body-json", plus_is_space=False)
            if finding:
                return finding
        return None

    @functools.cached_property
    def rich_text_scanner(self) -> Scanner:
        """The detectors for rich-text values: all but XSS."""
        classes = self.options.classes - {"xss"}
        return Scanner(replace(self.options, classes=classes, rich_text_fields=frozenset()))

    def request(
        self, path: str, query: str, headers: list[tuple[str, str]], body: bytes
    ) -> Finding | None:
        """The first attack found: path (raw), query, headers and cookies, then the body."""
        content_type = next((v for n, v in headers if n.lower() == "content-type"), "")
        return (
            self.path(path)
            or self.pairs(query, "query")
            or self.headers(headers)
            or (self.body(body, content_type) if body else None)
        )


_DEFAULT = Scanner()


def scan_value(value: str, location: str, *, plus_is_space: bool = True) -> Finding | None:
    """Every detector over one value (as it would arrive at ``location``)."""
    return _DEFAULT.value(value, location, plus_is_space=plus_is_space)


def scan_request(
    path: str, query: str, headers: list[tuple[str, str]], body: bytes
) -> Finding | None:
    """Every detector over a whole request."""
    return _DEFAULT.request(path, query, headers, body)
