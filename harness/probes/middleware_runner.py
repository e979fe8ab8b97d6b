"""The program of the middleware child (harness.probes.middleware_observe): run as
``python -c`` with this file's text in the deployment's interpreter, never imported.

argv: module, config JSON, denied client, rate-limited client, allowed host, calls,
injection path. It builds a one-route app (FastAPI where the backend has it, else
Starlette), applies the module's ``setup_security_middleware(app, config=...)``, drives it
with Starlette's TestClient and prints what each layer did as JSON on its last line.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.testclient import TestClient

# the test client's own loggers name every URL it asks for: no audit record of the app's
_CLIENT_LOGGERS = frozenset({"httpx", "httpcore"})


class _Keep(logging.Handler):
    """Every log record's text and fields, to find the request's audit record in."""

    def __init__(self) -> None:
        super().__init__(level=1)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.split(".")[0] in _CLIENT_LOGGERS:
            return
        try:
            self.texts.append(f"{record.getMessage()} {json.dumps(vars(record), default=str)}")
        except Exception:  # a record whose message does not format is still a record
            self.texts.append(str(record.msg))


def _listen() -> _Keep:
    keep = _Keep()
    logging.getLogger().addHandler(keep)
    for logger in list(logging.Logger.manager.loggerDict.values()):
        if isinstance(logger, logging.Logger):  # loggers that do not propagate, too
            logger.addHandler(keep)
            if logger.level == logging.NOTSET or logger.level > logging.INFO:
                logger.setLevel(logging.INFO)
    return keep


@contextmanager
def _stderr_into(sink: IO[bytes]) -> Iterator[None]:
    """File descriptor 2 into ``sink``: what handlers bound to stderr write is seen too."""
    saved = os.dup(2)
    os.dup2(sink.fileno(), 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)


async def _probe(request: Request) -> Response:
    return PlainTextResponse("ok")


def _app() -> Starlette:
    try:
        from fastapi import FastAPI

        app: Starlette = FastAPI()
    except ImportError:
        app = Starlette()
    app.add_route("/probe", _probe, methods=["GET", "POST"])
    app.add_route("/probe/{rest:path}", _probe, methods=["GET", "POST"])
    return app


def observe(argv: list[str]) -> dict[str, Any]:
    module, config, denied, limited, host, calls, injection = argv
    app = _app()
    importlib.import_module(module).setup_security_middleware(app, config=json.loads(config))
    keep = _listen()

    def client(ip: str) -> TestClient:
        url = f"http://{host}"
        return TestClient(app, base_url=url, client=(ip, 40000), raise_server_exceptions=False)

    marker = f"audit-{uuid.uuid4().hex}"
    seen: dict[str, Any] = {}
    with tempfile.TemporaryFile() as err:
        with _stderr_into(err), client("192.0.2.10") as c:
            answer = c.get(f"/probe/{marker}", headers={"X-Request-ID": marker})
            headers = {k.lower(): v for k, v in answer.headers.items()}
            seen["plain"] = {"status": answer.status_code, "headers": headers}
            seen["foreign_host"] = c.get("/probe", headers={"Host": "evil.example"}).status_code
            seen["injection"] = c.get(injection).status_code
            with client(denied) as other:
                seen["denied_ip"] = other.get("/probe").status_code
            with client(limited) as other:
                seen["limited"] = [other.get("/probe").status_code for _ in range(int(calls) + 2)]
        err.seek(0)
        logged = err.read().decode(errors="replace") + "\n".join(keep.texts)
    seen["audit"] = marker in logged
    return seen


if __name__ == "__main__":
    sys.stdout.write(json.dumps(observe(sys.argv[1:])) + "\n")
