"""The Target interface: where the system is, and which capabilities come with it."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from enum import StrEnum
from typing import Any, Literal, Protocol, overload

import httpx
import pytest

from harness.targets.allowlist import is_allowed_host


def is_ipv4_loopback(url: str) -> bool:
    """True when ``url``'s host is an IPv4 loopback address (127.0.0.0/8)."""
    host = httpx.URL(url).host
    try:
        return ipaddress.ip_address(host) in ipaddress.ip_network("127.0.0.0/8")
    except ValueError:
        return False


class Capability(StrEnum):
    """What a suite may ask of a target beyond plain HTTP."""

    HTTP = "http"
    CONTROL = "control"  # stop / start a service of the deployment
    REDIS = "redis"  # the deployment has a Redis component
    FRONTEND = "frontend"  # a frontend service with its own URL
    ATTACK = "attack"  # load and attack traffic is allowed to this host
    CONTAINERS = "containers"  # the services run in containers the harness can exec into
    # the deployment sees the harness's own source address, and the harness can send from
    # many (an IPv4 loopback target: 127.0.0.2, 127.0.0.3, ...; on the container stack they
    # travel as X-Forwarded-For through the one proxy hop the backend trusts)
    CLIENT_ADDRESSES = "client-addresses"
    REPLICAS = "replicas"  # two backend replicas sharing one Redis, each with its own URL
    AUDIT_LOG = "audit-log"  # the harness can read the deployment's audit records
    VARIANTS = "variants"  # a second, temporary instance of the app with other settings
    USERS = "users"  # the harness can create user accounts (a test hook of the target)
    # a load run measures the deployment, not its rate limiter: the generator's own address
    # can be exempted without exempting the other checks
    LOAD = "load"


REASONS: dict[Capability, str] = {
    Capability.HTTP: "needs an HTTP target",
    Capability.CONTROL: "needs stack control (stopping and starting services)",
    Capability.REDIS: "needs a Redis component in the deployment",
    Capability.FRONTEND: "needs a frontend service",
    Capability.ATTACK: "needs a host on the load/attack allow-list (use --allow-host)",
    Capability.CONTAINERS: "needs a containers stack (exec, logs, image inspection)",
    Capability.REPLICAS: "needs two backend replicas sharing one Redis",
    Capability.CLIENT_ADDRESSES: "needs distinct client addresses that the deployment sees "
    "(an IPv4 loopback target without address translation, or a stack that trusts the "
    "harness as its proxy hop)",
    Capability.AUDIT_LOG: "needs access to the audit log (embedded app's file, container logs)",
    Capability.VARIANTS: "needs a second instance of the app started with other settings",
    Capability.USERS: "needs a way to create user accounts (a test hook of the target)",
    Capability.LOAD: "needs a load generator address of its own (behind docker-proxy every "
    "request of a user's image comes from one gateway address, so exempting the generator "
    "from rate limiting would exempt every check; run `harness load SCENARIO --target-url "
    "URL` against a deployment that exempts the generator)",
}

# what ``Target.variant`` accepts: parameter names (and the profile); a target that started
# the app itself states them in ``facts``
DEPLOYMENT_SETTINGS = (
    "ip_denylist",
    "ip_allowlist",
    "trusted_proxies",
    "profile",
    "login_max_attempts",
    "lockout_s",
)


class ServiceControl(Protocol):
    """Capability.CONTROL: stop and start the deployment's services."""

    def stop(self, service: str) -> None: ...
    def start(self, service: str) -> None: ...
    def outage(self, service: str) -> AbstractContextManager[None]: ...
    def incarnation(self, service: str) -> dict[str, Any]: ...


class AuditLog(Protocol):
    """Capability.AUDIT_LOG: the deployment's audit records, parsed."""

    def audit_records(self) -> list[dict[str, Any]]: ...


class ContainerAccess(Protocol):
    """Capability.CONTAINERS: exec into the services' containers and inspect their images."""

    def exec(self, service: str, cmd: str | list[str]) -> tuple[int, str]: ...
    def logs(self, service: str) -> str: ...
    def inspect_image(self, service: str) -> dict[str, Any]: ...
    def inspect_container(self, service: str) -> dict[str, Any]: ...
    def image_history(self, service: str) -> list[dict[str, Any]]: ...


class Variants(Protocol):
    """Capability.VARIANTS: a temporary second instance of the app with other settings."""

    def variant(self, **settings: Any) -> AbstractContextManager[Target]: ...


class UserAccounts(Protocol):
    """Capability.USERS: create accounts in the deployment (a test hook of the target)."""

    def create_user(self, username: str, password: str) -> None: ...
    def create_admin(self, username: str, password: str) -> str: ...


# capabilities that give the check nothing to call: they only say what is allowed or present
FlagCapability = Literal[
    Capability.HTTP,
    Capability.REDIS,
    Capability.ATTACK,
    Capability.CLIENT_ADDRESSES,
    Capability.LOAD,
]


