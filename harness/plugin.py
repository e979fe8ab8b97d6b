"""The pytest plugin: options, the ``requirement`` marker, fixtures and the matrix hooks."""

from __future__ import annotations

import json
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from harness.config import HarnessConfig, load_config
from harness.errors import HarnessError, UnexpectedAnswer
from harness.options import add_pytest_options, settings_from
from harness.spec import Catalogue, CatalogueError, load_catalogue

if TYPE_CHECKING:  # the heavy machinery is imported lazily, by the fixtures that use it
    import httpx

    from harness.probes.discovery import Discovery
    from harness.report.evidence import AppliedParams, Evidence
    from harness.targets.base import Target
    from harness.targets.project import Project

CONFIG_KEY = pytest.StashKey[HarnessConfig]()
CATALOGUE_KEY = pytest.StashKey[Catalogue]()
REQUIREMENTS_KEY = pytest.StashKey[tuple[str, ...]]()
EVIDENCE_KEY = pytest.StashKey["Evidence"]()
TARGET_INFO_KEY = pytest.StashKey[dict[str, Any]]()
DISCOVERY_KEY = pytest.StashKey[dict[str, Any]]()
STACK_SESSION_KEY = pytest.StashKey[Any]()
WORKER_STACK = "harness_stack"  # key of the controller's stack description in workerinput


def pytest_addoption(parser: pytest.Parser) -> None:
    add_pytest_options(parser.getgroup("harness", "production-readiness harness"))


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "requirement(*ids): the requirement ids (harness/spec/requirements.yaml) "
        "this check verifies",
    )
    config.addinivalue_line("markers", "nightly: long-running check, run by the nightly job")
    config.addinivalue_line(
        "markers",
        "needs_path(*params): the path parameters (api_probe_path, ...) the check probes; "
        "skipped, naming the parameter to set, when the target has no such route",
    )
    config.addinivalue_line(
        "markers",
        "load: runs load scenarios (with --load-profile full they also carry `nightly`)",
    )
    config.addinivalue_line(
        "markers",
        "disruptive: stops or restarts services of the shared stack; never runs alongside "
        "other checks",
    )
    try:
        catalogue = load_catalogue()
        opt = config.option
        config_file = getattr(opt, "harness_config", None)
        harness_config = load_config(
            cli=settings_from(vars(opt), "pytest"),
            project_dir=config.invocation_params.dir,
            config_file=Path(config_file) if config_file else None,
            catalogue=catalogue,
        )
    except (HarnessError, CatalogueError) as exc:
        raise pytest.UsageError(str(exc)) from None
    # here, before xdist starts its workers: a usage error raised in a worker is an INTERNALERROR
    unknown = sorted(set(config.option.harness_requirements or ()) - set(catalogue.requirements))
    if unknown:
        raise pytest.UsageError(f"--requirement: unknown id(s) {', '.join(unknown)}")
    if not harness_config.report_dir.is_absolute():
        harness_config = _with_report_dir(harness_config, config.invocation_params.dir)
    config.stash[CATALOGUE_KEY] = catalogue
    config.stash[CONFIG_KEY] = harness_config
    from harness.report.redaction import register_params

    register_params(harness_config.params)  # credentials given as parameters never show
    from harness.report.allure import register_extras

    register_extras(config, catalogue)  # Allure labels/evidence, requirement ids in JUnit XML
    if not _is_worker(config):
        from harness.report import MatrixBuilder

        builder = MatrixBuilder(
            catalogue,
            harness_config.profile,
            harness_config.params,
            harness_config.waivers,
            attestations=harness_config.attestations,
            selected=getattr(config.option, "harness_requirements", None) or (),
        )
        config.pluginmanager.register(_MatrixRecorder(config, builder), "harness-matrix")
        if harness_config.stack == "containers":
            from harness.stacks.session import StackSession

            stack_session = StackSession(harness_config)
            config.stash[STACK_SESSION_KEY] = stack_session
            config.pluginmanager.register(_StackHooks(stack_session), "harness-stack")


