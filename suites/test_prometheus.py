"""Monitoring > Prometheus: the repository's configuration as promtool and the Compose file
judge it (MON-PROM-CONFIG), and a running Prometheus asked through its own API whether it is
ready and whether every target it scrapes is up (MON-PROM-ACCESS, MON-PROM-TARGETS).

The running checks talk to the Prometheus the user names (``prometheus_url`` set anywhere)
or the container stack's own; without either they skip, saying how to provide one."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest

from harness.config import HarnessConfig
from harness.errors import TargetUnreachable
from harness.probes.config_audit_files import read_documents
from harness.probes.prometheus import (
    NEEDS_PROMETHEUS,
    PrometheusApi,
    describe_target,
    job_of,
    prometheus_url,
    unsettled,
)
from harness.probes.prometheus_config import (
    backend_targets,
    job_lines,
    listen_port,
    scrape_job_problems,
)
from harness.probes.promtool import PromtoolMissing, check_config
from harness.report.evidence import Evidence
from harness.targets.base import Target
from harness.targets.configuration import service_name
from harness.targets.project import Project

requirement = pytest.mark.requirement
POLL_S = 2.0


@requirement("MON-PROM-CONFIG")
def test_prometheus_configuration_passes_promtool_and_scrapes_the_backend(
    project: Project, params: dict[str, Any], evidence: Evidence
) -> None:
    relative = params["prometheus_config"]
    config_path = project.file(relative, "prometheus_config")
    try:
        checked = check_config(config_path)
    except PromtoolMissing as exc:
        pytest.skip(str(exc))
    evidence.note(checked.command, list(checked.lines))
    assert checked.ok, f"{checked.command} refuses {relative}: {checked.summary()}"

    documents = read_documents(config_path, relative)
    config = documents[0].body if documents else None
    evidence.note("scrape jobs", job_lines(config))
    backend = service_name(params, "backend")
    port, read_from = _backend_port(project, params, backend)
    evidence.note("backend listens on", f"{port} ({read_from})" if port else read_from)
    problems = scrape_job_problems(
        backend_targets(config, backend), backend, port, params["metrics_path"]
    )
    assert not problems, f"{relative}: {'; '.join(problems)}"


def _backend_port(project: Project, params: dict[str, Any], backend: str) -> tuple[int | None, str]:
    """The port the Compose file's backend listens on, and where that was read."""
    relative = params["compose_file"]
    path = project.path(relative)
    documents = read_documents(path, relative) if path.is_file() else []
    services = (documents[0].body or {}).get("services") if documents else None
    service = services.get(backend) if isinstance(services, dict) else None
    if not isinstance(service, dict):
        return None, f"{relative} has no service {backend}: the port is not compared"
    return listen_port(service)


@pytest.fixture
def prometheus(
    target: Target, params: dict[str, Any], harness_config: HarnessConfig, evidence: Evidence
) -> PrometheusApi:
    """The Prometheus the user named, else the stack's; skips without one."""
    user_set = (
        params["prometheus_url"] if "params.prometheus_url" in harness_config.sources else None
    )
    try:
        stack = target.service_url("prometheus")
    except KeyError:
        stack = None
    url = prometheus_url(user_set, stack)
    if url is None:
        pytest.skip(NEEDS_PROMETHEUS)
    evidence.note("prometheus", f"{url} ({'prometheus_url' if user_set else 'the stack'})")
    return PrometheusApi(url)


@requirement("MON-PROM-ACCESS")
def test_prometheus_answers_and_is_ready(prometheus: PrometheusApi, evidence: Evidence) -> None:
    try:
        ready = prometheus.ready()
    except TargetUnreachable as exc:
        pytest.fail(str(exc), pytrace=False)
    evidence.note("GET /-/ready", "200" if ready else "not 200")
    assert ready, f"Prometheus at {prometheus.url} answers GET /-/ready with no 200: not ready"


def _settled(
    api: PrometheusApi, jobs: list[str], bound_s: float, evidence: Evidence
) -> list[dict[str, Any]]:
    """The active targets once their health says how they are now (``unsettled``), or when
    ``bound_s`` ran out; the wait is in the evidence."""
    began, since = time.monotonic(), time.time()
    while True:
        found = api.targets()
        pending, absent = unsettled(found, jobs, since)
        waited = time.monotonic() - began
        if (not pending and not absent) or waited >= bound_s:
            evidence.note(
                "waited for scrapes",
                f"{waited:.1f} s of at most {bound_s:g} s; {len(pending)} of {len(found)} "
                "targets not scraped since the check began (never, or down before it), "
                f"{len(absent)} of {len(jobs)} jobs without a target",
            )
            return found
        time.sleep(POLL_S)


@requirement("MON-PROM-TARGETS")
def test_every_scrape_target_is_up(
    prometheus: PrometheusApi, params: dict[str, Any], evidence: Evidence
) -> None:
    try:
        bound_s = float(params["prometheus_scrape_wait_s"])
        found = _settled(prometheus, list(params["prometheus_jobs"]), bound_s, evidence)
    except TargetUnreachable as exc:
        pytest.fail(str(exc), pytrace=False)
    evidence.note("targets", [describe_target(t) for t in found])
    jobs = Counter(str(job_of(t)) for t in found)
    evidence.note("targets per job", dict(jobs))
    missing = [job for job in params["prometheus_jobs"] if not jobs[job]]
    down = [describe_target(t) for t in found if t.get("health") != "up"]
    problems = []
    if missing:
        problems.append(f"no active target of job {', '.join(missing)}")
    if down:
        problems.append(f"not up: {'; '.join(down)}")
    assert not problems, f"Prometheus at {prometheus.url}: {' | '.join(problems)}"
