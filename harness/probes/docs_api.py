"""An API reference against the deployment's OpenAPI document: the operations (method and
path) the document has that no page of the reference names on one line, as a table row, a
heading or a code line does. Pure."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from harness.errors import UnexpectedAnswer
from harness.probes.mkdocs_site import Page

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
_METHOD = re.compile(r"\b(GET|PUT|POST|DELETE|PATCH|HEAD|OPTIONS|TRACE)\b")
# a path as docs write it: `/api/v1/items/{id}`; not the path part of a URL (after ://host)
_PATH = re.compile(r"(?<![\w:/.\-])/[\w\-./{}<>:~]*")
_PARAMETER = re.compile(r"^(?:\{[^}]*\}|<[^>]*>|:\w+)$")


def normal_path(path: str) -> str:
    """A path with every parameter as ``{}`` and no trailing slash or punctuation, so
    ``/items/{item_id}``, ``/items/<id>`` and ``/items/:id/`` compare equal."""
    path = path.split("?", 1)[0].split("#", 1)[0].rstrip(".,;:)")
    segments = ["{}" if _PARAMETER.match(segment) else segment for segment in path.split("/")]
    return "/".join(segments).rstrip("/") or "/"


def operations(document: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(METHOD, path) of every operation of an OpenAPI document, in its order."""
    paths = document.get("paths")
    if not isinstance(paths, Mapping):
        return []
    return [
        (method.upper(), str(path))
        for path, item in paths.items()
        if isinstance(item, Mapping)
        for method in item
        if method in METHODS
    ]


def base_path(document: Mapping[str, Any]) -> str:
    """The path of the document's first server (``/api`` of ``servers: [{url: /api}]``)."""
    servers = document.get("servers") or ()
    first = servers[0] if isinstance(servers, list) and servers else {}
    url = str(first.get("url", "")) if isinstance(first, Mapping) else ""
    return re.sub(r"^[a-z]+://[^/]*", "", url).rstrip("/")


def documented(markdown: str) -> set[tuple[str, str]]:
    """(METHOD, normal path) pairs a page names on one line: a table row, a heading or a
    code line that has the method and the path."""
    found: set[tuple[str, str]] = set()
    for line in markdown.splitlines():
        methods = _METHOD.findall(line)
        for path in _PATH.findall(line) if methods else ():
            found.update((method, normal_path(path)) for method in methods)
    return found


def undocumented(document: Mapping[str, Any], pages: Iterable[Page]) -> list[str]:
    """``METHOD path`` of each operation of the document that no page names."""
    named = set().union(*(documented(page.text) for page in pages))
    prefix = base_path(document)
    return [
        f"{method} {path}"
        for method, path in operations(document)
        if (method, normal_path(path)) not in named
        and (method, normal_path(prefix + path)) not in named
    ]


def parse_document(text: str, source: str) -> dict[str, Any]:
    """An OpenAPI document (JSON or YAML) with its paths; :class:`UnexpectedAnswer` (the check
    cannot judge) for anything else."""
    try:
        document = yaml.safe_load(text)  # JSON is YAML too
    except yaml.YAMLError:
        document = None
    if not isinstance(document, dict) or not isinstance(document.get("paths"), dict):
        raise UnexpectedAnswer(source, "an OpenAPI document with paths", text[:80] or "nothing")
    return document
