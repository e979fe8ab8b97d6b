"""The description of a running stack: what a process needs to use and control it (JSON).

The controller hands it to xdist workers, and `harness stack up` keeps it as its state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class StackInfo:
    """URLs, container ids and files of one running stack."""

    run_id: str
    profile: str
    backend_image: str
    reference_backend: bool  # False for the user's --image
    backend_url: str
    frontend_url: str  # HTTPS
    frontend_http_url: str
    ca_file: str  # PEM of the CA that signed the frontend's certificate
    containers: Mapping[str, str]  # service -> container id
    network: str
    workdir: str
    prometheus_url: str | None = None
    backend_replica_url: str | None = None  # a second backend on the same Redis, if any
    start_seconds: float | None = None
    lock_file: str = ""
    gateway: str = ""  # where published ports' traffic comes from; a proxy the backend trusts
    addresses: Mapping[str, str] = field(default_factory=dict)  # service -> network address
    # untrusted client relays (harness.stacks.clients) -> their URL on 127.0.0.1
    untrusted_urls: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["containers"] = dict(self.containers)
        data["addresses"] = dict(self.addresses)
        data["untrusted_urls"] = dict(self.untrusted_urls)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StackInfo:
        known = set(cls.__dataclass_fields__)
        return cls(**{key: value for key, value in data.items() if key in known})

    def health_urls(self) -> dict[str, str]:
        """Where each HTTP service answers when it is up."""
        urls = {
            "backend": self.backend_url + "/health",
            "frontend": self.frontend_http_url + "/health",
        }
        if self.prometheus_url:
            urls["prometheus"] = self.prometheus_url + "/-/ready"
        return urls
