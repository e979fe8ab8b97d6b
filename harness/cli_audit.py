"""``harness audit-config``: the spec's Security Checklist (the CFG-CHECK-* requirements)
judged from a deployment's configuration alone, reported and exited as the gate does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from harness.cli_run import fail, judge_run, run_args
from harness.config import load_config
from harness.errors import HarnessError
from harness.options import pytest_args_from, settings_from
from harness.resources import suites_dir
from harness.spec import PROFILES, CatalogueError, load_catalogue

# the suites of the configuration audit: the Security Checklist read from files
AUDIT_SUITES = ("test_config_audit.py", "test_config_audit_files.py")
AUDIT_PREFIX = "CFG-CHECK-"


@click.command("audit-config")
@click.option("--project-root", required=True, metavar="DIR", help="The deployment's repository.")
@click.option(
    "--env-file",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Production env file [DIR/.env.production; else DIR/.env.example, and the checks of "
    "secret values skip].",
)
@click.option("--profile", type=click.Choice(PROFILES), help="Requirements to apply [production].")
@click.option(
    "--param", "harness_params", multiple=True, metavar="NAME=VALUE", help="Override a parameter."
)
@click.option("--report-dir", type=click.Path(file_okay=False), help="Output folder [reports].")
@click.option(
    "--harness-config", type=click.Path(dir_okay=False), help="Config file (harness.toml)."
)
@click.option(
    "--waivers", type=click.Path(dir_okay=False), help="TOML file of waived requirements."
)
@click.option(
    "--allow-incomplete",
    is_flag=True,
    help="Exit 0 when nothing failed but something was not proven.",
)
@click.option("-v", "--verbose", is_flag=True, help="pytest's own output on the console.")
def audit_config(**options: Any) -> None:
    """Judge the spec's Security Checklist (the CFG-CHECK-* requirements) from a deployment's
    configuration: its production env file, Compose file, k8s manifests, nginx and Prometheus
    files, schedules and CI workflow. Nothing is started. Writes reports/ as the gate does and
    exits as it does: 0 PASS, 1 FAIL, 4 INCOMPLETE, 2 usage.
    """
    env_file = options.pop("env_file")
    if env_file:
        if not Path(env_file).is_file():
            fail(f"--env-file {env_file}: no such file")
        options["harness_params"] += (f"audit_env_file={Path(env_file).resolve()}",)
    try:
        config_file = Path(options["harness_config"]) if options["harness_config"] else None
        config = load_config(cli=settings_from(options, "gate"), config_file=config_file)
        ids = [r.id for r in load_catalogue() if r.id.startswith(AUDIT_PREFIX)]
    except (HarnessError, CatalogueError) as exc:
        fail(str(exc))
    suites = suites_dir()
    args = [str(suites / name) for name in AUDIT_SUITES]
    args += run_args(suites.parent, bool(options["verbose"]))
    args += pytest_args_from(options, skip=("report_dir",))
    args += [f"--report-dir={config.report_dir.resolve()}"]
    args += [f"--requirement={rid}" for rid in ids]
    env = config.params["audit_env_file"]
    click.echo(
        f"harness audit-config: checking the configuration of {config.project_root} "
        f"(env file {env}, profile {config.profile})",
        err=True,
    )
    log = None if options["verbose"] else config.report_dir / "pytest.log"
    from harness.report.console import run_pytest

    code, run = run_pytest(args, log)
    judge_run(code, run, config.report_dir, log, bool(options["allow_incomplete"]))
