"""One service of a stack as a labelled testcontainers container: start it, wait for it,
and the files it mounts (TLS material, Prometheus config)."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import TargetStartError
from harness.stacks.docker_env import testcontainers_env

if TYPE_CHECKING:
    import docker
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.network import Network

HOST_IP = "127.0.0.1"
START_TIMEOUT_S = 90
POLL_S = 0.1
Mount = tuple[str, str, str]  # host path or volume name, container path, mode


@contextmanager
def applied_testcontainers_env() -> Iterator[None]:
    """Apply `testcontainers_env()` to the environment and to testcontainers' config object
    (which reads most settings at import), and restore both afterwards."""
    settings = testcontainers_env()
    saved_env = {key: os.environ.get(key) for key in (*settings, "DOCKER_HOST")}
    os.environ.update(settings)
    try:
        from testcontainers.core.config import ConnectionMode
        from testcontainers.core.config import testcontainers_config as config

        saved = (config.tc_host_override, config.connection_mode_override, config._ryuk_disabled)
        config.tc_host_override = settings["TC_HOST"]
        config.connection_mode_override = ConnectionMode(settings["TESTCONTAINERS_CONNECTION_MODE"])
        config.ryuk_disabled = settings["TESTCONTAINERS_RYUK_DISABLED"] == "true"
        try:
            yield
        finally:
            config.tc_host_override, config.connection_mode_override = saved[:2]
            config._ryuk_disabled = saved[2]
    finally:
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@dataclass
class Service:
    """A started container and the host ports its container ports are published on."""

    name: str
    container: DockerContainer
    ports: dict[int, int] = field(default_factory=dict)

    def url(self, port: int, scheme: str = "http") -> str:
        return f"{scheme}://{HOST_IP}:{self.ports[port]}"

    def remove(self) -> None:
        with suppress(Exception):
            self.container.get_wrapped_container().remove(force=True, v=True)
        with suppress(Exception):
            self.container.get_docker_client().client.close()


def _free_port() -> int:
    from harness.stacks.processes import free_port

    return free_port(HOST_IP)


def ensure_image(client: docker.DockerClient, image: str) -> None:
    """Pull ``image`` unless the engine has it; one line when neither works."""
    import docker.errors

    try:
        client.images.get(image)
    except docker.errors.ImageNotFound:
        try:
            client.images.pull(image)
        except docker.errors.APIError:
            raise TargetStartError(
                f"image {image} is not present and cannot be pulled; run `make images` "
                "(or set HARNESS_IMAGE_<ROLE> to an image you have)"
            ) from None


def labelled_volumes(
    client: docker.DockerClient, image: str, prefix: str, labels: Mapping[str, str]
) -> list[Mount]:
    """A labelled named volume for every VOLUME the image declares (anonymous ones would
    carry no label and outlive an interrupted run)."""
    declared = client.images.get(image).attrs.get("Config", {}).get("Volumes") or {}
    mounts = []
    for index, path in enumerate(sorted(declared)):
        volume = client.volumes.create(name=f"{prefix}-{index}", labels=dict(labels))
        mounts.append((str(volume.name), path, "rw"))
    return mounts


def launch(
    name: str,
    image: str,
    *,
    container_name: str,
    network: Network,
    labels: Mapping[str, str],
    aliases: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    publish: Sequence[int] = (),
    mounts: Sequence[Mount] = (),
    command: list[str] | None = None,
    attempts: int = 3,
) -> Service:
    """Create and start one container (without waiting for it); publish ``publish`` on free
    127.0.0.1 ports, choosing others when one was taken meanwhile."""
    import docker.errors
    from testcontainers.core.container import DockerContainer

    for attempt in range(attempts):
        container = DockerContainer(image, env=dict(env or {}), network=network)
        suffix = f"-{attempt}" if attempt else ""
        container.with_network_aliases(*aliases).with_name(container_name + suffix)
        container.with_kwargs(labels=dict(labels))
        if command is not None:
            container.with_command(command)
        for source, path, mode in mounts:
            container.with_volume_mapping(source, path, mode)
        service = Service(name, container, {port: _free_port() for port in publish})
        for port, host_port in service.ports.items():
            # an explicit host address: never rely on the engine's default binding
            container.ports[f"{port}/tcp"] = (HOST_IP, host_port)  # type: ignore[assignment]
        try:
            container.start()
        except docker.errors.APIError as exc:
            service.remove()
            taken = "already allocated" in str(exc) or "address already in use" in str(exc)
            if not taken or attempt == attempts - 1:
                raise TargetStartError(f"{name} did not start: {one_line(exc)}") from None
            continue
        except BaseException:
            service.remove()
            raise
        return service
    raise AssertionError("unreachable")  # pragma: no cover


def _wait(service: Service, strategy: Any) -> None:
    strategy.with_startup_timeout(START_TIMEOUT_S).with_poll_interval(POLL_S)
    try:
        strategy.wait_until_ready(service.container)
    except (TimeoutError, RuntimeError) as exc:
        raise TargetStartError(
            f"{service.name} was not ready: {one_line(exc)}; its log:\n" + tail(service.container)
        ) from None


def wait_database(service: Service) -> None:
    from testcontainers.core.wait_strategies import (
        CompositeWaitStrategy,
        ExecWaitStrategy,
        LogMessageWaitStrategy,
    )

    # the first "ready" comes from the init server on the Unix socket; pg_isready over TCP
    # answers only once the real server listens
    _wait(
        service,
        CompositeWaitStrategy(
            LogMessageWaitStrategy("database system is ready to accept connections"),
            ExecWaitStrategy(["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"]),
        ),
    )


def wait_redis(service: Service) -> None:
    from testcontainers.core.wait_strategies import LogMessageWaitStrategy

    _wait(service, LogMessageWaitStrategy("Ready to accept connections"))


def wait_http(service: Service, port: int, path: str = "/health", status: int = 200) -> None:
    from testcontainers.core.wait_strategies import HttpWaitStrategy

    _wait(service, HttpWaitStrategy(port, path).for_status_code(status))


def run_to_completion(service: Service) -> None:
    """Wait for a one-off container (migrations) to exit 0, then remove it."""
    wrapped = service.container.get_wrapped_container()
    code = int(wrapped.wait(timeout=START_TIMEOUT_S)["StatusCode"])
    if code != 0:
        raise TargetStartError(
            f"{service.name} failed (exit code {code}); its log:\n{tail(service.container)}"
        )
    service.remove()


def tls_material(workdir: Path) -> tuple[Path, Path]:
    """A throwaway CA and a certificate for localhost and 127.0.0.1: ``(tls dir with tls.crt
    and tls.key, CA PEM)``; the files are world-readable for the frontend's non-root user."""
    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("localhost", "127.0.0.1")
    tls = workdir / "tls"
    tls.mkdir(mode=0o755, exist_ok=True)
    (tls / "tls.crt").write_bytes(b"".join(blob.bytes() for blob in cert.cert_chain_pems))
    cert.private_key_pem.write_to_path(str(tls / "tls.key"))
    for path in (tls / "tls.crt", tls / "tls.key"):
        path.chmod(0o644)
    ca_file = workdir / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return tls, ca_file


def prometheus_config() -> list[Mount]:
    """The reference repository's Prometheus configuration and its alerting rules, mounted
    where its ``rule_files`` (relative to the configuration) find them: the stack runs
    exactly what the repository ships."""
    from harness.stacks.reference import app_paths

    monitoring = app_paths().project / "monitoring"
    config, alerts = monitoring / "prometheus.yml", monitoring / "alerts"
    if not config.is_file() or not alerts.is_dir():
        raise TargetStartError(
            f"the reference repository has no {config} with alerts/ beside it: "
            "reinstall the harness"
        )
    return [
        (str(config), "/etc/prometheus/prometheus.yml", "ro"),
        (str(alerts), "/etc/prometheus/alerts", "ro"),
    ]


def one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]


def tail(container: DockerContainer, lines: int = 25) -> str:
    try:
        raw = container.get_wrapped_container().logs(stdout=True, stderr=True, tail=lines)
    except Exception:
        return "(no log)"
    return bytes(raw).decode("utf-8", errors="replace").rstrip() or "(empty log)"
