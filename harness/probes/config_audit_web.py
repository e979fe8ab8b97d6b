"""The entry point's nginx configuration (TLS, the redirect to HTTPS, the security headers on
every response) and Prometheus' configuration (a scrape job of the backend, alerting rules),
judged with the line of each directive or key."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.probes.config_audit_files import Document, line_of, read_documents
from harness.probes.nginxconf import Directive

_REDIRECT_CODES = ("301", "302", "307", "308")
_HSTS_AGE = re.compile(r"max-age=(\d+)", re.I)


@dataclass(frozen=True)
class NginxFile:
    """One parsed configuration file and the path it is read from."""

    label: str
    directives: list[Directive]


def _all(block: Iterable[Directive], name: str) -> list[Directive]:
    return [d for d in block if d["directive"] == name]


def _servers(config: NginxFile) -> list[tuple[Directive, list[Directive]]]:
    """Each server with the http block around it (empty for a file of server blocks)."""
    found: list[tuple[Directive, list[Directive]]] = [
        (s, []) for s in _all(config.directives, "server")
    ]
    for http in _all(config.directives, "http"):
        found += [(s, http.get("block") or []) for s in _all(http.get("block") or [], "server")]
    return found


def _listens(server: Directive) -> list[list[str]]:
    return [d["args"] for d in _all(server.get("block") or [], "listen")] or [["80"]]


def _redirects(block: Sequence[Directive]) -> bool:
    """Whether the block (or an ``if`` in it) returns a redirect to an https URL."""
    for directive in block:
        args = directive.get("args") or []
        redirect = len(args) >= 2 and args[0] in _REDIRECT_CODES and args[1].startswith("https://")
        if directive["directive"] == "return" and redirect:
            return True
        if directive["directive"] == "if" and _redirects(directive.get("block") or []):
            return True
    return False


def nginx_tls(configs: Iterable[NginxFile]) -> tuple[list[str], list[str]]:
    """(problems, evidence): some server listens with TLS (a certificate set) and every plain
    HTTP server redirects to HTTPS. No problem at all but no TLS server: TLS ends elsewhere."""
    problems, evidence, tls = [], [], []
    for config in configs:
        for server, http in _servers(config):
            block = server.get("block") or []
            where = f"{config.label}:{server['line']}"
            for listen in _listens(server):
                if "ssl" in listen:
                    certificate = _all(block, "ssl_certificate") or _all(http, "ssl_certificate")
                    if certificate:
                        tls.append(f"{where}: listen {' '.join(listen)} with a certificate")
                    else:
                        problems.append(
                            f"{where}: listen {' '.join(listen)} has no ssl_certificate"
                        )
                elif _redirects(block):
                    evidence.append(f"{where}: listen {' '.join(listen)} redirects to HTTPS")
                else:
                    problems.append(
                        f"{where}: listen {' '.join(listen)} serves plain HTTP without a "
                        "redirect to HTTPS"
                    )
    if not tls:
        problems.append("no server of the entry point listens with TLS (listen ... ssl)")
    return problems, tls + evidence


@dataclass(frozen=True)
class HeaderRule:
    name: str
    accepts: Any  # (value) -> reason or None


def header_rules(hsts_min_age: int, referrer_policies: Sequence[str]) -> list[HeaderRule]:
    """The six headers of the spec and what each value must be."""

    def equals(*allowed: str) -> Any:
        return lambda v: None if v.lower() in allowed else f"is {v!r}, not {' or '.join(allowed)}"

    def hsts(value: str) -> str | None:
        if value.startswith("$"):
            return None  # a variable (e.g. set over HTTPS only): its map decides
        age = _HSTS_AGE.search(value)
        if age is None or int(age.group(1)) < hsts_min_age:
            return f"has max-age {age.group(1) if age else 'missing'}, under {hsts_min_age}"
        return None

    return [
        HeaderRule("X-Content-Type-Options", equals("nosniff")),
        HeaderRule("X-Frame-Options", equals("deny", "sameorigin")),
        HeaderRule("X-XSS-Protection", lambda v: None),
        HeaderRule("Strict-Transport-Security", hsts),
        HeaderRule("Content-Security-Policy", lambda v: None if v.strip() else "is empty"),
        HeaderRule("Referrer-Policy", equals(*[p.lower() for p in referrer_policies])),
    ]


def _headers(block: Iterable[Directive]) -> dict[str, tuple[str, bool]]:
    """Header name (lower case) -> (value, ``always``) of the block's own add_header lines."""
    found = {}
    for directive in _all(block, "add_header"):
        args = directive["args"]
        if len(args) >= 2:
            found[args[0].lower()] = (args[1], "always" in args[2:])
    return found


