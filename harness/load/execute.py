"""One scenario end to end: run it, read its statistics, judge the targets, write reports."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.load.gate import TARGETS, Exemption, Judgement, exemption, judge
from harness.load.report import write_reports
from harness.load.results import LoadResult
from harness.load.runner import LOCUSTFILE, LoadRun, Progress, run_scenario
from harness.load.scenarios import Scenario

LOAD_USER = "harness-load"


@dataclass(frozen=True)
class LoadOutcome:
    run: LoadRun
    result: LoadResult
    exemption: Exemption
    judgements: dict[str, Judgement]
    reports: dict[str, Path]

    @property
    def scenario(self) -> Scenario:
        return self.run.scenario


def credentials_for(target: Any) -> tuple[str, str] | None:
    """An account for the authenticated calls: created on a target that can (embedded,
    stack), else ``HARNESS_LOAD_USERNAME`` / ``HARNESS_LOAD_PASSWORD`` when set."""
    from harness.targets import Capability

    if Capability.USERS in target.capabilities:
        password = f"Load-{secrets.token_urlsafe(18)}-9"
        username = f"{LOAD_USER}-{secrets.token_hex(3)}"
        target.create_user(username, password)
        return username, password
    given = os.environ.get("HARNESS_LOAD_USERNAME"), os.environ.get("HARNESS_LOAD_PASSWORD")
    return (given[0], given[1]) if given[0] and given[1] else None


def execute(
    scenario: Scenario,
    url: str,
    params: Mapping[str, Any],
    out_dir: Path,
    *,
    facts: Mapping[str, Any] | None = None,
    credentials: tuple[str, str] | None = None,
    workers: int = 0,
    progress: Progress | None = None,
    locustfile: Path = LOCUSTFILE,
) -> LoadOutcome:
    """Run ``scenario`` against ``url`` and judge every performance target on it."""
    exempt = exemption(url, facts or {}, bool(params.get("load_generator_exempt", False)))
    run = run_scenario(
        scenario,
        url,
        out_dir,
        workers=workers,
        credentials=credentials,
        progress=progress,
        remote_workers=int(params.get("load_remote_workers", 0)),
        bind_host=str(params.get("load_master_bind_host", "127.0.0.1")),
        locustfile=locustfile,
    )
    result = LoadResult.from_file(run.result_path, scenario)
    judgements = {rid: judge(rid, result, params, exempt) for rid in TARGETS}
    reports = write_reports(result, list(judgements.values()), exempt, out_dir)
    return LoadOutcome(run, result, exempt, judgements, reports)
