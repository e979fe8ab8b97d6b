"""Start the foreign deployments on loopback, each in its own folder, and stop them after."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

from harness.stacks.processes import ManagedProcess, free_port
from tests.conftest import REPO, clean_env

# the site Debian's nginx package enables (/etc/nginx/sites-available/default), on a free
# port, with the paths a process that is not the system's service can write
NGINX_CONF = """\
worker_processes 1;
pid {run}/nginx.pid;
error_log {run}/error.log;
events {{ worker_connections 128; }}
http {{
    sendfile on;
    tcp_nopush on;
    types_hash_max_size 2048;
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    client_body_temp_path {run}/body;
    proxy_temp_path {run}/proxy;
    fastcgi_temp_path {run}/fastcgi;
    uwsgi_temp_path {run}/uwsgi;
    scgi_temp_path {run}/scgi;
    gzip on;
    server {{
        listen 127.0.0.1:{port} default_server;
        root {root};
        index index.html index.htm index.nginx-debian.html;
        server_name _;
        location / {{
            try_files $uri $uri/ =404;
        }}
    }}
}}
"""
# where the package puts its default page (postinst copies it to /var/www/html)
NGINX_ROOTS = (Path("/var/www/html"), Path("/usr/share/nginx/html"))


def _answers(url: str) -> bool:
    try:
        return httpx.get(url + "/", timeout=1).status_code < 500
    except httpx.HTTPError:
        return False


@contextmanager
def serve(
    name: str, argv: list[str], workdir: Path, port: int, env: Mapping[str, str] = {}
) -> Iterator[str]:
    url = f"http://127.0.0.1:{port}"
    server = ManagedProcess(name, argv, clean_env() | dict(env), workdir / f"{name}.log", REPO)
    server.start()
    try:
        server.wait_ready(lambda: _answers(url), 60)
        yield url
    finally:
        server.stop()


def _gunicorn(app: str, port: int) -> list[str]:
    return [
        sys.executable, "-m", "gunicorn", app, "--bind", f"127.0.0.1:{port}",
        "--workers", "1", "--threads", "4", "--access-logfile", "-", "--log-level", "warning",
    ]  # fmt: skip


@contextmanager
def django_site(workdir: Path) -> Iterator[str]:
    port = free_port()
    argv = _gunicorn("tests.foreign.django_site.wsgi:application", port)
    env = {"DJANGO_SETTINGS_MODULE": "tests.foreign.django_site.settings"}
    with serve("django", argv, workdir, port, env | {"FOREIGN_DB_DIR": str(workdir)}) as url:
        yield url


@contextmanager
def flask_app(
    workdir: Path, limit: str = "100 per minute", login_limit: str = "5 per minute"
) -> Iterator[str]:
    port = free_port()
    argv = _gunicorn("tests.foreign.flask_app:app", port)
    env = {"FOREIGN_LIMIT": limit, "FOREIGN_LOGIN_LIMIT": login_limit}
    with serve("flask", argv, workdir, port, env) as url:
        yield url


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (str(p) for p in (Path("/usr/sbin/nginx"),) if p.is_file()), None
    )


@contextmanager
def stock_nginx(workdir: Path) -> Iterator[str]:
    binary = nginx_binary()
    root = next((r for r in NGINX_ROOTS if any(r.glob("index*.html"))), None)
    if binary is None or root is None:
        raise RuntimeError("nginx is not installed: apt-get install nginx")
    run = workdir / "nginx"
    run.mkdir()
    port = free_port()
    conf = run / "nginx.conf"
    conf.write_text(NGINX_CONF.format(run=run, port=port, root=root), encoding="utf-8")
    argv = [binary, "-c", str(conf), "-p", str(run), "-g", "daemon off;"]
    with serve("nginx", argv, workdir, port) as url:
        yield url
