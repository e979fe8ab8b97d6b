"""CPU microseconds each security layer adds to one request, in process, layer by layer.

The layers are taken from the reference app exactly as ``setup_security_middleware``
installs them (``app.user_middleware``) and wrapped around an app that answers at once;
each endpoint's request (the scope wrk sends) is timed through the bare app, through every
layer alone and through the whole stack. CPU time of this process (``time.process_time``),
so other load on the machine hardly moves the figures; the server-level ratio is
``benchmarks/security_middleware.py``.

    .venv/bin/python benchmarks/security_layers.py [--requests 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script, benchmarks/ is on the path but not the repo
    sys.path.insert(0, str(REPO))

from benchmarks.security_middleware import ENDPOINTS, GENERATOR_ADDRESS  # noqa: E402

_BODY = b'{"status":"ok"}'


async def answer(scope: Scope, receive: Receive, send: Send) -> None:
    """The app behind the layers: a fixed JSON answer, so only the layers' work is timed."""
    headers = [(b"content-type", b"application/json"), (b"content-length", b"15")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": _BODY})


def layers() -> list[Middleware]:
    """The reference app's middleware, outermost first, configured as the benchmark runs it."""
    os.environ.setdefault("ENVIRONMENT", "production")
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(48))
    os.environ.setdefault("SECURITY_RATE_LIMIT_EXEMPT", GENERATOR_ADDRESS)
    from reference_app.app import create_app
    from reference_app.core.middleware.audit import LOGGER_NAME

    stack = list(create_app().user_middleware)
    # the production sink (the audit logger), its lines thrown away instead of printed
    for handler in logging.getLogger(LOGGER_NAME).handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(open(os.devnull, "w"))  # noqa: SIM115  (lives as long as the run)
    return stack


def wrap(stack: Sequence[Middleware], app: ASGIApp) -> ASGIApp:
    for cls, args, kwargs in reversed(stack):  # as Starlette builds it: the first is outermost
        app = cls(app, *args, **kwargs)
    return app


def request_scope(target: str) -> dict[str, Any]:
    path, _, query = target.partition("?")
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1:8000")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


async def cpu_us(app: ASGIApp, target: str, requests: int) -> float:
    """Median over three batches of the CPU microseconds one request takes."""

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        return None

    batches = []
    for _ in range(3):
        began = time.process_time()
        for _ in range(requests):
            await app(request_scope(target), receive, send)
        batches.append((time.process_time() - began) / requests * 1e6)
    return sorted(batches)[1]


def _name(entry: Middleware) -> str:
    return getattr(entry.cls, "__name__", str(entry.cls)).removesuffix("Middleware")


async def measure(requests: int) -> list[str]:
    stack = layers()
    names = [_name(entry) for entry in stack]
    widths = [max(len(name), 6) for name in names]
    heads = " ".join(f"{name:>{width}}" for name, width in zip(names, widths, strict=True))
    lines = [f"{'endpoint':<8} {'bare':>6} {heads} {'stack':>6}"]
    for endpoint, target in ENDPOINTS:
        bare = await cpu_us(answer, target, requests)
        alone = [await cpu_us(wrap([entry], answer), target, requests) - bare for entry in stack]
        whole = await cpu_us(wrap(stack, answer), target, requests) - bare
        cells = " ".join(f"{cost:{width}.1f}" for cost, width in zip(alone, widths, strict=True))
        lines.append(f"{endpoint:<8} {bare:6.1f} {cells} {whole:6.1f}")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=20000, help="requests per batch")
    args = parser.parse_args(argv)
    if args.requests <= 0:
        parser.error("--requests must be positive")
    print("CPU us added per request (in process; outermost layer first)")
    for line in asyncio.run(measure(args.requests)):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
