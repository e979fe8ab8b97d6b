"""Stack control by container id through the Docker SDK: stop, start, exec, logs, inspect.

It needs nothing but the ids and the published URLs, so an xdist worker that only received
the controller's stack description controls the same containers as the controller.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import httpx

from harness.errors import TargetStartError

if TYPE_CHECKING:
    import docker
    from docker.models.containers import Container

SERVICES = ("database", "redis", "backend", "frontend", "prometheus")
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10


def _http_answers(url: str) -> Callable[[], bool]:
    # any answer: /health may rightly be 503 while another service is stopped
    def probe() -> bool:
        try:
            httpx.get(url, timeout=2.0, verify=False)  # noqa: S501
        except httpx.HTTPError:
            return False
        return True

    return probe


class StackControl:
    """Operations on the services of one running stack."""

    def __init__(
        self,
        client: docker.DockerClient,
        containers: Mapping[str, str],
        health_urls: Mapping[str, str],
    ) -> None:
        self.client = client
        self.containers = dict(containers)
        self.health_urls = dict(health_urls)

    def container(self, service: str) -> Container:
        try:
            container_id = self.containers[service]
        except KeyError:
            have = ", ".join(self.containers)
            raise KeyError(f"the stack has no {service!r} service (it has: {have})") from None
        return self.client.containers.get(container_id)

    def stop(self, service: str, timeout: int = STOP_TIMEOUT_S) -> None:
        self.container(service).stop(timeout=timeout)

    def start(self, service: str, *, wait: bool = True) -> None:
        container = self.container(service)
        container.reload()
        if container.status != "running":
            container.start()
        if wait:
            self.wait_ready(service)

    def restart(self, service: str, *, wait: bool = True) -> None:
        self.container(service).restart(timeout=STOP_TIMEOUT_S)
        if wait:
            self.wait_ready(service)

    def exec(self, service: str, cmd: str | Sequence[str], user: str = "") -> tuple[int, str]:
        """Run ``cmd`` in the service's container: ``(exit code, stdout and stderr)``."""
        command = cmd if isinstance(cmd, str) else list(cmd)
        result = self.container(service).exec_run(command, user=user, demux=False)
        output = result.output or b""
        return int(result.exit_code or 0), output.decode("utf-8", errors="replace")

    def logs(self, service: str, tail: int | None = None) -> str:
        raw = self.container(service).logs(
            stdout=True, stderr=True, tail="all" if tail is None else tail
        )
        return bytes(raw).decode("utf-8", errors="replace")

    def inspect_container(self, service: str) -> dict[str, Any]:
        container = self.container(service)
        container.reload()
        return dict(container.attrs)

    def incarnation(self, service: str) -> dict[str, Any]:
        """The container's id, start time and restart count: a restart changes one of them,
        whether Docker's restart policy or an orchestrator did it."""
        attrs = self.inspect_container(service)
        state = attrs.get("State") or {}
        return {
            "container": str(attrs.get("Id", ""))[:12],
            "started_at": state.get("StartedAt"),
            "restart_count": attrs.get("RestartCount"),
        }

    def inspect_image(self, service: str) -> dict[str, Any]:
        image_id = self.container(service).attrs["Image"]
        return dict(self.client.images.get(image_id).attrs)

    def image_history(self, service: str) -> list[dict[str, Any]]:
        """The build steps of the service's image (``docker history``), newest first."""
        image_id = self.container(service).attrs["Image"]
        return [dict(step) for step in self.client.images.get(image_id).history()]

    def ready_probe(self, service: str) -> Callable[[], bool]:
        if service in self.health_urls:
            return _http_answers(self.health_urls[service])
        if service == "database":
            command = ["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"]
            return lambda: self.exec(service, command)[0] == 0
        if service == "redis":
            return lambda: "PONG" in self.exec(service, ["redis-cli", "ping"])[1]
        return lambda: self.container(service).status == "running"

    def wait_ready(self, service: str, timeout: float = READY_TIMEOUT_S) -> None:
        """Wait until the service answers again; TargetStartError with its log tail if not."""
        import docker.errors

        probe = self.ready_probe(service)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if probe():
                    return
            except docker.errors.APIError:
                pass  # exec into a container that is still starting
            time.sleep(0.2)
        raise TargetStartError(
            f"{service} was not ready {timeout:g} s after its start; its log:\n"
            + self.logs(service, tail=25)
        )
