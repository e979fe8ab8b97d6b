"""What an nginx configuration's access logs record (the file parsed by
:func:`harness.probes.nginxconf.parse_config`).

The file is either a complete ``nginx.conf`` (with an ``http`` block) or a snippet of server
blocks that an image includes into its ``http`` context (``conf.d/default.conf``). Includes
are not followed: what they add is not in the file being judged.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from harness.probes.nginxconf import Directive

# nginx's predefined format: '$remote_addr - $remote_user [$time_local] "$request" $status ...'
COMBINED = (
    '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
    '"$http_referer" "$http_user_agent"'
)
# what a log line must say, each as the variables that can say it
ACCESS_LOG_FIELDS: dict[str, tuple[frozenset[str], ...]] = {
    "client address": (
        frozenset({"remote_addr"}),
        frozenset({"realip_remote_addr"}),
        frozenset({"http_x_forwarded_for"}),
    ),
    "time": (frozenset({"time_local"}), frozenset({"time_iso8601"}), frozenset({"msec"})),
    "request line": (
        frozenset({"request"}),
        frozenset({"request_method", "request_uri"}),
        frozenset({"request_method", "uri"}),
    ),
    "status": (frozenset({"status"}),),
}
_VARIABLE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")
_DISCARDED = ("/dev/null",)


def children(block: Sequence[Directive], name: str) -> list[Directive]:
    return [d for d in block if d.get("directive") == name]


def http_context(top: Sequence[Directive]) -> tuple[list[Directive], bool]:
    """The directives of the ``http`` context and whether the file is a complete config
    (True) or a snippet included into an ``http`` context it does not show (False)."""
    http = children(top, "http")
    if http:
        return [d for block in http for d in block.get("block", [])], True
    return list(top), False


def log_formats(http: Sequence[Directive]) -> dict[str, str]:
    """Format name -> its text, ``combined`` (predefined) included."""
    formats = {"combined": COMBINED}
    for directive in children(http, "log_format"):
        args = directive.get("args", [])
        if args:
            # an escape=json|default|none parameter may stand before the strings
            formats[args[0]] = "".join(a for a in args[1:] if not a.startswith("escape="))
    return formats


def variables(log_format: str) -> set[str]:
    return set(_VARIABLE.findall(log_format))


def missing_fields(log_format: str) -> list[str]:
    """The fields of ACCESS_LOG_FIELDS that a format does not record."""
    found = variables(log_format)
    return [
        field for field, ways in ACCESS_LOG_FIELDS.items() if not any(way <= found for way in ways)
    ]


@dataclass(frozen=True)
class AccessLog:
    """One ``access_log`` directive: where it writes and with which format."""

    destination: str
    format_name: str
    line: int

    @property
    def off(self) -> bool:
        return self.destination == "off"


def access_logs(block: Sequence[Directive]) -> list[AccessLog]:
    """The ``access_log`` directives of one context (not of the contexts inside it)."""
    logs = []
    for directive in children(block, "access_log"):
        args = directive.get("args", [])
        destination = args[0] if args else ""
        # after the path: an optional format name, then key=value or gzip parameters
        named = [a for a in args[1:2] if "=" not in a and a != "gzip"]
        logs.append(AccessLog(destination, named[0] if named else "combined", directive["line"]))
    return logs


def log_problems(logs: Sequence[AccessLog], formats: dict[str, str], where: str) -> list[str]:
    """Why the access logs in effect for ``where`` do not record each request's fields."""
    if any(log.off for log in logs):
        return [f"{where}: access_log off (line {next(log.line for log in logs if log.off)})"]
    problems = []
    for log in logs:
        if log.destination in _DISCARDED:
            problems.append(f"{where}: access_log writes to {log.destination} (line {log.line})")
        elif log.format_name not in formats:
            problems.append(
                f"{where}: access_log uses format {log.format_name!r}, which no log_format "
                f"defines (line {log.line})"
            )
        elif missing := missing_fields(formats[log.format_name]):
            problems.append(
                f"{where}: format {log.format_name!r} does not record the "
                f"{', '.join(missing)} (line {log.line})"
            )
    return problems


def _server_name(server: Directive) -> str:
    listen = children(server.get("block", []), "listen")
    port = listen[0]["args"][0] if listen and listen[0].get("args") else "?"
    return f"server listening on {port} (line {server['line']})"


def _catch_all(location: Directive) -> bool:
    return location.get("args") == ["/"]


def access_log_findings(top: Sequence[Directive]) -> tuple[list[str], list[str]]:
    """(problems, evidence) of every server's access logging: the server's own access_log
    directives, else those of the http context, else nginx's default (``logs/access.log
    combined``), which only a complete configuration can rely on."""
    http, complete = http_context(top)
    formats = log_formats(http)
    inherited = access_logs(http)
    servers = children(http, "server")
    if not servers:
        return ["no server block"], []
    problems: list[str] = []
    evidence: list[str] = []
    for server in servers:
        block = server.get("block", [])
        where = _server_name(server)
        logs = access_logs(block) or inherited
        if not logs and not complete:
            problems.append(
                f"{where}: no access_log here nor in the file's http context, so what it logs "
                "is decided by the image's main nginx.conf, which the repository does not show: "
                "declare access_log with a format"
            )
            continue
        problems += log_problems(logs, formats, where)
        evidence += [f"{where}: access_log {log.destination} {log.format_name}" for log in logs]
        if not logs:
            evidence.append(f"{where}: nginx's default access_log logs/access.log combined")
        for location in children(block, "location"):
            if _catch_all(location) and any(log.off for log in access_logs(location["block"])):
                problems.append(f"{where}: location / turns access_log off")
    return problems, evidence