def _with_report_dir(harness_config: HarnessConfig, base: Path) -> HarnessConfig:
    from dataclasses import replace

    return replace(harness_config, report_dir=base / harness_config.report_dir)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    harness_config = session.config.stash[CONFIG_KEY]
    if harness_config.stack == "url" and not _is_worker(session.config):
        from harness.targets.url import check_reachable

        assert harness_config.target_url is not None
        try:
            check_reachable(harness_config.target_url)
        except HarnessError as exc:
            raise pytest.UsageError(str(exc)) from None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    catalogue = config.stash[CATALOGUE_KEY]
    wanted = set(config.option.harness_requirements or ())
    for item in items:
        ids: list[str] = []
        for marker in item.iter_markers("requirement"):
            if not marker.args:
                raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.requirement needs an id")
            for rid in marker.args:
                if rid not in catalogue:
                    raise pytest.UsageError(
                        f"{item.nodeid}: unknown requirement id {rid!r}; "
                        "ids are listed by `harness requirements`"
                    )
                ids.append(rid)
        if ids:
            item.stash[REQUIREMENTS_KEY] = tuple(dict.fromkeys(ids))
    if config.stash[CONFIG_KEY].load_profile == "full":
        for item in items:
            if item.get_closest_marker("load") is not None:
                item.add_marker(pytest.mark.nightly)  # the spec's durations: up to an hour
    if wanted:
        keep = [item for item in items if wanted.intersection(_ids_of(item))]
        deselected = [item for item in items if item not in keep]
        if deselected:
            config.hook.pytest_deselected(items=deselected)
            items[:] = keep


