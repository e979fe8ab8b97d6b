"""Deployment Automation > Docker Compose and Maintenance > Backup Strategy, run: the spec's
Compose commands, its manual pg_dump, the repository's backup script and the troubleshooting
steps, on one throwaway Compose project of the repository's own files (started once, the checks
in the order a person would run them; harness/stacks/compose_runtime.py)."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.config import HarnessConfig
from harness.report.evidence import Evidence
from harness.stacks import compose_steps as steps
from harness.stacks.compose import ComposeUnavailable
from harness.stacks.compose_backups import Backups, Restore, archive_members, is_database_dump
from harness.stacks.compose_runtime import ComposeRuntime, RuntimeSettings, Started
from harness.stacks.project_stack import DrillError, ThrowawayProject, drill_env_file, env_pairs
from harness.targets.project import throwaway_compose_files, throwaway_source

requirement = pytest.mark.requirement
pytestmark = [pytest.mark.xdist_group("compose-runtime")]

NEEDS_CONTAINERS = (
    "the Compose runtime checks run the repository's stack on Docker: use --stack containers"
)
# compose_services names the services in this order
ROLES = ("db", "redis", "mlflow", "backend", "frontend", "prometheus", "grafana")
EXITED = re.compile(r"^(Exited|Restarting) \((-?\d+)\)")


@pytest.fixture(scope="module")
def runtime(
    pytestconfig: pytest.Config, harness_config: HarnessConfig, session_params: dict[str, Any]
) -> Iterator[ComposeRuntime]:
    """The repository's stack, started once with ``up -d --wait``; removed with its volumes
    and images at the end. Skipped without the repository, the containers stack or Compose v2."""
    from harness.report.console import say

    params = session_params
    root, example = throwaway_source(
        harness_config.project_root, harness_config.stack, params, NEEDS_CONTAINERS
    )
    env_file = drill_env_file(example, env_pairs(params["drill_env"]))
    settings = RuntimeSettings(
        compose_file=params["compose_file"],
        compose_files=throwaway_compose_files(params),
        roles=dict(zip(ROLES, params["compose_services"], strict=False)),
        backup_script=params["backup_script"], backup_dir=params["backup_dir"],
    )  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="harness-compose-") as workdir:
        try:
            create = ThrowawayProject.create(root, Path(workdir), settings.compose_files, env_file)
            with create as project:
                runtime = ComposeRuntime(project, settings)
                say(pytestconfig, f"compose runtime: docker compose up -d --wait ({project.name})")
                up = runtime.started.up
                say(pytestconfig, f"compose runtime: up exited {up.code} after {up.seconds:.0f}s")
                yield runtime
        except ComposeUnavailable as exc:
            pytest.skip(f"the Compose runtime checks cannot run here: {exc}")
        except DrillError as exc:
            pytest.fail(f"the throwaway Compose project cannot be set up: {exc}")


@pytest.fixture(scope="module")
def backups(runtime: ComposeRuntime) -> Backups:
    return Backups(runtime)


def _running(runtime: ComposeRuntime, evidence: Evidence) -> Started:
    """The started project; a check that needs it fails with the reason when it is not."""
    started = runtime.started
    if not started.up.ok:
        evidence.note("docker compose up -d --wait", started.up.as_dict())
        pytest.fail(f"the stack did not start: `up -d --wait` exited {started.up.code}: "
                    f"{started.up.said()}")  # fmt: skip
    return started


def _same_data(restore: Restore, what: str) -> None:
    assert not restore.error, restore.error
    missing = sorted(set(restore.live) - set(restore.restored))
    assert not missing, f"{what} restored without the tables {', '.join(missing)}"
    differ = {t: f"{rows} restored, {restore.live.get(t)} live"
              for t, rows in restore.restored.items() if restore.live.get(t) != rows}  # fmt: skip
    assert not differ, f"{what} restored other rows than the database holds: {differ}"
    restored, live = restore.digests
    assert restored == live, f"{what} restored the seeded rows with other text than they hold"


@requirement("DEP-COMPOSE-UP")
def test_up_starts_every_service_running_and_healthy(
    runtime: ComposeRuntime, evidence: Evidence, params: dict[str, Any]
) -> None:
    started = runtime.started
    evidence.note("docker compose up -d --wait", started.up.as_dict())
    evidence.note("services started", started.states)
    evidence.note("not started: left out by profiles", started.left_out)
    stand_ins = params["drill_compose_files"].split(":")[1:]
    if started.stand_ins:
        evidence.note(f"local stand-ins from {', '.join(stand_ins)}", started.stand_ins)
    assert started.up.ok, f"`up -d --wait` exited {started.up.code}: {started.up.said()}"
    unwell = started.unwell(started.states)
    assert not unwell, f"after `up -d --wait` these services are not up and healthy: {unwell}"


@requirement("DEP-COMPOSE-POSTGRES")
def test_the_database_health_check_turns_healthy(
    runtime: ComposeRuntime, evidence: Evidence
) -> None:
    started, db = runtime.started, runtime.role("db")
    evidence.note("db state", started.states.get(db, "not created"))
    assert db in started.health_checked, f"the {db} service has no health check"
    assert started.states.get(db) == "running (healthy)", (
        f"the {db} service's health check did not turn healthy: {started.states.get(db)}"
    )


@requirement("OPS-MAINT-HEALTH")
def test_compose_ps_shows_every_service_running_or_healthy(
    runtime: ComposeRuntime, evidence: Evidence
) -> None:
    ps = runtime.ps()
    evidence.note("docker compose ps --all", ps.out.splitlines())
    assert ps.ok, f"`docker compose ps` exited {ps.code}: {ps.said()}"
    unwell = runtime.started.unwell(runtime.project.states())
    assert not unwell, f"`docker compose ps` shows services neither running nor healthy: {unwell}"


# asked from the backend's container (a Python one, as the spec's backend is): the services
# publish nothing here, and the MLflow and Grafana images may hold no HTTP client of their own
HEALTH_PROBE = (
    "import sys, urllib.request; "
    "print(urllib.request.urlopen(sys.argv[1], timeout=10).read(300).decode())"
)


@pytest.mark.parametrize(
    ("role", "port", "path"),
    [
        pytest.param("mlflow", 5000, "/health", marks=requirement("DEP-COMPOSE-MLFLOW")),
        pytest.param("grafana", 3000, "/api/health", marks=requirement("DEP-COMPOSE-GRAFANA")),
    ],
)
def test_the_service_answers_its_health_endpoint_inside_the_project(
    runtime: ComposeRuntime, evidence: Evidence, role: str, port: int, path: str
) -> None:
    started = _running(runtime, evidence)
    service = runtime.role(role)
    url = f"http://{service}:{port}{path}"
    seen = runtime.exec(runtime.role("backend"), "python", "-c", HEALTH_PROBE, url)
    evidence.note(f"GET {url} from the backend's container", seen.as_dict())
    replaced = started.stand_ins.get(service, "")
    if "stand-in" in replaced:  # the matrix says what answered: not the real service
        evidence.note("answered by", replaced)
    assert seen.ok, f"{url} does not answer inside the project: {seen.said()}"


@requirement("DEP-COMPOSE-LOGS")
def test_logs_show_every_service_and_the_backend_startup(
    runtime: ComposeRuntime, evidence: Evidence, params: dict[str, Any]
) -> None:
    started = _running(runtime, evidence)
    evidence.note("GET / through the frontend", started.frontend)
    lines = {service: runtime.logs(service).out.splitlines() for service in started.active}
    evidence.note(
        "last log line per service", {s: (ls or ["(none)"])[-1] for s, ls in lines.items()}
    )
    silent = [service for service, seen in lines.items() if not seen]
    assert not silent, f"`docker compose logs` shows no line of {', '.join(silent)}"
    pattern, backend = params["compose_startup_log"], runtime.role("backend")
    assert any(re.search(pattern, line) for line in lines[backend]), (
        f"the {backend} service's logs have no startup line matching {pattern!r}"
    )


@requirement("DEP-MIGRATE")
def test_alembic_upgrade_head_succeeds_and_a_second_run_changes_nothing(
    runtime: ComposeRuntime, evidence: Evidence
) -> None:
    _running(runtime, evidence)
    first, second = runtime.migrations
    for label, run in (("first", first), ("second", second)):
        evidence.note(f"{label} run", {**run.command.as_dict(), "revision": run.revision})
        assert run.command.ok, (
            f"`alembic upgrade head` ({label} run) exited {run.command.code}: {run.command.said()}"
        )
    assert first.revision, "after `alembic upgrade head` the database has no Alembic revision"
    assert second.revision == first.revision, (
        f"the second run moved the revision from {first.revision} to {second.revision}"
    )
    changed = sorted(set(first.schema) ^ set(second.schema))
    assert not changed, f"the second run changed the schema: {changed[:5]}"


@requirement("OPS-PG-DUMP")
def test_the_spec_pg_dump_writes_a_dump_that_restores(
    runtime: ComposeRuntime, backups: Backups, evidence: Evidence, params: dict[str, Any]
) -> None:
    _running(runtime, evidence)
    evidence.note("rows seeded", backups.seeded)
    dump = backups.spec_pg_dump(params["db_user"], params["db_name"])
    evidence.note("manual backup", dump.as_dict())
    assert dump.ok, f"`{dump.shown}` exited {dump.code}: {dump.said()}"
    data = (runtime.project.root / "backup.sql").read_bytes()
    assert b"\r\n" not in data, (
        f"`{dump.shown}` wrote CRLF line ends: Compose gave pg_dump a terminal (use exec -T)"
    )
    restore = backups.restore(runtime.project.root / "backup.sql", "harness_pg_dump_check")
    evidence.note("restore of backup.sql", restore.as_dict())
    _same_data(restore, "backup.sql")


@requirement("OPS-BACKUP-SCRIPT")
def test_the_backup_script_backs_up_database_configuration_and_volumes(
    runtime: ComposeRuntime, backups: Backups, evidence: Evidence, params: dict[str, Any]
) -> None:
    _running(runtime, evidence)
    run = backups.backup_run
    evidence.note("backup script", {**run.command.as_dict(), "new files": run.new_files})
    assert run.command.ok, f"`{run.command.shown}` exited {run.command.code}: {run.command.said()}"
    folder = params["backup_dir"]
    dumps = [name for name in run.new_files if is_database_dump(name)]
    assert dumps, f"`{run.command.shown}` wrote no database dump in {folder}/"
    compose = Path(params["compose_file"]).name
    archives = [backups.directory() / name for name in run.new_files if ".tar" in name]
    assert any(compose in archive_members(path) for path in archives), (
        f"`{run.command.shown}` wrote no archive of the configuration ({compose}) in {folder}/"
    )
    prefix = f"{runtime.project.name}_"
    data = [v.removeprefix(prefix) for v in run.volumes if v not in run.db_volumes]
    evidence.note("data volumes", data)
    missing = [v for v in data if not any(v in name for name in run.new_files)]
    assert not missing, f"`{run.command.shown}` backed up no volume {', '.join(missing)}"
    restore = backups.restore(backups.directory() / dumps[-1], "harness_backup_check")
    evidence.note("restore of the database backup", restore.as_dict())
    assert not restore.error, restore.error


@requirement("OPS-MAINT-BACKUP-VERIFY")
def test_the_latest_database_backup_restores_with_the_same_tables_and_rows(
    runtime: ComposeRuntime, backups: Backups, evidence: Evidence, params: dict[str, Any]
) -> None:
    _running(runtime, evidence)
    evidence.note("backups made by", backups.backup_run.command.as_dict())
    latest = backups.latest_dump()
    assert latest is not None, f"there is no database backup in {params['backup_dir']}/"
    restore = backups.restore(latest, "harness_verify_check")
    evidence.note("restore of the latest backup", restore.as_dict())
    _same_data(restore, str(latest.relative_to(backups.directory())))


@requirement("DEP-COMPOSE-REDIS")
def test_a_redis_key_survives_a_restart(runtime: ComposeRuntime, evidence: Evidence) -> None:
    _running(runtime, evidence)
    seen = steps.redis_restart(runtime)
    evidence.note("redis-cli SET, compose restart, GET", seen)
    assert seen["restart"]["exit"] == 0, f"`compose restart` failed: {seen['restart']['said']}"
    assert seen["read"] == seen["expected"], (
        f"a key written before `compose restart {runtime.role('redis')}` is gone after it "
        f"(read {seen['read']!r})"
    )


@requirement("OPS-TS-DB-CONNECT")
def test_the_connection_one_liner_tells_a_running_database_from_a_stopped_one(
    runtime: ComposeRuntime, evidence: Evidence, params: dict[str, Any]
) -> None:
    _running(runtime, evidence)
    one_liner = f"from {params['app_package']}.core.database import engine; engine.connect()"
    seen = steps.db_connect(runtime, one_liner)
    evidence.note("the one-liner", one_liner)
    evidence.note("steps", {label: command.as_dict() for label, command in seen.items()})
    up, down = seen["db up"], seen["db stopped"]
    assert up.ok, f"the one-liner exited {up.code} with the database up: {up.said()}"
    assert seen["stop"].ok, f"`compose stop db` failed: {seen['stop'].said()}"
    assert not down.ok, (
        "the one-liner exited 0 with the database stopped: it does not really connect"
    )
    assert seen["start"].ok, f"the database did not start again: {seen['start'].said()}"


@requirement("DEP-COMPOSE-DOWN")
def test_down_removes_the_containers_and_the_data_survives_on_volumes(
    runtime: ComposeRuntime, evidence: Evidence
) -> None:
    _running(runtime, evidence)
    seen = steps.down_and_up(runtime)
    evidence.note("down, then up", seen)
    assert seen["down"]["exit"] == 0, f"`docker compose down` failed: {seen['down']['said']}"
    assert not seen["containers left"], f"`down` left containers {seen['containers left']}"
    gone = sorted(set(seen["volumes before"]) - set(seen["volumes left"]))
    assert not gone, f"`down` removed the volumes {gone}"
    assert seen["up"]["exit"] == 0, f"`up -d --wait` after `down` failed: {seen['up']['said']}"
    dropped = seen["anonymous volumes dropped"]
    hint = f"; it was on anonymous volumes the new containers do not use: {dropped}"
    for store in ("database", "redis"):
        assert seen[store] == seen["expected"], (
            f"data written to the {store} before `down` is gone after the next `up` "
            f"(read {seen[store]!r}){hint if dropped else ''}"
        )


@requirement("DEP-COMPOSE-REBUILD")
def test_up_build_replaces_a_changed_service_with_a_new_image(
    runtime: ComposeRuntime, evidence: Evidence, params: dict[str, Any]
) -> None:
    _running(runtime, evidence)
    changed = params["compose_rebuild_file"]
    seen = steps.rebuild(runtime, changed)
    evidence.note(f"{changed} changed, then up -d --build --wait", seen)
    service = seen["service"]
    assert service, (
        f"no service is built from a context holding {changed}: `up -d --build` cannot "
        "bring its change into a container"
    )
    before, after = seen["before"], seen["after"]
    assert seen["up"]["exit"] == 0, f"`up -d --build --wait` failed: {seen['up']['said']}"
    assert after.get("image") != before.get("image"), (
        f"after a change to {changed}, `up -d --build` left {service} on the same image"
    )
    assert after.get("id") != before.get("id"), f"`up -d --build` did not replace {service}"


@requirement("OPS-TS-START-ERRORS")
def test_a_service_that_cannot_start_says_why_and_shows_as_exited(
    runtime: ComposeRuntime, evidence: Evidence, params: dict[str, Any]
) -> None:
    _running(runtime, evidence)
    broken = env_pairs(params["start_error_env"])
    seen = steps.start_broken(runtime, broken)
    logs = seen["logs"].out
    evidence.note("backend started with", broken)
    evidence.note("docker ps -a", seen["docker ps -a"])
    evidence.note("docker compose logs (last lines)", logs.strip().splitlines()[-5:])
    status = EXITED.match(seen["docker ps -a"])
    shown = f"a backend that cannot start shows as {seen['docker ps -a']!r} in `docker ps -a`"
    assert status, shown
    assert status.group(2) != "0", shown
    unnamed = [name for name in broken if name.lower() not in logs.lower()]
    assert not unnamed, f"`docker compose logs` does not name the broken setting {unnamed}"
