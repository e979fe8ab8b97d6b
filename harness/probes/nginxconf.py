"""The frontend's nginx configuration, parsed by crossplane (nginx's own grammar): where it is
(the files the frontend Dockerfile copies into /etc/nginx), whether it serves the built app
from a root, and which location nginx picks for an API path and where that location proxies."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import crossplane

from harness.probes.dockerfile import command_words, stages
from harness.probes.repo_findings import RepoFinding, finding

Directive = dict[str, Any]
_CONFIG_SUFFIXES = (".conf", ".template")


class NginxConfigError(ValueError):
    """The configuration does not parse; the message is crossplane's first error, one line."""


def copied_configs(dockerfile: str, context: Path) -> list[Path]:
    """Files of ``context`` the final stage copies under /etc/nginx (a copied directory gives
    its .conf and .template files)."""
    stage_list = stages(dockerfile)
    if not stage_list:
        return []
    found: list[Path] = []
    for args in stage_list[-1].all("COPY") + stage_list[-1].all("ADD"):
        words = [w for w in command_words(args) if not w.startswith("--")]
        if len(words) < 2 or not words[-1].startswith("/etc/nginx"):
            continue
        for source in words[:-1]:
            path = (context / source).resolve()
            if path.is_dir():
                found += sorted(p for p in path.iterdir() if p.suffix in _CONFIG_SUFFIXES)
            elif path.is_file():
                found.append(path)
    return found


def parse_config(path: Path) -> list[Directive]:
    """The directives of one file (its includes are not followed: they point into the image)."""
    parsed = crossplane.parse(
        str(path), check_ctx=False, single=True, catch_errors=True, comments=False
    )
    if parsed["errors"]:
        error = parsed["errors"][0]
        raise NginxConfigError(f"line {error.get('line')}: {error.get('error')}")
    return [d for config in parsed["config"] for d in config["parsed"]]


def _walk(directives: list[Directive], name: str) -> Iterator[Directive]:
    for directive in directives:
        if directive["directive"] == name:
            yield directive
        yield from _walk(directive.get("block") or [], name)


def _first(block: list[Directive], name: str) -> Directive | None:
    return next((d for d in block if d["directive"] == name), None)


@dataclass(frozen=True)
class Location:
    modifier: str  # "", "=", "^~", "~", "~*"
    path: str
    block: list[Directive]

    def matches(self, uri: str) -> bool:
        if self.modifier == "=":
            return uri == self.path
        if self.modifier in ("~", "~*"):
            flags = re.IGNORECASE if self.modifier == "~*" else 0
            try:
                return re.search(self.path, uri, flags) is not None
            except re.error:
                return False
        return uri.startswith(self.path)

    def __str__(self) -> str:
        return f"location {self.modifier + ' ' if self.modifier else ''}{self.path}"


def locations(server: Directive) -> list[Location]:
    found = []
    for directive in server.get("block") or []:
        if directive["directive"] == "location" and directive["args"]:
            args = directive["args"]
            modifier, path = (args[0], args[1]) if len(args) > 1 else ("", args[0])
            found.append(Location(modifier, path, directive.get("block") or []))
    return found


def select_location(server: Directive, uri: str) -> Location | None:
    """The location nginx picks for ``uri``: an exact match, else the longest prefix if it is
    ``^~``, else the first matching regular expression, else the longest prefix."""
    candidates = [loc for loc in locations(server) if loc.matches(uri)]
    exact = [loc for loc in candidates if loc.modifier == "="]
    if exact:
        return exact[0]
    prefixes = sorted(
        (loc for loc in candidates if loc.modifier in ("", "^~")), key=lambda loc: -len(loc.path)
    )
    if prefixes and prefixes[0].modifier == "^~":
        return prefixes[0]
    regexes = [loc for loc in candidates if loc.modifier in ("~", "~*")]
    if regexes:
        return regexes[0]
    return prefixes[0] if prefixes else None


def _upstream_hosts(directives: list[Directive]) -> dict[str, list[str]]:
    return {
        u["args"][0]: [s["args"][0] for s in u.get("block") or [] if s["directive"] == "server"]
        for u in _walk(directives, "upstream")
        if u["args"]
    }


def _proxy_hosts(url: str, upstreams: dict[str, list[str]]) -> list[str]:
    host = urlsplit(url).hostname or ""
    servers = upstreams.get(host)
    return [s.rsplit(":", 1)[0] for s in servers] if servers else [host]


def _serves_app(server: Directive, inherited: Directive | None) -> str | None:
    """How the server serves the built app at /, or None; ``inherited``: the http block's
    root, which a server without its own uses."""
    block = server.get("block") or []
    root = _first(block, "root") or inherited
    slash = select_location(server, "/")
    inner = slash.block if slash else []
    if slash and (_first(inner, "proxy_pass") or _first(inner, "return")):
        return None
    root = _first(inner, "root") or root
    if root is None:
        return None
    fallback = _first(inner, "try_files") or _first(block, "try_files")
    how = f"root {root['args'][0]}"
    return how + (f", try_files {' '.join(fallback['args'])}" if fallback else "")


def check_frontend_proxy(
    directives: list[Directive],
    *,
    api_path: str,
    backend: str,
    rid: str = "DEP-FRONTEND-PROXY",
) -> RepoFinding:
    """Some server serves the app from a root at / and proxies ``api_path`` to ``backend``."""
    servers = list(_walk(directives, "server"))
    if not servers:
        return finding(rid, ["no server block"], [])
    upstreams = _upstream_hosts(directives)
    http_root = next(
        (r for h in _walk(directives, "http") if (r := _first(h["block"], "root"))), None
    )
    problems, evidence = [], []
    for server in servers:
        listen = " ".join(" ".join(d["args"]) for d in _walk([server], "listen")) or "80"
        served = _serves_app(server, http_root)
        chosen = select_location(server, api_path)
        proxy = _first(chosen.block, "proxy_pass") if chosen else None
        hosts = _proxy_hosts(proxy["args"][0], upstreams) if proxy else []
        where = f"server listening on {listen}"
        evidence.append(
            f"{where}: / by {served or 'nothing'}; {api_path} by "
            f"{chosen or 'no location'}" + (f" -> proxy_pass {proxy['args'][0]}" if proxy else "")
        )
        mine = []
        if served is None:
            mine.append(f"{where} serves no files from a root at /")
        if proxy is None:
            mine.append(f"{where} does not proxy {api_path} ({chosen or 'no location'} matches)")
        elif backend not in hosts:
            mine.append(f"{where} proxies {api_path} to {proxy['args'][0]}, not to {backend}")
        if not mine:
            return finding(rid, [], evidence)
        problems += mine
    return finding(rid, problems, evidence)