def _ids_of(item: pytest.Item) -> tuple[str, ...]:
    return item.stash.get(REQUIREMENTS_KEY, ())


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    ids = item.stash.get(REQUIREMENTS_KEY, ())
    if not ids:
        return
    config = item.config.stash[CONFIG_KEY]
    catalogue = item.config.stash[CATALOGUE_KEY]
    if not any(catalogue[rid].applies_to(config.profile) for rid in ids):
        pytest.skip(f"not applicable to profile {config.profile}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    from harness.report.redaction import redact_value

    ids = item.stash.get(REQUIREMENTS_KEY, ())
    if ids:
        evidence = item.stash.get(EVIDENCE_KEY, None)
        props: dict[str, Any] = {"requirements": list(ids)}
        if evidence is not None and call.when == "call":
            props["evidence"] = evidence.to_json()
            props["applied"] = evidence.applied_params
            if evidence.scale is not None:
                props["scaled"] = evidence.scale
            if evidence.blocker is not None:
                props.update(outcome="blocked", **evidence.blocker)
        # a fixture may find that nothing here is to judge, before the check runs
        if evidence is not None and evidence.inapplicable is not None and report.skipped:
            props.update(outcome="not_applicable", message=evidence.inapplicable)
            props["evidence"] = evidence.to_json()
        if report.failed and call.excinfo is not None:
            props.update(_classify(call.when, call.excinfo.value))
        info = item.config.stash.get(TARGET_INFO_KEY, None)
        if info is not None:
            props["target"] = info
        found = item.config.stash.get(DISCOVERY_KEY, None)
        if found is not None:
            props["discovery"] = found
        # xdist ships user properties to the controller: keep them plain JSON values
        plain = json.loads(json.dumps(props, default=str))
        report.user_properties.append(("harness", redact_value(plain)))
    _redact_report(report)
    return report


def _redact_report(report: pytest.TestReport) -> None:
    """Secrets out of what pytest prints (its log) and ships to the xdist controller: the
    failure's representation (masked in place, so its one-line message stays) and the
    captured output."""
    from harness.report.redaction import redact_fields, redact_text

    if isinstance(report.longrepr, str | tuple):
        report.longrepr = redact_fields(report.longrepr)
    elif report.longrepr is not None:
        redact_fields(report.longrepr)
    report.sections = [(title, redact_text(body)) for title, body in report.sections]


def _classify(phase: str, exc: BaseException) -> dict[str, str]:
    """A failed phase is ``failed`` only when the check's own assertion (or ``pytest.fail``)
    said so; a fixture error, a crash or an answer the check cannot judge is ``error``."""
    if isinstance(exc, UnexpectedAnswer):
        return {"outcome": "error", "message": str(exc)}
    if phase == "call" and isinstance(exc, AssertionError | pytest.fail.Exception):
        return {}
    first = next((line for line in str(exc).splitlines() if line.strip()), "")
    what = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    where = "crashed" if phase == "call" else f"fixture error in {phase}"
    return {"outcome": "error", "message": f"{where}: {what}"[:500]}


class _StackHooks:
    """In the controller only: one container stack for the whole run, xdist workers included."""

    def __init__(self, stack_session: Any) -> None:
        self.stack_session = stack_session

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        try:
            self.stack_session.prepare()
        except HarnessError as exc:
            raise pytest.UsageError(str(exc)) from None

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput[WORKER_STACK] = self.stack_session.ensure_started()

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self.stack_session.close()

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self.stack_session.close()  # also when the session never fully started

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        from harness.report.console import say

        for line in self.stack_session.summary():
            say(terminalreporter.config, line)  # on the gate's console, not only in its log


class _MatrixRecorder:
    """In the controller only: folds every report, xdist workers' too, into one matrix."""

    def __init__(self, config: pytest.Config, builder: Any) -> None:
        self.config = config
        self.builder = builder
        self.written: tuple[dict[str, Any], list[Path]] | None = None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.builder.add(report)

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        from harness.report.selection import marked_ids

        self.builder.left_out |= marked_ids(items)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if not self.builder.checks:
            return  # a run without compliance checks (e.g. unit tests) writes no matrix
        from harness.report import write_reports
        from harness.report.selection import ids_in_files, ignored_paths

        base = self.config.invocation_params.dir
        ignored = ignored_paths(self.config.option, base)
        self.builder.left_out |= ids_in_files(ignored, self.builder.catalogue.requirements)
        harness_config = self.config.stash[CONFIG_KEY]
        fallback = {"kind": harness_config.stack, "url": harness_config.target_url}
        from harness.report.redaction import redact_value

        matrix = redact_value(self.builder.build(target=fallback))
        from harness.report.console import say
        from harness.report.history import record_run

        history_dir = harness_config.report_dir / "history"
        matrix["history"] = record_run(matrix, history_dir, lambda line: say(self.config, line))
        self.written = (matrix, write_reports(matrix, harness_config.report_dir))

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.written is None:
            return
        matrix, paths = self.written
        from harness.report.verdicts import counts_line

        terminalreporter.write_sep("-", f"compliance matrix: {matrix['headline']}")
        terminalreporter.write_line(
            f"{counts_line(matrix['summary'])} requirements; written to {paths[0]}"
        )
        if matrix.get("discovery"):
            from harness.probes.discovery import lines
            from harness.report.console import say

            say(self.config, "discovered on the target:")
            for line in lines(matrix["discovery"]):
                say(self.config, f"  {line}")


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def harness_config(pytestconfig: pytest.Config) -> HarnessConfig:
    """The resolved harness configuration (profile, target, parameters)."""
    return pytestconfig.stash[CONFIG_KEY]


@pytest.fixture(scope="session")
def session_params(harness_config: HarnessConfig) -> dict[str, Any]:
    """Requirement parameters with the deployment's overrides, for session-wide fixtures;
    a check reads ``params``, which records what it applied."""
    return dict(harness_config.params)


@pytest.fixture
def params(
    request: pytest.FixtureRequest, harness_config: HarnessConfig, evidence: Evidence
) -> AppliedParams:
    """Requirement parameters with the deployment's overrides and, where the user set none,
    the values the target states of itself (``Target.facts``, e.g. a shorter rate-limit
    window); every value the check reads is recorded as applied in its matrix row."""
    from harness.report.evidence import AppliedParams

    values = dict(harness_config.params)
    if "target" in request.fixturenames:  # facts describe the target the check talks to
        from harness.targets.deployment import with_facts

        facts = request.getfixturevalue("target").facts
        values = with_facts(values, facts, harness_config.sources)
    return AppliedParams(values, evidence)


@pytest.fixture(scope="session")
def target(pytestconfig: pytest.Config, harness_config: HarnessConfig) -> Iterator[Target]:
    """The system under test; started here when the harness runs it itself."""
    from harness.targets.factory import open_target

    stack: dict[str, Any] | None = None
    if harness_config.stack == "containers":
        if _is_worker(pytestconfig):
            workerinput: dict[str, Any] = getattr(pytestconfig, "workerinput", {})
            stack = workerinput.get(WORKER_STACK) or {"error": "no stack from the controller"}
        else:
            stack = pytestconfig.stash[STACK_SESSION_KEY].ensure_started()
    with open_target(harness_config, stack=stack) as opened:
        pytestconfig.stash[TARGET_INFO_KEY] = opened.describe()
        yield opened


@pytest.fixture
def project(harness_config: HarnessConfig, params: AppliedParams) -> Project:
    """The deployment's repository (``--project-root``), its root recorded as applied in the
    check's row; a check that reads its files skips without it, naming the option. (A
    session-wide fixture reads ``harness_config.project_root``.)"""
    from harness.targets.project import NEEDS_PROJECT, Project

    if harness_config.project_root is None:
        pytest.skip(NEEDS_PROJECT)
    params["project_root"]  # reading it records it as applied
    return Project(harness_config.project_root)


@pytest.fixture(scope="session")
def discovery(
    pytestconfig: pytest.Config, target: Target, session_params: dict[str, Any]
) -> Discovery:
    """What the target offers (which probe paths exist, pages, cookies, HTTPS), asked once;
    checks skip on a path the target does not have instead of judging its 404."""
    from harness.probes.discovery import PATH_PARAMS, discover
    from harness.probes.http import client_for
    from harness.probes.response_kinds import local_address
    from harness.targets.base import Capability

    paths = {name: session_params[name] for name in PATH_PARAMS if session_params.get(name)}
    surfaces = (target.service_url("frontend"),) if target.has(Capability.FRONTEND) else ()
    with client_for(target.url, local_address=local_address(target.url, "127.0.4.30")) as client:
        found = discover(client, paths, surfaces=surfaces)
    pytestconfig.stash[DISCOVERY_KEY] = found.to_json()
    return found


@pytest.fixture(autouse=True)
def _harness_needs_path(request: pytest.FixtureRequest) -> None:
    """A check marked ``needs_path`` never judges a 404: it skips when discovery found none of
    the route, and says which parameter to set."""
    params = [p for marker in request.node.iter_markers("needs_path") for p in marker.args]
    if not params:
        return
    found: Discovery = request.getfixturevalue("discovery")
    for param in dict.fromkeys(params):
        why = found.missing(param)
        if why is not None:
            pytest.skip(why)


@pytest.fixture(autouse=True)
def _harness_stack_lock(request: pytest.FixtureRequest, harness_config: HarnessConfig) -> Any:
    """On a shared container stack: checks hold a shared lock, ``disruptive`` ones (which stop
    services) an exclusive one, so no check sees another's outage under xdist."""
    if harness_config.stack != "containers" or "target" not in request.fixturenames:
        yield
        return
    from harness.stacks.lock import StackLock

    target = request.getfixturevalue("target")
    lock = StackLock(Path(target.info.lock_file))
    disruptive = request.node.get_closest_marker("disruptive") is not None
    with lock.exclusive() if disruptive else lock.shared():
        yield


@pytest.fixture
def evidence(request: pytest.FixtureRequest) -> Evidence:
    """Record notes and HTTP exchanges into this check's matrix evidence."""
    from harness.report.evidence import Evidence

    stash: pytest.Stash = request.node.stash
    if EVIDENCE_KEY not in stash:
        stash[EVIDENCE_KEY] = Evidence()
    return stash[EVIDENCE_KEY]


@pytest.fixture
def http(target: Target, evidence: Evidence) -> Iterator[httpx.Client]:
    """An httpx client bound to the target; every exchange lands in the evidence.

    On a target that sees client addresses each check sends from a loopback address of its
    own, so it has its own rate-limit budget; a 429 is repeated after its Retry-After."""
    from harness.probes.http import client_for, next_loopback_address
    from harness.targets.base import Capability

    local = next_loopback_address() if target.has(Capability.CLIENT_ADDRESSES) else None
    with client_for(
        target.url, on_response=evidence.exchange, local_address=local, retry_429=True
    ) as client:
        yield client
