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
) -> str:
    """The frontend's nginx.conf for a run under ``prefix`` (which gets nginx's temp dirs)."""
    backend = urlsplit(backend_url)
    values = {
        # nginx drops root privileges for its workers; as another user it keeps its own
        "USER_DIRECTIVE": "user nobody nogroup;" if os.geteuid() == 0 else "",
        "PREFIX": str(prefix),
        "MIME_TYPES": str(MIME_TYPES),
        "LISTEN": f"{listen_host}:{listen_port}",
        "STATIC_ROOT": str(STATIC_ROOT),
        "BACKEND_URL": f"{backend.scheme}://{backend.netloc}",
    }
    for name in _TEMP_DIRS:
        (prefix / "tmp" / name).mkdir(parents=True, exist_ok=True)

    def substitute(match: re.Match[str]) -> str:
        return values[match.group(1)]

    config = _PLACEHOLDER.sub(substitute, TEMPLATE.read_text(encoding="utf-8"))
    if mutant:
        from reference_app.mutants import get_mutant  # mutants import this module

        transform = get_mutant(mutant).frontend
        if transform is not None:
            config = transform(config)
    return config
