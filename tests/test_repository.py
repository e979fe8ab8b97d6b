"""The repository target: ``--project-root`` as a setting, its skip reason, the reference tree
passing every repository check and each project mutant failing its requirement."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from harness.cli_audit import AUDIT_PREFIX
from harness.config import load_config
from harness.errors import ConfigError
from harness.probes.grafana_checks import GRAFANA_FILE_REQUIREMENTS
from harness.probes.k8s import K8S_REQUIREMENTS
from harness.probes.workflow import CI_REQUIREMENTS
from harness.report.summary import cause_of
from harness.spec import load_catalogue
from harness.targets.project import NEEDS_PROJECT, MissingProjectFile, Project
from reference_app.project_mutants import PROJECT, PROJECT_MUTANTS, write_project_mutant
from reference_app.project_mutants_audit import write_production_env
from reference_app.project_mutants_compose import COMPOSE_MUTANTS
from reference_app.project_mutants_deploy import DEPLOY_MUTANTS
from tests.conftest import REPO, SUITES, SuiteRun, harness
from tests.verdicts import assert_killed

# the requirements suites/test_repository_ops.py and test_compose_files.py check by their
# files (their running-system checks, where there are any, live elsewhere)
OPS_FILE_IDS = (
    "DEP-BACKEND-MULTISTAGE",
    "DEP-BACKEND-PRODUCTION",
    "DEP-FRONTEND-MULTISTAGE",
    "DEP-FRONTEND-PROXY",
    "DEP-COMPOSE-POSTGRES",
    "DEP-COMPOSE-REDIS",
    "DEP-COMPOSE-BACKEND",
    "DEP-COMPOSE-FRONTEND",
    "DEP-COMPOSE-PROMETHEUS",
    "DEP-COMPOSE-GRAFANA",
    "DEP-COMPOSE-MLFLOW",
    "DEP-DEPLOY-SCRIPT",
    "OPS-BACKUP-DAILY",
    "OPS-LOG-RETENTION",
)
# of those, the ones a check of the running system (the embedded app's frontend) judges too
LIVE_TOO = ("DEP-FRONTEND-PROXY", "CFG-CHECK-ADMIN-2FA")
# the operations settings suites/test_operations_files.py reads from the repository's files
OPS_SETTINGS_IDS = (
    "OPS-MAINT-LOAD-TESTS",
    "OPS-MAINT-PERF-REVIEW",
    "OPS-MAINT-ACCESS-LOGS",
    "OPS-SLOW-QUERY-LOG",
    "OPS-WORKERS",
    "OPS-TS-WORKERS",
)
# the Security Checklist read from the deployment's configuration (suites/test_config_audit*.py,
# `harness audit-config`)
AUDIT_IDS = tuple(rid for rid in load_catalogue().requirements if rid.startswith(AUDIT_PREFIX))
DOC_IDS = tuple(rid for rid in load_catalogue().requirements if rid.startswith("DOC-"))
# the requirements suites/test_repository.py and test_repository_ci.py check
REPOSITORY_IDS = (
    "LOAD-LOCUSTFILE",
    "LOAD-CONFIG",
    "LOAD-README",
    "DEP-ENV-EXAMPLE",
    "DEP-PREREQ-PYTHON",
    "DEP-PREREQ-NODE",
    "DEP-COMPOSE-VALID",
    *CI_REQUIREMENTS,
    *K8S_REQUIREMENTS,
    *OPS_FILE_IDS,
    *OPS_SETTINGS_IDS,
    *AUDIT_IDS,
    *GRAFANA_FILE_REQUIREMENTS,
    "INP-MODULE",  # the spec's input_validation module, imported from the repository
    "MON-PROM-CONFIG",  # promtool and the backend's scrape job (suites/test_prometheus.py)
    *DOC_IDS,  # the MkDocs project in docs/ (suites/test_documentation.py)
)


# the suites that run the repository on Docker: they judge some of the same requirements on
# a throwaway Compose project (tests/stacks/), not from the files these tests are about
ON_DOCKER = ("test_compose_runtime.py", "test_deploy.py", "test_quickstart.py")
# checks of the same requirements that need the running stack's Prometheus, judged there
# (tests/stacks/test_dashboards_stack.py)
ON_PROMETHEUS = (
    "test_dashboards.py::test_every_panel_returns_data_after_known_traffic",
    "test_dashboards.py::test_datasource_health_test_passes",
)


def _only(ids: tuple[str, ...] = REPOSITORY_IDS) -> list[str]:
    ignored = [f"--ignore={SUITES / name}" for name in ON_DOCKER]
    # pytest matches a node id as it names it: relative to the rootdir
    ignored += [f"--deselect={SUITES.relative_to(REPO) / node}" for node in ON_PROMETHEUS]
    return [*ignored, *(f"--requirement={rid}" for rid in ids)]


def test_project_root_follows_the_precedence_of_settings(tmp_path: Path) -> None:
    for name in ("toml", "env", "cli"):
        (tmp_path / name).mkdir()
    (tmp_path / "harness.toml").write_text("project_root = 'toml'\n")
    config = load_config(env={}, project_dir=tmp_path)
    assert config.project_root == tmp_path / "toml"
    assert config.params["project_root"] == str(tmp_path / "toml")
    env = {"HARNESS_PROJECT_ROOT": "env"}
    assert load_config(env=env, project_dir=tmp_path).project_root == tmp_path / "env"
    config = load_config(cli={"project_root": "cli"}, env=env, project_dir=tmp_path)
    assert (config.project_root, config.sources["project_root"]) == (
        tmp_path / "cli",
        "command line",
    )


def test_no_project_root_by_default(tmp_path: Path) -> None:
    config = load_config(env={}, project_dir=tmp_path)
    assert config.project_root is None
    assert config.params["project_root"] is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("missing", r"^command line: project root 'missing' does not exist; pass --project-root"),
        ("a-file", r"^command line: project root 'a-file' is not a directory; pass --project-"),
    ],
)
def test_a_project_root_that_is_no_directory_is_one_line(
    tmp_path: Path, value: str, message: str
) -> None:
    (tmp_path / "a-file").write_text("")
    with pytest.raises(ConfigError, match=message) as info:
        load_config(cli={"project_root": value}, env={}, project_dir=tmp_path)
    assert "\n" not in str(info.value)


def test_project_root_is_a_setting_not_a_parameter(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a parameter: use --project-root DIR"):
        load_config(cli={"params": {"project_root": str(tmp_path)}}, env={}, project_dir=tmp_path)


@pytest.mark.parametrize("bad", ["--project-root=nowhere", "--project-root=pyproject.toml"])
def test_gate_refuses_a_bad_project_root_before_any_check(bad: str, tmp_path: Path) -> None:
    result = harness("gate", bad, f"--report-dir={tmp_path}", cwd=REPO, timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "project root" in lines[0]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "matrix.json").exists()


def test_project_paths_stay_inside_the_repository() -> None:
    project = Project(PROJECT)
    assert project.file("docker-compose.yml") == PROJECT / "docker-compose.yml"
    with pytest.raises(MissingProjectFile, match="outside the repository"):
        project.path("../app.py")
    with pytest.raises(MissingProjectFile, match=r"set --param env_example=PATH"):
        project.file("nope.env", "env_example")
    assert project.directory("backend/tests/load") == PROJECT / "backend/tests/load"


def test_the_skip_reason_is_grouped_with_its_remedy() -> None:
    assert cause_of(NEEDS_PROJECT) == ("needs the deployment's repository", "--project-root DIR")


def test_without_a_project_root_repository_checks_skip_and_the_gate_is_incomplete(
    run_suites: Callable[..., SuiteRun],
) -> None:
    run = run_suites(*_only())
    assert run.matrix is not None, run.output
    assert run.matrix["headline"] == "INCOMPLETE", run.output
    for rid in REPOSITORY_IDS:
        entry = run.entry(rid)
        # a requirement also checked on the running system (DEP-FRONTEND-PROXY, where the
        # embedded app has its nginx frontend) is partial
        passed = [check for check in entry["checks"] if check["outcome"] == "passed"]
        assert not passed or rid in LIVE_TOO, (rid, entry)
        assert entry["verdict"] == ("partial" if passed else "skipped"), (rid, entry)
        assert NEEDS_PROJECT in entry["skip_reasons"], (rid, entry)


def test_the_reference_tree_passes_every_repository_check(
    run_suites: Callable[..., SuiteRun], tmp_path: Path
) -> None:
    # the production env file, as the repository writes it at deploy time
    env_file = write_production_env(PROJECT, tmp_path / "production.env")
    run = run_suites(f"--project-root={PROJECT}", f"--param=audit_env_file={env_file}", *_only())
    verdicts = {rid: run.verdict(rid) for rid in REPOSITORY_IDS}
    assert set(verdicts.values()) == {"passed"}, f"{verdicts}\n{run.output}"
    entry = run.entry("LOAD-LOCUSTFILE")
    assert entry["applied"]["project_root"] == str(PROJECT)
    notes = {note["label"]: note["value"] for note in entry["evidence"]}
    assert notes["user classes"] == ["ApiUser"], entry


# judged by the deploy drills on Docker: tests/stacks/test_deploy_drills.py
FILE_MUTANTS = sorted(set(PROJECT_MUTANTS) - set(DEPLOY_MUTANTS))
# judged by the Compose runtime checks on Docker: tests/stacks/test_compose_runtime.py
FILE_MUTANTS = sorted(set(FILE_MUTANTS) - set(COMPOSE_MUTANTS))


def test_every_repository_requirement_has_a_project_mutant() -> None:
    broken = {rid for name in FILE_MUTANTS for rid in PROJECT_MUTANTS[name].breaks}
    assert broken == set(REPOSITORY_IDS)


@pytest.mark.parametrize("name", FILE_MUTANTS)
def test_project_mutant_fails_its_requirements(
    name: str, tmp_path: Path, run_suites: Callable[..., SuiteRun]
) -> None:
    mutant = write_project_mutant(name, tmp_path / "repo")
    run = run_suites(f"--project-root={tmp_path / 'repo'}", *_only(mutant.breaks))
    assert_killed(run, name, mutant.description, mutant.breaks)


def test_a_project_mutant_never_overwrites(tmp_path: Path) -> None:
    with pytest.raises(FileExistsError):
        write_project_mutant("frontend-node-16", tmp_path)
