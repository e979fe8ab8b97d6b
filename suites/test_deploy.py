"""Deployment Automation > Deployment Script, proven by drills: the repository's own deploy
script runs on a throwaway Compose project of its own files (harness/stacks/drills.py) through
a good deploy, a version that never turns healthy, a migration that fails half-way, an
interrupted deploy and the deploy after it, while a writer posts through the frontend."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.config import HarnessConfig
from harness.report.evidence import Evidence
from harness.stacks.compose import ComposeUnavailable
from harness.stacks.drills import DeployDrills, DeployRun, DrillRecord, DrillSettings
from harness.stacks.project_stack import DrillError, ThrowawayProject, drill_env_file, env_pairs
from harness.targets.project import throwaway_compose_files, throwaway_source

requirement = pytest.mark.requirement
pytestmark = [pytest.mark.xdist_group("deploy-drills")]

NEEDS_CONTAINERS = "the deploy drills run the deploy script on Docker: use --stack containers"
STAMP = re.compile(r"\d{8}T?\d{4,6}|\d{4}-\d{2}-\d{2}")
# the last run of the chain each requirement reads: a run of fewer requirements stops sooner
LAST_RUN = {
    "DEP-DEPLOY-RUN": "v2",
    "DEP-DEPLOY-BACKUP": "v2",
    "DEP-DEPLOY-HEALTH": "v3",
    "DEP-DEPLOY-ENVIRONMENT": "production",
}
CHAIN = ("v1", "v2", "v3", "v4", "v5", "v6", "production")


def _last_run_needed(session: pytest.Session) -> str:
    needed: set[str] = set()
    for item in session.items:
        if getattr(getattr(item, "module", None), "__name__", "") != __name__:
            continue
        needed |= {str(marker.args[0]) for marker in item.iter_markers("requirement")}
    if needed == {"DEP-DEPLOY-ENVIRONMENT"}:
        return "production-only"
    return max((LAST_RUN.get(rid, "v6") for rid in needed), key=CHAIN.index, default="v6")


@pytest.fixture(scope="module")
def drills(
    request: pytest.FixtureRequest,
    pytestconfig: pytest.Config,
    harness_config: HarnessConfig,
    session_params: dict[str, Any],
) -> Iterator[DrillRecord]:
    """The whole chain, run once for the requirements below; skipped with the reason when the
    repository, the containers stack, Docker or Compose v2 is missing."""
    from harness.report.console import say

    params = session_params
    root, example = throwaway_source(
        harness_config.project_root, harness_config.stack, params, NEEDS_CONTAINERS
    )
    overrides = env_pairs(params["drill_env"])
    env_file = drill_env_file(example, overrides)
    production = drill_env_file(example, {**overrides, "ENVIRONMENT": "production"})
    files = throwaway_compose_files(params)
    settings = DrillSettings(
        script=params["deploy_script"], compose_files=files, env_file=env_file,
        deploy_env=env_pairs(params["drill_deploy_env"]), write_path=params["api_probe_path"],
        write_body=params["drill_write_body"], health_path=params["health_path"],
        backup_dir=params["backup_dir"], production_env_file=production,
    )  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="harness-drill-") as workdir:
        try:
            with ThrowawayProject.create(root, Path(workdir), files, env_file) as project:
                drill = DeployDrills(project, settings, lambda line: say(pytestconfig, line))
                yield drill.run(until=_last_run_needed(request.session))
        except (ComposeUnavailable, DrillError) as exc:
            pytest.skip(f"the deploy drills cannot run here: {exc}")


def _run(record: DrillRecord, label: str, evidence: Evidence) -> DeployRun:
    run = record.runs.get(label)
    first = record.runs.get("v1")
    if run is None and first is not None and first.code != 0 and label != "production":
        # nothing after a failed first deploy can be judged: that failure is DEP-DEPLOY-RUN's
        evidence.blocked_by("DEP-DEPLOY-RUN", f"the first deploy exited {first.code}")
    if run is None:
        pytest.fail(f"the drill chain stopped before {label}: {record.broken or 'no run'}")
    evidence.note(f"drill {label}", run.as_dict())
    return run


def _no_write_lost(run: DeployRun) -> None:
    assert run.writes is not None
    assert not run.serving, (
        f"after {run.label} nothing serves, writes cannot be looked up: {run.serving}"
    )
    assert not run.writes.lost, (
        f"{len(run.writes.lost)} writes acknowledged during {run.label} are gone "
        f"(ids {', '.join(run.writes.lost[:5])}): {run.writes.summary()}"
    )
    assert run.writes.acknowledged, f"no write was acknowledged during {run.label}"


def _rolled_back(record: DrillRecord, label: str, evidence: Evidence) -> None:
    run = _run(record, label, evidence)
    good = record.runs["v2"]
    assert run.code not in (0, None), f"the deploy of a broken {label} exited {run.code}"
    assert run.backend_image == good.backend_image, (
        f"after the failed {label} the backend runs {run.backend_image}, "
        f"not the previous {good.backend_image}"
    )
    assert not run.serving, f"after the rollback of {label}: {run.serving}"
    assert run.revision == good.revision, (
        f"after the rollback of {label} the schema is at revision {run.revision!r}, "
        f"not the previous {good.revision!r}"
    )
    leftover = [t for t in run.tables if t.startswith("harness_drill_") and t not in good.tables]
    assert not leftover, f"the rollback of {label} left the new schema's tables {leftover}"
    _no_write_lost(run)


@requirement("DEP-DEPLOY-RUN")
def test_deploy_runs_unattended_and_every_service_serves(
    drills: DrillRecord, evidence: Evidence
) -> None:
    for label in ("v1", "v2"):
        run = _run(drills, label, evidence)
        assert run.code == 0, f"the deploy of {label} exited {run.code}: {run.output[-500:]}"
        assert not run.serving, f"after the deploy of {label}: {run.serving}"


@requirement("DEP-DEPLOY-BACKUP")
def test_deploy_backs_up_before_it_replaces_a_container(
    drills: DrillRecord, evidence: Evidence, params: dict[str, Any]
) -> None:
    run = _run(drills, "v2", evidence)
    dumps = [name for name in run.new_files if not name.endswith((".sha256", ".tar.gz", ".tgz"))]
    evidence.note("new backup files", run.new_files)
    assert dumps, f"the deploy of v2 wrote no database backup in {params['backup_dir']}/"
    backup = run.backup
    assert "error" not in backup, backup.get("error")
    assert run.backend_created is not None, "no backend container runs after the deploy of v2"
    assert backup["written"] <= run.backend_created + 1, (
        f"the backup {backup['file']} was written after the new backend container was created"
    )


@requirement("DEP-DEPLOY-BACKUP")
def test_the_deploy_backup_restores_with_the_same_tables_and_rows(
    drills: DrillRecord, evidence: Evidence
) -> None:
    run = _run(drills, "v2", evidence)
    backup = run.backup
    evidence.note("backup restore", backup)
    assert "error" not in backup, backup.get("error")
    assert backup.get("sha256_ok", True), f"{backup['file']} does not match its .sha256"
    restored, live = backup["restored"], backup["live"]
    # the backup is of v1's schema: the tables v2's migration added are not in it
    added = {t for t in live if t.startswith("harness_drill_") or t == "alembic_version"}
    missing = sorted(set(live) - set(restored) - added)
    assert not missing, f"the restored backup has no table {', '.join(missing)}"
    for table, rows in restored.items():
        assert table in live, f"the restored backup has a table {table} the database has not"
        # the writer's rows may only have grown since the backup; no table may have shrunk
        assert rows <= live[table], f"{table}: {rows} rows restored, {live[table]} live"
    assert sum(restored.values()) > 0, "the restored backup holds no rows at all"


@requirement("DEP-DEPLOY-HEALTH")
def test_deploy_waits_for_health_and_reports_a_version_that_never_turns_healthy(
    drills: DrillRecord, evidence: Evidence
) -> None:
    run = _run(drills, "v3", evidence)
    assert run.code not in (0, None), f"a version that never serves was deployed (exit {run.code})"
    assert "health" in run.output.lower(), (
        "the failed deploy's output does not name the health check"
    )


@requirement("DEP-DEPLOY-ROLLBACK")
def test_unhealthy_version_is_rolled_back_with_schema_and_data(
    drills: DrillRecord, evidence: Evidence
) -> None:
    _rolled_back(drills, "v3", evidence)


@requirement("DEP-DEPLOY-ROLLBACK")
def test_half_failed_migration_is_rolled_back_with_schema_and_data(
    drills: DrillRecord, evidence: Evidence
) -> None:
    _rolled_back(drills, "v4", evidence)


@requirement("DEP-DEPLOY-ROLLBACK")
def test_interrupted_deploy_leaves_the_previous_version_and_the_next_deploy_succeeds(
    drills: DrillRecord, evidence: Evidence
) -> None:
    _rolled_back(drills, "v5", evidence)
    after = _run(drills, "v6", evidence)
    assert after.code == 0, f"the deploy after the interrupted one exited {after.code}"
    _no_write_lost(after)


@requirement("DEP-DEPLOY-MIGRATIONS")
def test_deploy_brings_the_schema_to_the_new_head(drills: DrillRecord, evidence: Evidence) -> None:
    for label in ("v2", "v6"):
        run = _run(drills, label, evidence)
        revision = drills.revisions[label]
        assert run.revision == revision, (
            f"after the deploy of {label} the schema is at {run.revision!r}, "
            f"not its head {revision!r}"
        )


@requirement("DEP-DEPLOY-CLEANUP")
def test_only_the_running_and_the_rollback_images_are_left(
    drills: DrillRecord, evidence: Evidence, params: dict[str, Any]
) -> None:
    running = _run(drills, "v6", evidence).backend_image
    rollback = _run(drills, "v2", evidence).backend_image
    evidence.note("backend images left", drills.images_left)
    assert running in drills.images_left, f"the running image {running} was removed"
    assert rollback in drills.images_left, f"the rollback image {rollback} was removed"
    keep = params["deploy_keep_images"]
    assert len(drills.images_left) <= keep, (
        f"{len(drills.images_left)} backend images are left, more than {keep}: {drills.images_left}"
    )


@requirement("OPS-BACKUP-CONFIG")
def test_each_deploy_saves_a_timestamped_copy_of_the_configuration(
    drills: DrillRecord, evidence: Evidence
) -> None:
    for label in ("v2", "v6"):
        run = _run(drills, label, evidence)
        copies = [
            n for n in run.new_files if n.endswith((".tar.gz", ".tgz", ".tar")) and STAMP.search(n)
        ]
        assert copies, (
            f"the deploy of {label} saved no timestamped configuration archive: {run.new_files}"
        )


@requirement("DEP-DEPLOY-ROLLBACK")
def test_no_write_acknowledged_in_the_whole_chain_is_lost(
    drills: DrillRecord, evidence: Evidence
) -> None:
    _run(drills, "v6", evidence)
    downtime = {label: run.writes.downtime_s for label, run in drills.runs.items() if run.writes}
    evidence.note("downtime seen by the writer (s)", downtime)
    assert not drills.lost_at_end, f"{len(drills.lost_at_end)} acknowledged writes are gone"


@requirement("DEP-DEPLOY-ENVIRONMENT")
def test_environment_production_deploys_with_the_production_env_file(
    drills: DrillRecord, evidence: Evidence
) -> None:
    run = _run(drills, "production", evidence)
    assert run.code == 0, f"ENVIRONMENT=production deploy exited {run.code}: {run.output[-500:]}"
    assert "production" in run.output, "the deploy's log does not name the environment"
    env = run.backend_env
    assert env.get("ENVIRONMENT") == "production", (
        f"the backend runs with ENVIRONMENT={env.get('ENVIRONMENT')!r}, not production"
    )
    # the drill's .env and .env.production hold different random secrets: the backend must
    # carry the production file's, never the development file's
    development = _env_values(drills.env_files[".env"])
    production = _env_values(drills.env_files[".env.production"])
    differing = [k for k in production if k in development and production[k] != development[k]]
    reached = [k for k in differing if k in env]
    evidence.note("settings of .env.production seen in the backend", reached)
    assert reached, "no setting that differs in .env.production reaches the backend container"
    wrong = [k for k in reached if env[k] != production[k]]
    assert not wrong, f"the backend runs with .env's {', '.join(wrong)}, not .env.production's"
    assert not run.serving, f"after the production deploy: {run.serving}"


def _env_values(text: str) -> dict[str, str]:
    pairs = (line.partition("=") for line in text.splitlines() if not line.startswith("#"))
    return {key.strip(): value for key, sep, value in pairs if sep}