class Target:
    """A reachable deployment; subclasses add capabilities and control.

    Checks ask for what they need with ``require``, which skips the check (the reason lands in
    the matrix) when the target cannot offer it, and otherwise returns the typed object the
    check uses: ``ServiceControl`` for CONTROL, the frontend's URL for FRONTEND, the replicas'
    URLs for REPLICAS, and so on."""

    kind = "abstract"
    # subclasses whose deployment sees the harness's socket address set this to True
    sees_client_address = False
    # False where the deployment cannot tell the load generator from the other checks
    load_generator_apart = True

    def __init__(self, url: str, allow_hosts: tuple[str, ...] = ()) -> None:
        self.url = url.rstrip("/")
        self.allow_hosts = allow_hosts

    @property
    def capabilities(self) -> frozenset[Capability]:
        caps = {Capability.HTTP}
        if is_allowed_host(self.url, self.allow_hosts):
            caps.add(Capability.ATTACK)
        if self.sees_client_address and is_ipv4_loopback(self.url):
            caps.add(Capability.CLIENT_ADDRESSES)
        if self.load_generator_apart:
            caps.add(Capability.LOAD)
        return frozenset(caps)

    def has(self, capability: Capability | str) -> bool:
        return Capability(capability) in self.capabilities

    @overload
    def require(self, capability: Literal[Capability.CONTROL]) -> ServiceControl: ...
    @overload
    def require(self, capability: Literal[Capability.AUDIT_LOG]) -> AuditLog: ...
    @overload
    def require(self, capability: Literal[Capability.CONTAINERS]) -> ContainerAccess: ...
    @overload
    def require(self, capability: Literal[Capability.VARIANTS]) -> Variants: ...
    @overload
    def require(self, capability: Literal[Capability.USERS]) -> UserAccounts: ...
    @overload
    def require(self, capability: Literal[Capability.FRONTEND]) -> str: ...
    @overload
    def require(self, capability: Literal[Capability.REPLICAS]) -> tuple[str, ...]: ...
    @overload
    def require(self, capability: FlagCapability) -> None: ...

    def require(self, capability: Capability) -> object:
        """Skip the calling test, with the reason in the matrix, unless the capability exists;
        return what the check uses of it."""
        __tracebackhide__ = True
        cap = Capability(capability)
        if cap not in self.capabilities:
            have = ", ".join(sorted(self.capabilities))
            pytest.skip(f"{REASONS[cap]}; the {self.kind} target offers: {have}")
        if cap is Capability.FRONTEND:
            return self.service_url("frontend")
        if cap is Capability.REPLICAS:
            return self.replica_urls()
        if cap in (
            Capability.CONTROL,
            Capability.AUDIT_LOG,
            Capability.CONTAINERS,
            Capability.VARIANTS,
            Capability.USERS,
        ):
            return self  # the target implements the capability's protocol itself
        return None

    def untrusted_url(self, url: str, source: str | None = None) -> str:
        """Where the service at ``url`` is reached, from ``source``, by a peer that the
        deployment does not trust as a proxy, so its X-Forwarded-For must not be believed.
        Here the harness's own sources are such peers: ``url`` itself."""
        return url

    def service_url(self, service: str) -> str:
        if service == "backend":
            return self.url
        raise KeyError(f"the {self.kind} target has no {service!r} service")

    # --- stack control; only targets with Capability.CONTROL implement these ---
    def stop(self, service: str) -> None:
        raise NotImplementedError(f"the {self.kind} target cannot stop services")

    def start(self, service: str) -> None:
        raise NotImplementedError(f"the {self.kind} target cannot start services")

    @contextmanager
    def outage(self, service: str) -> Iterator[None]:
        """Stop ``service`` for the duration of the block; it is always started again."""
        self.require(Capability.CONTROL)
        self.stop(service)
        try:
            yield
        finally:
            self.start(service)

    def incarnation(self, service: str) -> dict[str, Any]:
        """What identifies the running instance of ``service`` (a process id, a container's
        start time and restart count): it changes when the service is restarted, so a check
        can tell recovery from a restart."""
        raise NotImplementedError(f"the {self.kind} target cannot tell restarts of {service!r}")

    def replica_urls(self) -> tuple[str, ...]:
        """The URLs of the backend's replicas (two or more with Capability.REPLICAS),
        started on first use."""
        return (self.url,)

    @property
    def facts(self) -> dict[str, Any]:
        """Requirement parameters this target knows of its deployment (e.g. a shortened
        rate-limit period); checks use them where the user set no value of their own."""
        return {}

    # --- test hooks ---
    def audit_records(self) -> list[dict[str, Any]]:
        """Every audit record written so far, parsed (Capability.AUDIT_LOG)."""
        raise NotImplementedError(f"the {self.kind} target cannot read the audit log")

    def variant(self, **settings: Any) -> AbstractContextManager[Target]:
        """A temporary extra instance of the app configured with ``settings`` (names of
        DEPLOYMENT_SETTINGS, e.g. ``ip_allowlist=[...]``), stopped after the block
        (Capability.VARIANTS)."""
        self.require(Capability.VARIANTS)
        raise NotImplementedError(f"the {self.kind} target cannot start variants")

    def create_user(self, username: str, password: str) -> None:
        """Create an active, plain account in the deployment (Capability.USERS)."""
        raise NotImplementedError(f"the {self.kind} target cannot create users")

    def create_admin(self, username: str, password: str) -> str:
        """Create an administrator enrolled in TOTP (Capability.USERS); its TOTP secret, ""
        when the deployment enrolled none. Never log the secret."""
        raise NotImplementedError(f"the {self.kind} target cannot create administrators")

    def describe(self) -> dict[str, Any]:
        """What the matrix records about the target."""
        return {
            "kind": self.kind,
            "url": self.url,
            "capabilities": sorted(str(cap) for cap in self.capabilities),
        }

    def close(self) -> None:
        """Release what the target started; idempotent."""