def _judge_headers(
    headers: Mapping[str, tuple[str, bool]], rules: Sequence[HeaderRule], where: str
) -> list[str]:
    problems = []
    for rule in rules:
        if rule.name.lower() not in headers:
            problems.append(f"{where} does not add {rule.name}")
            continue
        value, always = headers[rule.name.lower()]
        reason = rule.accepts(value)
        if reason:
            problems.append(f"{where}: {rule.name} {reason}")
        elif not always:
            problems.append(f"{where}: {rule.name} is added without 'always' (not on errors)")
    return problems


def nginx_headers(configs: Iterable[NginxFile], rules: Sequence[HeaderRule]) -> list[str]:
    """Problems of the headers every response gets. nginx inherits add_header from the level
    above only where a level adds none of its own, so a location's lines replace the server's."""
    problems = []
    for config in configs:
        for server, http in _servers(config):
            block = server.get("block") or []
            own = _headers(block) or _headers(http)
            problems += _judge_headers(own, rules, f"{config.label}:{server['line']} server")
            for location in _all(block, "location"):
                mine = _headers(location.get("block") or [])
                if mine:
                    where = (
                        f"{config.label}:{location['line']} location {' '.join(location['args'])}"
                    )
                    problems += _judge_headers(mine, rules, where)
    return problems


def _hosts(job: Mapping[str, Any]) -> list[str]:
    targets = [t for c in job.get("static_configs") or [] for t in c.get("targets") or []]
    return [str(t).rsplit(":", 1)[0] for t in targets]


def scrape_problems(config: Document, backend: str) -> tuple[list[str], list[str]]:
    """A scrape job reaches the backend: a static target on its host, or a job named after it
    that discovers its targets."""
    jobs = (config.body or {}).get("scrape_configs") or []
    evidence = [
        f"{config.at(jobs, i)}: job {j.get('job_name')} {_hosts(j)}" for i, j in enumerate(jobs)
    ]
    for job in jobs:
        discovered = any(key.endswith("_sd_configs") for key in job)
        if backend in _hosts(job) or (discovered and backend in str(job.get("job_name", ""))):
            return [], evidence
    where = config.at(config.body, "scrape_configs") if jobs else f"{config.label}:1"
    return [f"{where}: no scrape job targets the backend ({backend})"], evidence


def rule_files(config: Document, directory: Path) -> tuple[list[str], list[Path]]:
    """The patterns of ``rule_files`` and the files they match, relative to the configuration's
    folder as Prometheus resolves them."""
    patterns = [str(p) for p in (config.body or {}).get("rule_files") or []]
    matched = sorted({path for p in patterns for path in directory.glob(p) if path.is_file()})
    return patterns, matched


def alert_rules(path: Path, label: str) -> tuple[list[str], list[str]]:
    """(problems, alert names) of one rules file."""
    try:
        documents = read_documents(path, label)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        return [f"{label}: not YAML: {str(exc).splitlines()[0]}"], []
    names, problems = [], []
    for doc in documents:
        groups = doc.body.get("groups") if isinstance(doc.body, Mapping) else None
        for group in groups or []:
            rules = group.get("rules") or []
            for index, rule in enumerate(rules):
                if "alert" not in rule:
                    continue
                if not str(rule.get("expr", "")).strip():
                    problems.append(
                        f"{label}:{line_of(rules, index)}: alert {rule['alert']} has no expr"
                    )
                names.append(str(rule["alert"]))
    return problems, names
