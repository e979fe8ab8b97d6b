"""A built site served as plain files from a sub-path of a loopback web server, as GitHub
Pages serves a project site (``/<project>/``): every link and asset of every page must answer
there. Links to other hosts are not followed (no network), but a link to a local address
(``http://localhost:8000/...``) is broken for every reader and is reported."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

import httpx

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "0.0.0.0", "::1", "[::1]"})  # noqa: S104
_SKIPPED_SCHEMES = ("mailto:", "tel:", "javascript:", "data:", "#")
# tag -> the attributes that load or link something
_LINKING = {
    "a": "href",
    "link": "href",
    "script": "src",
    "img": "src",
    "source": "src",
    "iframe": "src",
    "video": "src",
    "audio": "src",
}


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = _LINKING.get(tag)
        for name, value in attrs:
            if name == wanted and value and not value.strip().startswith(_SKIPPED_SCHEMES):
                self.links.append(value.strip())


def links_of(html: str) -> list[str]:
    """The URLs a page links to or loads (anchors, styles, scripts, images, frames)."""
    parser = _Links()
    parser.feed(html)
    return parser.links


class _SubPathHandler(SimpleHTTPRequestHandler):
    prefix = "/"

    def translate_path(self, path: str) -> str:
        if not path.startswith(self.prefix):
            return str(Path(self.directory) / "\0missing")  # nothing is served outside it
        return super().translate_path("/" + path[len(self.prefix) :])

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the check reports what it found."""


@contextmanager
def served(site: Path, prefix: str) -> Iterator[str]:
    """Serve ``site`` at ``http://127.0.0.1:PORT{prefix}``; yields that URL."""
    handler = type("Handler", (_SubPathHandler,), {"prefix": prefix})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(site)))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{prefix}"
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Crawl:
    """How many pages and distinct URLs were checked, and each broken one with its page."""

    pages: int = 0
    urls: int = 0
    broken: list[str] = field(default_factory=list)


def crawl(site: Path, prefix: str, skip: frozenset[str] = frozenset()) -> Crawl:
    """Serve ``site`` under ``prefix`` and ask every URL its pages link to (``skip``: pages,
    relative to the site, not read)."""
    result = Crawl()
    with served(site, prefix) as base, httpx.Client(trust_env=False, timeout=10) as client:
        origin = base[: -len(prefix)]
        wanted: dict[str, str] = {}  # URL -> the first page that links to it
        for page in sorted(site.rglob("*.html")):
            relative = page.relative_to(site).as_posix()
            if relative in skip:
                continue
            result.pages += 1
            address = base + relative.removesuffix("index.html")
            for link in links_of(page.read_text(encoding="utf-8", errors="replace")):
                url = urldefrag(urljoin(address, link)).url
                parts = urlsplit(url)
                if parts.hostname in LOCAL_HOSTS and not url.startswith(origin):
                    result.broken.append(f"{relative}: {link} points at a local address")
                elif not url.startswith(origin):
                    continue  # another host: not fetched
                elif not url.startswith(base):
                    result.broken.append(f"{relative}: {link} leaves the sub-path {prefix}")
                else:
                    wanted.setdefault(url, relative)
        result.urls = len(wanted)
        for url, relative in wanted.items():
            status = client.get(url, follow_redirects=True).status_code
            if status != 200:
                result.broken.append(f"{relative}: {url[len(origin) :]} answered {status}")
    return result
