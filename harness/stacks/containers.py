"""The reference deployment in throwaway containers: PostgreSQL, Redis, the backend (or the
user's image), the nginx frontend and, when asked, Prometheus, on a private network.

Everything the stack makes carries the harness label and its run id, ports are published on
127.0.0.1 only, and ``close`` (always reached through ``finally``) removes all of it.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
import time
from collections.abc import Mapping, Sequence
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING

from harness.errors import TargetStartError
from harness.stacks.clients import (
    DENIED,
    RELAY_COMMAND,
    RELAY_PORT,
    UNTRUSTED,
    Trust,
    trust_of,
)
from harness.stacks.control import StackControl
from harness.stacks.database_tls import database_command, database_tls_mount, with_ssl_required
from harness.stacks.docker_env import LABEL, LABEL_KIND, LABEL_RUN, docker_client
from harness.stacks.info import StackInfo
from harness.stacks.lock import lock_path
from harness.stacks.services import (
    Mount,
    Service,
    applied_testcontainers_env,
    ensure_image,
    labelled_volumes,
    launch,
    one_line,
    prometheus_config,
    run_to_completion,
    tls_material,
    wait_database,
    wait_http,
    wait_redis,
)
from harness.stacks.sweep import new_run_id, sweep_runs

if TYPE_CHECKING:
    import docker
    from testcontainers.core.network import Network

from harness.stacks.identity import identity_env
from harness.stacks.mutants import MUTANT_ENV_VAR, mutant_images
from harness.stacks.ratelimit import rate_limit_env

KIND_STACK = "stack"
DB_USER, DB_NAME = "app", "formulas"
BACKEND_PORT, FRONTEND_HTTP_PORT, FRONTEND_TLS_PORT, PROMETHEUS_PORT = 8000, 8080, 8443, 9090
REPLICA = "backend-replica"  # a second backend on the same Redis and database


class ContainerStack:
    """Start with ``start()`` (or ``with``); ``close()`` removes everything of the run."""

    def __init__(
        self,
        *,
        profile: str = "production",
        image: str | None = None,
        with_prometheus: bool = False,
        mutant: str | None = None,
        run_id: str | None = None,
        workdir: Path | None = None,
        client: docker.DockerClient | None = None,
        backend_replica: bool = True,
    ) -> None:
        self.profile = profile
        self.backend_replica = backend_replica
        self.user_image = image
        self.with_prometheus = with_prometheus
        self.mutant = mutant
        self.run_id = run_id or new_run_id()
        # kind overrides the "local-image" that containers inherit from the images' labels
        self.labels = {LABEL: "1", LABEL_RUN: self.run_id, LABEL_KIND: KIND_STACK}
        self._client = client
        self._own_workdir = workdir is None
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix=f"harness-stack-{self.run_id}-"))
        self._services: dict[str, Service] = {}
        self._network: Network | None = None
        self._info: StackInfo | None = None
        self._control: StackControl | None = None
        self._closed = False
        self._trust: Trust | None = None  # the reference backend's (harness.stacks.clients)

    # --- public surface ---
    @property
    def client(self) -> docker.DockerClient:
        if self._client is None:
            self._client = docker_client()
        return self._client

    @property
    def info(self) -> StackInfo:
        if self._info is None:
            raise RuntimeError("the stack is not started")
        return self._info

    @property
    def control(self) -> StackControl:
        if self._control is None:
            self._control = StackControl(self.client, self.info.containers, self.info.health_urls())
        return self._control

    def __enter__(self) -> ContainerStack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> StackInfo:
        """Start every service and wait until each is ready; on any failure remove it all."""
        if self._info is not None:
            return self._info
        began = time.monotonic()
        try:
            with applied_testcontainers_env():
                self._start_all()
        except BaseException as exc:
            self.close()
            if isinstance(exc, TargetStartError | KeyboardInterrupt | SystemExit):
                raise
            raise TargetStartError(f"the container stack did not start: {one_line(exc)}") from exc
        self._info = self._describe(time.monotonic() - began)
        return self._info

    def close(self) -> None:
        """Remove every container, network and volume of the run; idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            for service in reversed(list(self._services.values())):
                service.remove()
            # a container whose creation was interrupted is known to the engine by label only
            sweep_runs(self.client, [self.run_id])
        finally:
            if self._network is not None:
                with suppress(Exception):
                    self._network._docker.client.close()
            self._services.clear()
            if self._own_workdir:
                shutil.rmtree(self.workdir, ignore_errors=True)
            if self._client is not None:
                with suppress(Exception):
                    self._client.close()

    # --- start-up ---
    def _start_all(self) -> None:
        images = self._images()
        self._make_network()
        password = secrets.token_hex(16)
        # independent services start together; each wait begins once all are running
        database = self._launch("database", images["postgres"], ["db"], env={
            "POSTGRES_USER": DB_USER, "POSTGRES_PASSWORD": password, "POSTGRES_DB": DB_NAME,
        }, mounts=[database_tls_mount(self.workdir)], command=database_command())  # fmt: skip
        redis = self._launch("redis", images["redis"], ["redis"])
        # nginx resolves the backend per request, so it starts before it: the backend trusts
        # the frontend's address, which is known once it runs
        tls, _ = tls_material(self.workdir)
        frontend = self._launch(
            "frontend", images["frontend"], ["frontend"],
            publish=[FRONTEND_HTTP_PORT, FRONTEND_TLS_PORT],
            mounts=[(str(tls), "/etc/nginx/tls", "ro")],
        )  # fmt: skip
        if self.user_image is None:  # clients the reference backend does not trust
            for relay in (UNTRUSTED, DENIED):
                self._launch(
                    relay, images["python"], [], publish=[RELAY_PORT], command=RELAY_COMMAND
                )
        wait_database(database)
        wait_redis(redis)
        backend_env = {
            "DATABASE_URL": with_ssl_required(
                f"postgresql+asyncpg://{DB_USER}:{password}@db:5432/{DB_NAME}"
            ),
            "REDIS_URL": "redis://redis:6379/0",
            "SECRET_KEY": secrets.token_hex(32),
            "ENVIRONMENT": self.profile,
        }
        if self.user_image is None:  # the reference backend: a short rate-limit window
            backend_env.update(rate_limit_env(self.profile))  # harness.stacks.ratelimit
            backend_env.update(identity_env())  # a lockout a check can wait out
            assert self._network is not None
            self._trust = trust_of(self.client, self._network.name, self._services)
            backend_env.update(self._trust.backend_env())
        if self.mutant:
            backend_env[MUTANT_ENV_VAR] = self.mutant
        if self.user_image is None:  # a user's image migrates its own database
            migrate = ["python", "-m", "reference_app", "migrate"]
            run_to_completion(
                self._launch("migrations", images["backend"], [], backend_env, command=migrate)
            )
            del self._services["migrations"]
        backend = self._launch(
            "backend", images["backend"], ["backend"], backend_env, publish=[BACKEND_PORT]
        )
        # the replica has no network alias: the frontend proxies to "backend" only; a user's
        # image migrates its database on start, so its replica starts once that is done
        if self.backend_replica and self.user_image is None:
            self._launch(REPLICA, images["backend"], [], backend_env, publish=[BACKEND_PORT])
        wait_http(backend, BACKEND_PORT)
        if self.backend_replica and self.user_image is not None:
            self._launch(REPLICA, images["backend"], [], backend_env, publish=[BACKEND_PORT])
        if self.backend_replica:
            wait_http(self._services[REPLICA], BACKEND_PORT)
        if self.with_prometheus:
            prometheus = self._launch(
                "prometheus", images["prometheus"], ["prometheus"], publish=[PROMETHEUS_PORT],
                mounts=prometheus_config(),
            )  # fmt: skip
            wait_http(prometheus, PROMETHEUS_PORT, "/-/ready")
        wait_http(frontend, FRONTEND_HTTP_PORT)
        if UNTRUSTED in self._services:  # the backend answers through them: they relay
            wait_http(self._services[UNTRUSTED], RELAY_PORT)
            wait_http(self._services[DENIED], RELAY_PORT, status=403)

    def _images(self) -> dict[str, str]:
        """The image of each role, present in the engine (pulled when a registry answers)."""
        from harness.stacks.images import resolve_image

        roles = ["postgres", "redis", "frontend"] + (["prometheus"] if self.with_prometheus else [])
        roles += ["python"] if self.user_image is None else []  # the untrusted clients' relays
        images = {role: resolve_image(role, client=self.client) for role in roles}
        images["backend"] = self.user_image or resolve_image("backend", client=self.client)
        for image in dict.fromkeys(images.values()):
            ensure_image(self.client, image)
        if self.mutant:
            images.update(mutant_images(self.client, self.mutant, images, self.run_id, self.labels))
        return images

    def _make_network(self) -> None:
        from testcontainers.core.network import Network

        network = Network(docker_network_kw={"labels": dict(self.labels), "driver": "bridge"})
        network.name = f"harness-{self.run_id}"
        self._network = network.create()

    def _launch(
        self,
        name: str,
        image: str,
        aliases: list[str],
        env: Mapping[str, str] | None = None,
        *,
        publish: Sequence[int] = (),
        mounts: Sequence[Mount] = (),
        command: list[str] | None = None,
    ) -> Service:
        assert self._network is not None
        prefix = f"harness-{self.run_id}-{name}"
        volumes = labelled_volumes(self.client, image, prefix, self.labels)
        service = launch(
            name, image, container_name=prefix, network=self._network, labels=self.labels,
            aliases=aliases, env=env, publish=publish, mounts=[*mounts, *volumes],
            command=command,
        )  # fmt: skip
        self._services[name] = service
        return service

    def _describe(self, seconds: float) -> StackInfo:
        services = self._services
        prometheus = services.get("prometheus")
        return StackInfo(
            run_id=self.run_id,
            profile=self.profile,
            backend_image=self.user_image or services["backend"].container.image,
            reference_backend=self.user_image is None,
            backend_url=services["backend"].url(BACKEND_PORT),
            backend_replica_url=services[REPLICA].url(BACKEND_PORT)
            if REPLICA in services
            else None,
            frontend_url=services["frontend"].url(FRONTEND_TLS_PORT, "https"),
            frontend_http_url=services["frontend"].url(FRONTEND_HTTP_PORT),
            prometheus_url=prometheus.url(PROMETHEUS_PORT) if prometheus else None,
            ca_file=str(self.workdir / "ca.pem"),
            containers={name: s.container.get_container_id() for name, s in services.items()},
            network=self._network.name if self._network else "",
            workdir=str(self.workdir),
            start_seconds=round(seconds, 2),
            lock_file=str(lock_path(self.run_id)),
            gateway=self._trust.gateway if self._trust else "",
            addresses=dict(self._trust.addresses) if self._trust else {},
            untrusted_urls={
                name: services[name].url(RELAY_PORT)
                for name in (UNTRUSTED, DENIED)
                if name in services
            },
        )
