"""A second reference backend on a running stack, with other settings, for one check.

It is the stack's backend container once more (same image, network, database and Redis,
the same run labels, so sweeps find it) with some environment variables replaced, published
on a free 127.0.0.1 port, and removed when the block ends. Only the description of the stack
is needed, so xdist workers start variants too.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING

from harness.errors import TargetStartError
from harness.stacks.info import StackInfo
from harness.stacks.processes import free_port
from harness.stacks.services import HOST_IP

if TYPE_CHECKING:
    import docker

BACKEND_PORT = 8000
READY_TIMEOUT_S = 60.0


def _environment(attrs: Mapping[str, object]) -> dict[str, str]:
    config = attrs.get("Config")
    listed = config.get("Env") if isinstance(config, dict) else None
    return dict(item.partition("=")[::2] for item in listed or ())


@contextmanager
def backend_variant(
    client: docker.DockerClient,
    info: StackInfo,
    env: Mapping[str, str],
    ready: Callable[[str], bool],
) -> Iterator[str]:
    """The URL of a backend started like the stack's with ``env`` replacing its variables;
    ``ready(url)`` says when it serves."""
    backend = client.containers.get(info.containers["backend"])
    port = free_port(HOST_IP)
    name = f"harness-{info.run_id}-variant-{secrets.token_hex(3)}"
    container = client.containers.run(
        backend.attrs["Image"],
        detach=True,
        name=name,
        environment={**_environment(backend.attrs), **env},
        labels=dict(backend.labels),
        network=info.network,
        ports={f"{BACKEND_PORT}/tcp": (HOST_IP, port)},
    )
    try:
        url = f"http://{HOST_IP}:{port}"
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not ready(url):
            container.reload()
            if container.status == "exited" or time.monotonic() > deadline:
                log = bytes(container.logs(tail=15)).decode("utf-8", "replace")
                raise TargetStartError(f"the backend variant did not serve; its log:\n{log}")
            time.sleep(0.3)
        yield url
    finally:
        with suppress(Exception):
            container.remove(force=True, v=True)
