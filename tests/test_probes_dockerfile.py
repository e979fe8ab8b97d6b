"""Dockerfiles by stage (multi-stage builds, the production server) and the frontend's nginx
configuration (crossplane: the app served, the API proxied)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.probes.dockerfile import (
    check_backend_multistage,
    check_frontend_multistage,
    check_production_server,
    instructions,
    stages,
)
from harness.probes.nginxconf import (
    NginxConfigError,
    check_frontend_proxy,
    copied_configs,
    parse_config,
    select_location,
)

BACKEND = """\
# comment
ARG PY=python:3.12-slim
FROM ${PY} AS builder
RUN pip wheel -w /wheels \\
    -r requirements.txt
FROM ${PY}
COPY --from=builder /wheels /wheels
CMD ["gunicorn", "-k", "uvicorn.workers.UvicornWorker", "app.main:app"]
"""


def test_instructions_join_continuations_and_drop_comments() -> None:
    found = instructions(BACKEND)
    assert found[2] == ("RUN", "pip wheel -w /wheels  -r requirements.txt")
    assert [s.base.stage for s in stages(BACKEND)] == ["builder", None]
    assert stages(BACKEND)[1].copied_from() == ["builder"]


@pytest.mark.parametrize(
    ("dockerfile", "problem"),
    [
        (BACKEND, None),
        ("FROM python:3.12-slim\nCMD x", "a single stage"),
        ("FROM python:3.12-slim AS b\nRUN make\nFROM b\nCOPY --from=b /a /a", "FROM the stage b"),
        ("FROM python:3.12-slim AS b\nFROM python:3.12-slim\nCOPY . .", "copies nothing"),
        ("FROM python:3.12 AS b\nFROM python:3.12\nCOPY --from=b /a /a", "ships compilers"),
        (
            "FROM python:3.12-slim AS b\nFROM python:3.12-slim\nCOPY --from=0 /a /a\n"
            "RUN apt-get update && apt-get install -y --no-install-recommends gcc libpq-dev",
            "installs build tools: gcc, libpq-dev",
        ),
    ],
)
def test_backend_multistage(dockerfile: str, problem: str | None) -> None:
    found = check_backend_multistage(dockerfile)
    if problem is None:
        assert found.ok, found.problems
    else:
        assert problem in found.summary()


@pytest.mark.parametrize(
    ("command", "problem"),
    [
        ('CMD ["uvicorn", "app:app", "--workers", "4"]', None),
        ("CMD gunicorn app:app", None),
        ('ENTRYPOINT ["/opt/venv/bin/hypercorn"]\nCMD ["app:app"]', None),
        ('CMD ["uvicorn", "app:app", "--reload"]', "runs with --reload"),
        ('CMD ["flask", "run"]', "names no production server"),
        ("CMD python manage.py runserver", "development server"),
        ('ENV DEBUG=1\nCMD ["gunicorn", "app:app"]', "sets DEBUG=1"),
        ("ENV DEBUG 0\nCMD gunicorn app:app", None),
        ("RUN true", "no CMD or ENTRYPOINT"),
    ],
)
def test_production_server(command: str, problem: str | None) -> None:
    found = check_production_server(f"FROM python:3.12-slim\n{command}\n")
    if problem is None:
        assert found.ok, found.problems
    else:
        assert problem in found.summary()


def test_the_command_is_inherited_from_the_stage_built_on() -> None:
    text = 'FROM python:3.12-slim AS base\nCMD ["uvicorn", "a:b", "--reload"]\nFROM base\n'
    assert "--reload" in check_production_server(text).summary()


@pytest.mark.parametrize(
    ("final", "problem"),
    [
        ("FROM nginx:1.27-alpine\nCOPY --from=build /dist /usr/share/nginx/html", None),
        ("FROM node:20-alpine\nCOPY --from=build /dist /srv", "not an nginx image"),
        ("FROM nginx:1.27-alpine\nCOPY dist /usr/share/nginx/html", "copies nothing"),
        (
            "FROM nginx:1.27-alpine\nRUN apk add --no-cache nodejs npm\nCOPY --from=build /d /d",
            "carries Node.js (installs nodejs, npm)",
        ),
    ],
)
def test_frontend_multistage(final: str, problem: str | None) -> None:
    found = check_frontend_multistage(f"FROM node:20-alpine AS build\nRUN npm ci\n{final}\n")
    if problem is None:
        assert found.ok, found.problems
    else:
        assert problem in found.summary()


SERVER = """\
upstream api { server backend:8000; }
server {
    listen 8080;
    root /usr/share/nginx/html;
    location / { try_files $uri /index.html; }
    location ~ ^/api/ { proxy_pass http://api; }
    location /api/v1/ { return 404; }
    location ^~ /static/ { expires 1y; }
    location = /health { return 200; }
}
"""


def _parse(tmp_path: Path, text: str) -> list[dict[str, object]]:
    path = tmp_path / "default.conf"
    path.write_text(text)
    return parse_config(path)


def test_locations_are_chosen_as_nginx_chooses(tmp_path: Path) -> None:
    server = next(d for d in _parse(tmp_path, SERVER) if d["directive"] == "server")
    chosen = {uri: str(select_location(server, uri)) for uri in ("/api/v1/x", "/static/a", "/")}
    assert chosen == {
        "/api/v1/x": "location ~ ^/api/",  # a regex beats a plain prefix
        "/static/a": "location ^~ /static/",
        "/": "location /",
    }
    assert str(select_location(server, "/health")) == "location = /health"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (SERVER, None),
        (SERVER.replace("proxy_pass http://api;", "return 404;"), "does not proxy /api/v1/x"),
        (SERVER.replace("server backend:8000", "server other:8000"), "not to backend"),
        (SERVER.replace("try_files $uri /index.html;", "proxy_pass http://api;"), "no files"),
    ],
)
def test_frontend_proxy(tmp_path: Path, text: str, problem: str | None) -> None:
    found = check_frontend_proxy(_parse(tmp_path, text), api_path="/api/v1/x", backend="backend")
    if problem is None:
        assert found.ok, found.problems
    else:
        assert problem in found.summary()


def test_an_unparsable_configuration_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(NginxConfigError, match=r"^line 1: unexpected end of file") as info:
        _parse(tmp_path, "server { listen 80;")
    assert "\n" not in str(info.value)


def test_the_configuration_is_found_through_the_dockerfile(tmp_path: Path) -> None:
    (tmp_path / "nginx.conf").write_text("server {}\n")
    (tmp_path / "conf.d").mkdir()
    (tmp_path / "conf.d" / "api.conf").write_text("server {}\n")
    dockerfile = (
        "FROM node:20 AS build\nCOPY nginx.conf /tmp/elsewhere\n"
        "FROM nginx\nCOPY --chown=nginx nginx.conf /etc/nginx/nginx.conf\n"
        "COPY conf.d/ /etc/nginx/conf.d/\n"
    )
    found = copied_configs(dockerfile, tmp_path)
    assert found == [(tmp_path / "nginx.conf").resolve(), (tmp_path / "conf.d/api.conf").resolve()]


def test_a_root_set_for_every_server_in_the_http_block_serves_the_app(tmp_path: Path) -> None:
    text = (
        "events {}\nhttp {\n  root /srv/app;\n  server {\n    listen 8080;\n"
        "    location /api/ { proxy_pass http://backend:8000; }\n  }\n}\n"
    )
    found = check_frontend_proxy(_parse(tmp_path, text), api_path="/api/x", backend="backend")
    assert found.ok, found.problems
