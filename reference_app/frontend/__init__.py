"""The reference frontend: static files served by nginx, which also proxies the API."""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

FRONTEND_DIR = Path(__file__).resolve().parent
TEMPLATE = FRONTEND_DIR / "nginx.conf.template"
STATIC_ROOT = FRONTEND_DIR / "static"
MIME_TYPES = Path("/etc/nginx/mime.types")
_PLACEHOLDER = re.compile(r"\{\{([A-Z_]+)\}\}")
_TEMP_DIRS = ("body", "proxy", "fastcgi", "uwsgi", "scgi")


def cut_block(config: str, name: str) -> str:
    """Remove the lines between '# begin:NAME' and '# end:NAME' (both included)."""
    pattern = re.compile(rf"^[ \t]*# begin:{name}\n.*?^[ \t]*# end:{name}\n", re.S | re.M)
    result, count = pattern.subn("", config)
    if count == 0:
        raise ValueError(f"the nginx template has no block {name!r}")
    return result


def render_nginx_config(
    *,
    listen_port: int,
    backend_url: str,
    prefix: Path,
    mutant: str | None = None,
    listen_host: str = "127.0.0.1",
    tls_port: int | None = None,
    tls_dir: Path | None = None,
) -> str:
    """The frontend's nginx.conf for a run under ``prefix`` (which gets nginx's temp dirs).

    With ``tls_port`` and ``tls_dir`` (holding tls.crt and tls.key) nginx also serves HTTPS
    there and redirects plain HTTP to it (but /health), as the frontend image does;
    without them it serves plain HTTP only.
    """
    values = {
        # nginx drops root privileges for its workers; as another user it keeps its own
        "USER_DIRECTIVE": "user nobody nogroup;" if os.geteuid() == 0 else "",
        "PREFIX": str(prefix),
        "ERROR_LOG": str(prefix / "error.log"),
        "ACCESS_LOG": str(prefix / "access.log"),
        "MIME_TYPES": str(MIME_TYPES),
        "LISTEN": f"{listen_host}:{listen_port}",
        "STATIC_ROOT": str(STATIC_ROOT),
        "BACKEND_URL": _origin(backend_url),
    }
    for name in _TEMP_DIRS:
        (prefix / "tmp" / name).mkdir(parents=True, exist_ok=True)
    if tls_port is None or tls_dir is None:
        return _render(values, cut=("tls", "resolver"), mutant=mutant)
    values.update(
        TLS_LISTEN=f"{listen_host}:{tls_port}",
        TLS_CERT=str(tls_dir / "tls.crt"),
        TLS_KEY=str(tls_dir / "tls.key"),
        HTTPS_PORT_SUFFIX=f":{tls_port}" if tls_port != 443 else "",
    )
    return _render(values, cut=("resolver",), mutant=mutant)


# Where the frontend image (reference_app/deploy/frontend.Dockerfile) keeps things.
IMAGE_PREFIX = "/var/cache/frontend"
IMAGE_STATIC_ROOT = "/usr/share/nginx/frontend"
IMAGE_TLS_DIR = "/etc/nginx/tls"
IMAGE_HTTP_PORT = 8080
IMAGE_HTTPS_PORT = 8443
IMAGE_BACKEND_URL = "http://backend:8000"
DOCKER_DNS = "127.0.0.11"


def render_image_config(
    *,
    backend_url: str = IMAGE_BACKEND_URL,
    https_port: int | None = IMAGE_HTTPS_PORT,
    mutant: str | None = None,
) -> str:
    """The nginx.conf of the frontend image: HTTP on 8080 redirecting to HTTPS on 8443 (but
    /health), TLS from /etc/nginx/tls/tls.crt and tls.key mounted at run time, logs on the
    container's stdout and stderr, no root needed.

    ``https_port`` is the port named in the redirect (None: the default port 443).
    """
    values = {
        "USER_DIRECTIVE": "",  # the image runs as uid 101 from the start
        "PREFIX": IMAGE_PREFIX,
        "ERROR_LOG": "stderr",
        "ACCESS_LOG": "/dev/stdout",
        "MIME_TYPES": str(MIME_TYPES),
        "RESOLVER": DOCKER_DNS,
        "LISTEN": str(IMAGE_HTTP_PORT),
        "TLS_LISTEN": str(IMAGE_HTTPS_PORT),
        "TLS_CERT": f"{IMAGE_TLS_DIR}/tls.crt",
        "TLS_KEY": f"{IMAGE_TLS_DIR}/tls.key",
        "HTTPS_PORT_SUFFIX": f":{https_port}" if https_port not in (None, 443) else "",
        "STATIC_ROOT": IMAGE_STATIC_ROOT,
        "BACKEND_URL": _origin(backend_url),
    }
    return _render(values, cut=(), mutant=mutant)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _render(values: dict[str, str], *, cut: tuple[str, ...], mutant: str | None) -> str:
    config = TEMPLATE.read_text(encoding="utf-8")
    for name in cut:
        config = cut_block(config, name)

    def substitute(match: re.Match[str]) -> str:
        return values[match.group(1)]

    config = _PLACEHOLDER.sub(substitute, config)
    if mutant:
        from reference_app.mutants import get_mutant  # mutants import this module

        transform = get_mutant(mutant).frontend
        if transform is not None:
            config = transform(config)
    return config
