"""An existing deployment reached by URL: black-box checks only."""

from __future__ import annotations

import socket

import httpx

from harness.errors import TargetUnreachable
from harness.targets.base import Target


def check_reachable(url: str, timeout: float = 3.0) -> None:
    """Raise TargetUnreachable unless something answers HTTP at ``url``."""
    try:
        with httpx.Client(timeout=timeout, verify=False) as client:  # noqa: S501
            client.get(url + "/", follow_redirects=False)
    except httpx.TimeoutException:
        raise TargetUnreachable(
            f"target {url} is unreachable: no answer within {timeout:g} s; "
            "check --target-url and that the service is running"
        ) from None
    except (httpx.TransportError, socket.gaierror) as exc:
        reason = _reason(exc)
        raise TargetUnreachable(
            f"target {url} is unreachable: {reason}; "
            "check --target-url and that the service is running"
        ) from None


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    lowered = text.lower()
    if "refused" in lowered:
        return "connection refused"
    if "name or service not known" in lowered or "nodename nor servname" in lowered:
        return "unknown host"
    return text.splitlines()[0]


class UrlTarget(Target):
    """A deployment the harness does not control."""

    kind = "url"
    sees_client_address = True
