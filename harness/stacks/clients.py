"""Client addresses on the container stack: the one proxy hop the backend trusts, and
untrusted clients on the stack network.

Behind docker-proxy every request from the host reaches a container from the network's
gateway. The reference backend of the stack trusts exactly two proxies: that gateway (the
hop the harness plays, appending its source addresses to X-Forwarded-For, see
``harness.probes.forwarding``) and the nginx frontend's address. Whether the backend also
believes X-Forwarded-For from anyone else is checked from containers it does not trust:
TCP relays on the stack network, published on 127.0.0.1, that carry the harness's requests
to the backend unchanged, so the backend sees the relay's own address as the peer. One relay
is ordinary; the other's address is on the backend's deny list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from harness.errors import TargetStartError

if TYPE_CHECKING:
    import docker

    from harness.stacks.services import Service

UNTRUSTED, DENIED = "untrusted-client", "denied-client"
RELAY_PORT = 8000
# the deny-listed source the checks send from through the trusted hop (the embedded target's
# deny-listed loopback address: outside the 127.0.0.10-250 of the checks' own clients)
DENIED_SOURCE = "127.0.0.253"
# a TCP relay to backend:8000, resolved per connection (a restarted backend is found again);
# python3 is in the python image of the stack
RELAY_SCRIPT = """\
import asyncio

async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except OSError:
        pass
    finally:
        writer.close()

async def handle(reader, writer):
    try:
        up_reader, up_writer = await asyncio.open_connection("backend", 8000)
    except OSError:
        writer.close()
        return
    await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

async def main():
    server = await asyncio.start_server(handle, "0.0.0.0", 8000)
    await server.serve_forever()

asyncio.run(main())
"""
RELAY_COMMAND = ["python3", "-c", RELAY_SCRIPT]


def gateway_of(client: docker.DockerClient, network: str) -> str:
    """The address every published port's traffic comes from (docker-proxy's side)."""
    attrs = client.networks.get(network).attrs
    for config in attrs.get("IPAM", {}).get("Config") or ():
        if config.get("Gateway"):
            return str(config["Gateway"])
    raise TargetStartError(f"network {network} states no gateway address")


def address_of(service: Service, network: str) -> str:
    """The container's address on ``network``."""
    wrapped = service.container.get_wrapped_container()
    wrapped.reload()
    networks: Mapping[str, Mapping[str, str]] = wrapped.attrs["NetworkSettings"]["Networks"]
    address = networks.get(network, {}).get("IPAddress")
    if not address:
        raise TargetStartError(f"{service.name} has no address on network {network}")
    return address


@dataclass(frozen=True)
class Trust:
    """Who the reference backend trusts and refuses, by network address."""

    gateway: str  # every published port's traffic comes from here: the harness's hop
    addresses: Mapping[str, str]  # frontend and relays -> their address on the network

    def backend_env(self) -> dict[str, str]:
        """Proxy trust, deny list and rate-limit exemption of the reference backend.

        The harness's plain requests (no source address of their own, the load generator's
        among them) arrive from the gateway with no X-Forwarded-For: that is the exempt
        client, as the host's 127.0.0.1 is on the embedded target."""
        return {
            "SECURITY_TRUSTED_PROXIES": f"{self.gateway},{self.addresses['frontend']}",
            "SECURITY_IP_BLACKLIST": f"{DENIED_SOURCE},{self.addresses[DENIED]}",
            "SECURITY_RATE_LIMIT_EXEMPT": self.gateway,
        }


def trust_of(client: docker.DockerClient, network: str, services: Mapping[str, Service]) -> Trust:
    """The gateway of ``network`` and the addresses of the frontend and the relays."""
    names = ("frontend", UNTRUSTED, DENIED)
    return Trust(
        gateway_of(client, network),
        {name: address_of(services[name], network) for name in names},
    )
