"""``harness``: run the compliance gate and list what it checks (a thin wrapper over pytest)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from harness import __version__
from harness.cli_audit import audit_config
from harness.cli_nightly import nightly_command
from harness.cli_report import report
from harness.cli_run import (
    EXIT_ERROR,
    EXIT_FAIL,
    EXIT_INTERRUPTED,
    EXIT_PASS,
    EXIT_USAGE,
    fail,
    judge_run,
    run_args,
)
from harness.config import load_config
from harness.errors import HarnessError, LoadRunError, TargetStartError
from harness.load.scenarios import SCENARIOS
from harness.options import click_options, pytest_args_from, settings_from
from harness.resources import suites_dir
from harness.spec import PROFILES, CatalogueError, load_catalogue


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="harness")
def cli() -> None:
    """Prove that a deployment keeps its production-readiness promises."""


def main(argv: list[str] | None = None) -> None:
    """Console entry point: usage errors are one line, never a traceback."""
    try:
        cli.main(args=argv, prog_name="harness", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help() if exc.ctx is not None else exc.format_message())
    except click.UsageError as exc:
        hint = f"; see {exc.ctx.command_path} --help" if exc.ctx is not None else ""
        fail(f"{exc.format_message().rstrip('.')}{hint}")
    except click.ClickException as exc:
        fail(exc.format_message())
    except click.exceptions.Abort:
        fail("interrupted", EXIT_INTERRUPTED)


@cli.command()
@click_options("gate")
@click.option("-k", "keyword", help="Only checks matching this pytest -k expression.")
@click.option("-n", "workers", help="Parallel workers (pytest-xdist), e.g. auto.")
@click.option("--suites", type=click.Path(exists=True), help="Suites folder or file [suites/].")
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="pytest's own output on the console instead of in REPORT_DIR/pytest.log.",
)
@click.argument("pytest_args", nargs=-1, type=click.UNPROCESSED)
def gate(**options: Any) -> None:
    """Run every compliance suite, write reports/; exit 0 only if every applicable requirement
    passed or is waived (PASS), 1 if one failed or errored (FAIL), 4 if nothing failed but
    something was not proven (INCOMPLETE; 0 with --allow-incomplete).

    The console shows one line per requirement that ran; pytest's own output (tracebacks,
    assertion details) goes to pytest.log in the report folder, or to the console with -v.
    Arguments after -- go to pytest unchanged, e.g. harness gate -- -x.
    """
    try:
        cli = settings_from(options, "gate")
        config_file = Path(options["harness_config"]) if options["harness_config"] else None
        config = load_config(cli=cli, config_file=config_file)
        if config.stack == "url":
            from harness.targets.url import check_reachable

            assert config.target_url is not None
            check_reachable(config.target_url)
        if config.stack == "containers":
            from harness.stacks.docker_env import docker_client

            docker_client(timeout=10).close()  # DockerUnavailable: one line, exit 2
        known = load_catalogue().requirements
        unknown = sorted(set(options["harness_requirements"] or ()) - set(known))
        if unknown:
            fail(f"--requirement: unknown id(s) {', '.join(unknown)}; see harness requirements")
        if config.mutant:
            from harness.stacks.reference import check_mutant

            check_mutant(config.mutant)
    except (HarnessError, CatalogueError) as exc:
        fail(str(exc))
    verbose = bool(options["verbose"])
    args = _pytest_args(options, config.report_dir)
    target = config.target_url or (
        f"image {config.image} in containers"
        if config.image
        else f"the {config.stack} reference {'stack' if config.stack == 'containers' else 'app'}"
    )
    repository = f" and the repository {config.project_root}" if config.project_root else ""
    click.echo(f"harness gate: checking {target}{repository} (profile {config.profile})", err=True)
    log = None if verbose else config.report_dir / "pytest.log"
    from harness.report.console import run_pytest

    code, run = run_pytest(args, log)
    judge_run(code, run, config.report_dir, log, bool(options["allow_incomplete"]))


def _pytest_args(options: dict[str, Any], report_dir: Path) -> list[str]:

    suites = Path(options["suites"]) if options["suites"] else suites_dir()
    if not suites.exists():
        fail(f"no suites at {suites}; pass --suites DIR")
    root = suites.parent if suites.is_dir() else suites.parent.parent
    args = [str(suites), *run_args(root, bool(options.get("verbose")))]
    args += pytest_args_from(options, skip=("report_dir",))
    args += [f"--report-dir={report_dir.resolve()}"]
    # Allure results (`harness report` renders them) and JUnit XML for CI, beside the matrix
    allure_results = report_dir.resolve() / "allure-results"
    args += [f"--alluredir={allure_results}", "--clean-alluredir"]
    args += [f"--junitxml={report_dir.resolve() / 'junit.xml'}"]
    if options["keyword"]:
        args += ["-k", options["keyword"]]
    if options["workers"]:
        # load checks share one xdist worker: two loads at once would measure each other
        args += ["-n", options["workers"], "--dist", "loadgroup"]
    return args + list(options["pytest_args"])


cli.add_command(audit_config)
cli.add_command(nightly_command(gate))
cli.add_command(report)


@cli.group()
def stack() -> None:
    """Run the reference stack in containers for manual use (needs Docker)."""


@stack.command("up")
@click.option("--image", metavar="NAME", help="Your backend image instead of the reference one.")
@click.option("--profile", type=click.Choice(PROFILES), default="production", show_default=True)
@click.option("--with-prometheus", is_flag=True, help="Also run Prometheus.")
def stack_up(image: str | None, profile: str, with_prometheus: bool) -> None:
    """Start the stack, print its URLs and leave it running."""
    from harness.stacks.manual import stack_up as up

    click.echo("harness stack up: starting the container stack ...", err=True)
    try:
        info = up(profile=profile, image=image, with_prometheus=with_prometheus)
    except HarnessError as exc:
        fail(str(exc))
    click.echo(f"stack {info.run_id} is healthy ({info.start_seconds} s); profile {profile}")
    click.echo(f"  backend         {info.backend_url}   (image {info.backend_image})")
    click.echo(f"  frontend        {info.frontend_url}")
    click.echo(f"  frontend-http   {info.frontend_http_url}   (redirects to HTTPS)")
    click.echo(f"  CA certificate  {info.ca_file}")
    if info.prometheus_url:
        click.echo(f"  prometheus      {info.prometheus_url}")
    click.echo("check it:  harness gate --target-url " + info.backend_url)
    click.echo("stop it:   harness stack down")


@stack.command("down")
def stack_down() -> None:
    """Stop and remove the stack started by `harness stack up`."""
    from harness.stacks.manual import stack_down as down

    try:
        info, report = down()
    except HarnessError as exc:
        fail(str(exc))
    click.echo(f"stack {info.run_id} removed ({report.summary()})")


@stack.command("status")
def stack_status() -> None:
    """Show the stack started by `harness stack up`, if any."""
    from harness.stacks.manual import stack_status as status

    try:
        info, states = status()
    except HarnessError as exc:
        fail(str(exc))
    if info is None:
        click.echo("no stack is running; start one with `harness stack up`")
        return
    click.echo(f"stack {info.run_id}: backend {info.backend_url}, frontend {info.frontend_url}")
    for service, state in states.items():
        click.echo(f"  {service:<12} {state}")


@cli.command("load")
@click.argument("scenario", type=click.Choice(SCENARIOS))
@click_options("load")
@click.option(
    "--locustfile",
    type=click.Path(exists=True, dir_okay=False),
    help="Your own locustfile instead of the reference API mix.",
)
def load(scenario: str, **options: Any) -> None:
    """Run one load SCENARIO and judge the performance targets on it.

    Exit 0 when the run is valid and every target holds, 1 otherwise. Reports:
    load_SCENARIO.html (locust), .json, .md (per endpoint) and .png in the report folder.
    """
    from harness.load.command import passed, render, run_load, verdict_line

    try:
        cli_options = settings_from(options, "load")
        config_file = Path(options["harness_config"]) if options["harness_config"] else None
        config = load_config(cli=cli_options, config_file=config_file)
        locustfile = Path(options["locustfile"]) if options["locustfile"] else None
        outcome = run_load(config, scenario, lambda line: click.echo(line, err=True), locustfile)
    except KeyboardInterrupt:
        fail("interrupted; locust and everything the harness started were stopped", 130)
    except (HarnessError, CatalogueError) as exc:
        broke = isinstance(exc, (LoadRunError, TargetStartError))
        fail(str(exc), EXIT_ERROR if broke else EXIT_USAGE)
    for line in render(outcome):
        click.echo(line)
    click.echo(verdict_line(outcome))
    sys.exit(EXIT_PASS if passed(outcome) else EXIT_FAIL)


@cli.command()
@click.option("--area", help="Only this area, e.g. monitoring.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
def requirements(area: str | None, fmt: str) -> None:
    """List the requirement catalogue."""
    try:
        catalogue = load_catalogue()
    except CatalogueError as exc:
        fail(str(exc))
    selected = [r for r in catalogue if area is None or r.area == area]
    if fmt == "json":
        rows = [
            {
                "id": r.id,
                "title": r.title,
                "area": r.area,
                "kind": r.kind,
                "section": r.section,
                "profiles": list(r.profiles),
                "params": list(r.params),
            }
            for r in selected
        ]
        click.echo(json.dumps(rows, indent=2))
        return
    width = max((len(r.id) for r in selected), default=0)
    for req in selected:
        # a person answers it (--attestations); no check does
        said = "[attestation] " if req.kind == "attestation" else ""
        profiles = ",".join(p[:4] for p in req.profiles)
        click.echo(f"{req.id:<{width}} {profiles:<10} {said}{req.title}")


@cli.command()
def params() -> None:
    """List the requirement parameters with their defaults."""
    try:
        catalogue = load_catalogue()
    except CatalogueError as exc:
        fail(str(exc))
    for p in catalogue.parameters.values():
        extra = "".join(f" [{k}: {v}]" for k, v in p.by_profile.items())
        unit = f" {p.unit}" if p.unit else ""
        click.echo(f"{p.name:<28} {p.type:<9} {p.default!r}{unit}{extra}  {p.description}")


if __name__ == "__main__":  # pragma: no cover
    main()
