"""An existing deployment reached by URL: black-box checks only."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import httpx

from harness.errors import ConfigError, TargetUnreachable
from harness.targets.base import Target


def validate_url(url: str) -> str:
    """Reject what is not an absolute http(s) URL, with a fix-it message."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigError(
            f"target URL {url!r} is not an absolute http(s) URL; "
            "use e.g. --target-url http://127.0.0.1:8000"
        )
    try:
        parts.port  # noqa: B018  (raises on a malformed port)
    except ValueError:
        raise ConfigError(f"target URL {url!r} has an invalid port") from None
    return url.rstrip("/")


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
