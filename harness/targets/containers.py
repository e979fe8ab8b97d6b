"""The reference stack (or the user's image) in throwaway containers, with stack control.

The controller starts one `ContainerStack` per run; xdist workers receive its description
as JSON (`to_json` / `from_json`) and control the same containers by id.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any

import httpx

from harness.probes.forwarding import play_trusted_hop, stop_playing
from harness.stacks.clients import DENIED, UNTRUSTED
from harness.stacks.identity import identity_facts
from harness.stacks.info import StackInfo
from harness.targets.base import Capability, Target
from harness.targets.deployment import (
    DENIED_ADDRESS,
    LOAD_GENERATOR_ADDRESS,
    settings_vars,
    totp_secret,
)

if TYPE_CHECKING:
    import docker

    from harness.stacks.containers import ContainerStack
    from harness.stacks.control import StackControl


def _serves(url: str) -> bool:
    """The variant's /health answers 200 to the harness's plain address (127.0.0.1 in the
    host's terms, which an allow list of a check names) presented through the hop."""
    try:
        answer = httpx.get(url + "/health", headers={"X-Forwarded-For": LOAD_GENERATOR_ADDRESS})
    except httpx.HTTPError:
        return False
    return answer.status_code == 200


class ContainersTarget(Target):
    """A running container stack: HTTP, control, Redis, a TLS frontend, exec and logs."""

    kind = "containers"
    # behind docker-proxy every request comes from the network's gateway, which the reference
    # backend trusts as the one proxy hop: the harness plays it (harness.stacks.clients)
    sees_client_address = True

    def __init__(
        self,
        info: StackInfo,
        allow_hosts: tuple[str, ...] = (),
        *,
        stack: ContainerStack | None = None,
    ) -> None:
        super().__init__(info.backend_url, allow_hosts)
        self.info = info
        self._stack = stack  # set in the process that owns the stack: `close` tears it down
        self._client: docker.DockerClient | None = None
        self._control: StackControl | None = None
        self._backend_env: dict[str, str] | None = None
        self._hop = self._trusted_hop_urls()
        play_trusted_hop(self._hop)

    def _trusted_hop_urls(self) -> tuple[str, ...]:
        """The services that learn the harness's source addresses from X-Forwarded-For."""
        if not self.info.gateway:  # a user's image: it is not told to trust the gateway
            return ()
        urls = [self.info.backend_url, self.info.frontend_url, self.info.frontend_http_url]
        return tuple(
            urls + ([self.info.backend_replica_url] if self.info.backend_replica_url else [])
        )

    # --- JSON round trip, so xdist workers attach to the controller's stack ---
    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "allow_hosts": list(self.allow_hosts), **self.info.to_json()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ContainersTarget:
        allow_hosts = tuple(str(host) for host in data.get("allow_hosts", ()))
        return cls(StackInfo.from_json(data), allow_hosts)

    # --- what it offers ---
    @property
    def capabilities(self) -> frozenset[Capability]:
        extra = {Capability.CONTROL, Capability.REDIS, Capability.FRONTEND, Capability.CONTAINERS}
        base = set(super().capabilities)
        if not self._hop:  # the gateway is every client: no addresses, no exempt generator
            base -= {Capability.CLIENT_ADDRESSES, Capability.LOAD}
        if self.info.backend_replica_url:
            extra.add(Capability.REPLICAS)
        extra.add(Capability.AUDIT_LOG)  # audit records are JSON lines of the backend's log
        if self.info.reference_backend:
            extra.add(Capability.USERS)  # its image has create-user and create_admin
        if self._hop:  # a second reference backend, its settings in SECURITY_* variables
            extra.add(Capability.VARIANTS)
        return frozenset(base | extra)

    def replica_urls(self) -> tuple[str, ...]:
        if self.info.backend_replica_url:
            return (self.url, self.info.backend_replica_url)
        return super().replica_urls()

    @property
    def facts(self) -> dict[str, Any]:
        if not self.info.reference_backend:
            return {}
        from harness.stacks.ratelimit import rate_limit_facts

        facts: dict[str, Any] = dict(rate_limit_facts(self.info.profile))
        facts.update(identity_facts(self.info.profile, self.backend_env()))
        if self.info.gateway:
            facts.update(
                # the deny-listed source the checks send through the hop; the deny-listed
                # relay is on the list too (its address is not one the harness sends from)
                ip_denylist=[DENIED_ADDRESS, self.info.addresses.get(DENIED, "")],
                ip_allowlist=[],
                trusted_proxies=[self.info.gateway, self.info.addresses.get("frontend", "")],
                # in the host's terms: requests without a source of their own (the load
                # generator's) reach the backend from the gateway, which it exempts
                rate_limit_exempt=[LOAD_GENERATOR_ADDRESS],
            )
        return facts

    def untrusted_url(self, url: str, source: str | None = None) -> str:
        """The backend through a relay container it does not trust: the deny-listed relay
        for a deny-listed ``source``, the ordinary one for any other."""
        relays = self.info.untrusted_urls
        if url.rstrip("/") != self.info.backend_url or not relays:
            return super().untrusted_url(url, source)
        return relays[DENIED if source == DENIED_ADDRESS else UNTRUSTED]

    @property
    def ca_file(self) -> str:
        """PEM of the throwaway CA that signed the frontend's certificate."""
        return self.info.ca_file

    @property
    def run_id(self) -> str:
        return self.info.run_id

    def service_url(self, service: str) -> str:
        urls = {
            "backend": self.info.backend_url,
            "frontend": self.info.frontend_url,
            "frontend-http": self.info.frontend_http_url,
        }
        if self.info.prometheus_url:
            urls["prometheus"] = self.info.prometheus_url
        try:
            return urls[service]
        except KeyError:
            raise KeyError(
                f"the containers target has no {service!r} service (it has: {', '.join(urls)})"
            ) from None

    # --- stack control ---
    @property
    def control(self) -> StackControl:
        if self._control is None:
            from harness.stacks.control import StackControl
            from harness.stacks.docker_env import docker_client

            self._client = docker_client()
            self._control = StackControl(
                self._client, self.info.containers, self.info.health_urls()
            )
        return self._control

    def stop(self, service: str) -> None:
        self.control.stop(service)

    def start(self, service: str) -> None:
        self.control.start(service)

    def restart(self, service: str) -> None:
        self.control.restart(service)

    def incarnation(self, service: str) -> dict[str, Any]:
        return self.control.incarnation(service)

    def exec(self, service: str, cmd: str | list[str]) -> tuple[int, str]:
        return self.control.exec(service, cmd)

    def logs(self, service: str) -> str:
        return self.control.logs(service)

    def audit_records(self) -> list[dict[str, Any]]:
        from harness.probes.audit import parse_records

        return parse_records(self.logs("backend"))

    def backend_env(self) -> dict[str, str]:
        """The backend container's environment variables (read once; {} if unreadable)."""
        if self._backend_env is None:
            try:
                listed = self.inspect_container("backend").get("Config", {}).get("Env") or []
            except Exception:  # facts fall back to the profile's values
                listed = []
            self._backend_env = dict(item.partition("=")[::2] for item in listed)
        return self._backend_env

    def _account_command(self, module: list[str], username: str, password: str) -> str:
        from harness.errors import TargetStartError

        command = ["python", "-m", *module, "--username", username]
        code, output = self.exec("backend", ["env", f"ADMIN_PASSWORD={password}", *command])
        if code != 0:
            lines = output.strip().splitlines()
            raise TargetStartError(f"creating user {username!r} failed: {lines[-1:] or code}")
        return output

    def create_user(self, username: str, password: str) -> None:
        self._account_command(["reference_app", "create-user"], username, password)

    def create_admin(self, username: str, password: str) -> str:
        output = self._account_command(["reference_app.create_admin"], username, password)
        return totp_secret(output)

    @contextmanager
    def variant(self, **settings: Any) -> Iterator[Target]:
        """The stack's backend once more, with ``settings`` (and the profile's rate limits),
        on the same database and Redis; removed after the block."""
        self.require(Capability.VARIANTS)
        from harness.stacks.ratelimit import rate_limit_env
        from harness.stacks.variants import backend_variant
        from harness.targets.url import UrlTarget

        profile = settings.pop("profile", self.info.profile)
        env = {"ENVIRONMENT": profile, **rate_limit_env(profile), **settings_vars(settings)}
        with backend_variant(self.control.client, self.info, env, _serves) as url:
            play_trusted_hop([url])
            try:
                yield UrlTarget(url, self.allow_hosts)
            finally:
                stop_playing([url])

    def inspect_image(self, service: str) -> dict[str, Any]:
        return self.control.inspect_image(service)

    def inspect_container(self, service: str) -> dict[str, Any]:
        return self.control.inspect_container(service)

    def image_history(self, service: str) -> list[dict[str, Any]]:
        return self.control.image_history(service)

    def describe(self) -> dict[str, Any]:
        info = super().describe()
        info.update(
            run_id=self.info.run_id,
            profile=self.info.profile,
            backend_image=self.info.backend_image,
            reference_backend=self.info.reference_backend,
            frontend_url=self.info.frontend_url,
            frontend_http_url=self.info.frontend_http_url,
            services=sorted(self.info.containers),
        )
        if self.info.prometheus_url:
            info["prometheus_url"] = self.info.prometheus_url
        return info

    def close(self) -> None:
        stop_playing(self._hop)
        if self._client is not None:
            with suppress(Exception):
                self._client.close()
            self._client = self._control = None
        if self._stack is not None:
            self._stack.close()
