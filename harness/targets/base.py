"""The Target interface: where the system is, and which capabilities come with it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Any

import pytest

from harness.targets.allowlist import is_allowed_host


class Capability(StrEnum):
    """What a suite may ask of a target beyond plain HTTP."""

    HTTP = "http"
    CONTROL = "control"  # stop / start a service of the deployment
    REDIS = "redis"  # the deployment has a Redis component
    FRONTEND = "frontend"  # a frontend service with its own URL
    ATTACK = "attack"  # load and attack traffic is allowed to this host
    CONTAINERS = "containers"  # the services run in containers the harness can exec into


REASONS: dict[Capability, str] = {
    Capability.HTTP: "needs an HTTP target",
    Capability.CONTROL: "needs stack control (stopping and starting services)",
    Capability.REDIS: "needs a Redis component in the deployment",
    Capability.FRONTEND: "needs a frontend service",
    Capability.ATTACK: "needs a host on the load/attack allow-list (use --allow-host)",
    Capability.CONTAINERS: "needs a containers stack (exec, logs, image inspection)",
}


class Target:
    """A reachable deployment; subclasses add capabilities and control."""

    kind = "abstract"

    def __init__(self, url: str, allow_hosts: tuple[str, ...] = ()) -> None:
        self.url = url.rstrip("/")
        self.allow_hosts = allow_hosts

    @property
    def capabilities(self) -> frozenset[Capability]:
        caps = {Capability.HTTP}
        if is_allowed_host(self.url, self.allow_hosts):
            caps.add(Capability.ATTACK)
        return frozenset(caps)

    def has(self, capability: Capability | str) -> bool:
        return Capability(capability) in self.capabilities

    def require(self, capability: Capability | str) -> None:
        """Skip the calling test, with the reason in the matrix, unless the capability exists."""
        __tracebackhide__ = True
        cap = Capability(capability)
        if cap not in self.capabilities:
            have = ", ".join(sorted(self.capabilities))
            pytest.skip(f"{REASONS[cap]}; the {self.kind} target offers: {have}")

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

    def describe(self) -> dict[str, Any]:
        """What the matrix records about the target."""
        return {
            "kind": self.kind,
            "url": self.url,
            "capabilities": sorted(str(cap) for cap in self.capabilities),
        }

    def close(self) -> None:
        """Release what the target started; idempotent."""
