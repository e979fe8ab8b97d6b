"""Discovery: what the target offers, found before any check judges it.

A check that probes a path the target does not have would judge a 404 as if it were the
deployment's answer. Discovery asks each configured path once, looks for an HTML page, a JSON
route and pages that set cookies (the login and admin pages of common frameworks), and whether
HTTPS is offered. Requests go through a given client; everything else here is pure.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from harness.probes import tls
from harness.probes.payloads import NO_ROUTE_STATUSES
from harness.probes.response_kinds import is_loopback

# statuses that say "no such resource here", whatever the framework
ABSENT = NO_ROUTE_STATUSES
# a login route is often POST only: its GET answering 405 shows the route exists
ABSENT_FOR_POST_ONLY = frozenset({404, 501})
PATH_PARAMS = ("health_path", "api_probe_path", "login_path", "register_path", "upload_path")
# routes that only take POST: a GET answering 405 says they are there
POST_ONLY_PARAMS = frozenset({"login_path", "register_path", "upload_path"})
# login and admin pages of common frameworks (Django, Flask-Login, Rails, Spring, ...): the
# pages that set session and CSRF cookies although no API path does
COOKIE_PAGES = ("/", "/login", "/admin/login/", "/accounts/login/", "/admin/", "/users/sign_in")
JSON_CANDIDATES = ("/openapi.json", "/api")


@dataclass(frozen=True)
class Answer:
    """One discovery request: the path, its status, media type and the cookies it set."""

    path: str
    status: int
    media_type: str = ""
    cookies: tuple[str, ...] = ()
    location: str = ""

    def exists(self, absent: frozenset[int] = ABSENT) -> bool:
        return self.status not in absent and self.moved_to is None

    @property
    def moved_to(self) -> str | None:
        """The other path a redirect sends this one to (Django's ``/health`` -> ``/health/``);
        None for anything else, a redirect to the same path on HTTPS included."""
        return moved_to(self.path, self.status, self.location)

    def is_page(self, media_type: str) -> bool:
        return self.status == 200 and self.media_type == media_type

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"path": self.path, "status": self.status}
        if self.moved_to is not None:
            data["moved_to"] = self.moved_to
        if self.media_type:
            data["media_type"] = self.media_type
        if self.cookies:
            data["cookies"] = [cookie.split("=", 1)[0] for cookie in self.cookies]
        return data


@dataclass
class Discovery:
    """What the target offers; ``https`` is None where the harness cannot see it."""

    base_url: str
    paths: dict[str, Answer] = field(default_factory=dict)  # parameter -> its answer
    html_page: Answer | None = None
    json_route: Answer | None = None
    cookie_pages: list[Answer] = field(default_factory=list)
    https: bool | None = None
    https_note: str = ""
    plain_redirect: bool | None = None

    def exists(self, param: str) -> bool:
        """Whether the path named by ``param`` answered; an unprobed parameter counts as there."""
        answer = self.paths.get(param)
        if answer is None:
            return True
        absent = ABSENT_FOR_POST_ONLY if param in POST_ONLY_PARAMS else ABSENT
        return answer.exists(absent)

    def missing(self, param: str) -> str | None:
        """One line for a check's skip when ``param``'s path does not exist, else None."""
        if self.exists(param):
            return None
        answer = self.paths[param]
        if answer.moved_to is not None:
            return (
                f"{answer.path} answered {answer.status}, a redirect to {answer.moved_to}: "
                f"the route lives there; set --param {param}={answer.moved_to}"
            )
        return (
            f"{answer.path} answered {answer.status}: the target has no such route; "
            f"set --param {param}=/your/route"
        )

    @property
    def serves_plain_http_only(self) -> bool:
        return urlsplit(self.base_url).scheme == "http" and self.https is False

    def to_json(self) -> dict[str, Any]:
        def one(answer: Answer | None) -> dict[str, Any] | None:
            return answer.to_json() if answer is not None else None

        return {
            "base_url": self.base_url,
            "paths": {
                param: answer.to_json() | {"exists": self.exists(param)}
                for param, answer in self.paths.items()
            },
            "html_page": one(self.html_page),
            "json_route": one(self.json_route),
            "cookie_pages": [answer.to_json() for answer in self.cookie_pages],
            "https": self.https,
            "https_note": self.https_note,
            "plain_http_redirects": self.plain_redirect,
        }


def lines(found: Mapping[str, Any]) -> list[str]:
    """The discovery block of the gate's output, one line per finding, from ``to_json()``."""
    out = []
    for param, answer in found.get("paths", {}).items():
        state = "found" if answer.get("exists") else "MISSING"
        if answer.get("moved_to"):
            state = f"redirects to {answer['moved_to']}"
        out.append(f"{param} {answer['path']}: {answer['status']} ({state})")
    for key, label in (("html_page", "HTML page"), ("json_route", "JSON route")):
        answer = found.get(key)
        out.append(f"{label}: {answer['path'] if answer else 'none found'}")
    cookies = [f"{a['path']} ({', '.join(a.get('cookies', []))})" for a in found["cookie_pages"]]
    out.append(f"pages setting cookies: {'; '.join(cookies) or 'none found'}")
    https = {True: "offered", False: "not offered", None: "cannot be seen from here"}
    note = f" ({found['https_note']})" if found.get("https_note") else ""
    out.append(f"HTTPS: {https[found.get('https')]}{note}")
    redirects = found.get("plain_http_redirects")
    if redirects is not None:
        out.append(f"the plain-HTTP target URL redirects to HTTPS: {'yes' if redirects else 'no'}")
    return out


def moved_to(path: str, status: int, location: str) -> str | None:
    """The path a redirect of ``path`` points to, when it is another path; a redirect to
    HTTPS of the same path says nothing about where the route lives."""
    if not 300 <= status < 400 or not location:
        return None
    target = urlsplit(location)
    new_path = target.path or "/"
    if new_path == urlsplit(path).path:
        return None
    return new_path + (f"?{target.query}" if target.query else "")


def answer_of(path: str, response: httpx.Response) -> Answer:
    media_type = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return Answer(
        path=path,
        status=response.status_code,
        media_type=media_type,
        cookies=tuple(response.headers.get_list("set-cookie")),
        location=response.headers.get("location", ""),
    )


Handshake = Callable[[str], tls.Handshake]


def discover(
    client: httpx.Client,
    paths: Mapping[str, str],
    *,
    handshake: Handshake | None = None,
    surfaces: tuple[str, ...] = (),
) -> Discovery:
    """Ask the target for each path of ``paths`` (parameter -> path), a page, a JSON route and
    the common cookie-setting pages: about a dozen GETs. ``surfaces`` are further base URLs of
    the same deployment the target knows of (its frontend): one on HTTPS is HTTPS offered."""
    base = str(client.base_url).rstrip("/")
    found = Discovery(base_url=base)
    seen: dict[str, Answer] = {}

    def get(path: str) -> Answer:
        if path not in seen:
            try:
                seen[path] = answer_of(path, client.get(path))
            except httpx.HTTPError:
                seen[path] = Answer(path, 0)
        return seen[path]

    for param, path in paths.items():
        found.paths[param] = get(path)
    root = get("/")
    found.html_page = root if root.is_page("text/html") else None
    json_paths = (paths.get("api_probe_path", ""), paths.get("health_path", ""), *JSON_CANDIDATES)
    found.json_route = next(
        (a for a in map(get, filter(None, json_paths)) if a.is_page("application/json")), None
    )
    pages = dict.fromkeys((*COOKIE_PAGES, paths.get("login_path", "/login")))
    found.cookie_pages = [a for a in map(get, pages) if a.cookies and a.exists()]
    found.plain_redirect = _redirects_to_https(root) if base.startswith("http://") else None
    secure = [url for url in surfaces if url.startswith("https://")]
    if secure:
        found.https, found.https_note = True, f"TLS at {secure[0]}"
    else:
        found.https, found.https_note = https_offer(base, handshake or _quick_handshake)
    return found


def _quick_handshake(url: str) -> tls.Handshake:
    return tls.handshake(url, timeout=2.0)


def _redirects_to_https(answer: Answer) -> bool:
    return answer.status in (301, 302, 307, 308) and answer.location.startswith("https://")


def https_offer(base_url: str, handshake: Handshake) -> tuple[bool | None, str]:
    """Whether the target's host offers TLS: on the target's own port or on 443.

    A host that is not on loopback may sit behind a TLS-terminating proxy elsewhere: when its
    port 443 neither answers nor refuses, that is unknown, not absent."""
    parts = urlsplit(base_url)
    if parts.scheme == "https":
        return True, ""
    host = parts.hostname or ""
    candidates = [urlunsplit(("https", parts.netloc, "", "", "")), f"https://{host}"]
    unknown = False
    for url in dict.fromkeys(candidates):
        try:
            result = handshake(url)
        except OSError as exc:  # a timeout: tls.handshake only catches refusals
            unknown = unknown or not isinstance(exc, ConnectionRefusedError)
            continue
        if result.version is not None:
            return True, f"TLS at {url}"
    if unknown and not is_loopback(base_url):
        return None, f"no answer on https://{host}: a proxy in front cannot be seen"
    return False, f"no TLS on {parts.netloc} nor on {host}:443"
