"""Targets with known behaviour, to calibrate the load generator against the truth.

``python -m harness.load.synthetic --port P MODE`` serves HTTP/1.1 (keep-alive) on loopback:

- ``fast``: answers at once;
- ``latency``: each answer waits a delay drawn from a fixed, seeded distribution; every
  delay actually served is written to ``--record FILE`` (one per line, ms) at exit;
- ``freeze``: answers at once, except during the first ``--freeze-s`` seconds of every
  ``--period-s``, when every request waits for the freeze to end (a stop-the-world pause).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# an empty page of the reference API: the load mix judges the shape of what it reads
BODY = b'{"items":[],"total":0}'
RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
    + str(len(BODY)).encode()
    + b"\r\n\r\n"
    + BODY
)


def latency_ms(rng: random.Random) -> float:
    """The known distribution: 70 % around 20 ms, 25 % around 80 ms, 5 % around 300 ms."""
    pick = rng.random()
    if pick < 0.70:
        return rng.uniform(10, 30)
    if pick < 0.95:
        return rng.uniform(60, 100)
    return rng.uniform(200, 400)


class Server:
    def __init__(self, mode: str, period_s: float, freeze_s: float, seed: int) -> None:
        self.mode = mode
        self.period_s = period_s
        self.freeze_s = freeze_s
        self.rng = random.Random(seed)
        self.started = time.monotonic()
        self.served_ms: list[float] = []

    def wait_s(self) -> float:
        if self.mode == "latency":
            return latency_ms(self.rng) / 1000
        if self.mode == "freeze":
            phase = (time.monotonic() - self.started) % self.period_s
            return self.freeze_s - phase if phase < self.freeze_s else 0.0
        return 0.0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                began = time.perf_counter()
                length = _content_length(head)
                if length:
                    await reader.readexactly(length)
                wait = self.wait_s()
                if wait > 0:
                    await asyncio.sleep(wait)
                writer.write(RESPONSE)
                await writer.drain()
                if self.mode == "latency":
                    self.served_ms.append((time.perf_counter() - began) * 1000)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip() or 0)
    return 0


async def serve(args: argparse.Namespace) -> None:
    server = Server(args.mode, args.period_s, args.freeze_s, args.seed)
    listener = await asyncio.start_server(server.handle, "127.0.0.1", args.port, backlog=1024)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with listener:
        await stop.wait()
    if args.record:
        Path(args.record).write_text("\n".join(f"{v:.3f}" for v in server.served_ms) + "\n")


@contextmanager
def synthetic_target(mode: str, workdir: Path, *options: str) -> Iterator[str]:
    """Start ``mode`` on a free loopback port in a child process; yields its URL."""
    from harness.stacks.processes import ManagedProcess, free_port

    port = free_port()
    argv = [sys.executable, "-m", "harness.load.synthetic", mode, "--port", str(port), *options]
    proc = ManagedProcess(
        f"synthetic {mode} target", argv, os.environ, workdir / "synthetic.log", workdir
    )
    proc.start()
    try:
        proc.wait_ready(lambda: _listening(port), 30)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.stop()


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m harness.load.synthetic")
    parser.add_argument("mode", choices=("fast", "latency", "freeze"))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--period-s", type=float, default=10.0)
    parser.add_argument("--freeze-s", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--record", help="latency mode: write the served delays (ms) here")
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
