"""The run options, declared once: the pytest plugin's options, the ``gate`` and ``load``
commands' click options and the command-line layer of ``load_config`` are made from this table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from harness.config import LOAD_PROFILES, STACKS, parse_param_assignments
from harness.spec import PROFILES

Command = Literal["pytest", "gate", "load"]
Kind = Literal["str", "int", "file", "dir", "flag"]
F = TypeVar("F", bound=Callable[..., Any])

ALL: frozenset[Command] = frozenset({"pytest", "gate", "load"})
RUN: frozenset[Command] = frozenset({"pytest", "gate"})


@dataclass(frozen=True)
class Option:
    """One option: ``dest`` is the click parameter, the pytest dest and (with ``setting``) the
    key of the command-line layer of ``load_config``."""

    flag: str
    dest: str
    help: str
    commands: frozenset[Command] = ALL
    kind: Kind = "str"
    choices: tuple[str, ...] | None = None
    repeatable: bool = False
    metavar: str | None = None
    setting: str | None = None  # the config key it sets; None: not a configuration setting
    # per-command help where a command words it for its own use (e.g. load vs check)
    help_for: Mapping[Command, str] = field(default_factory=dict)

    def help_in(self, command: Command) -> str:
        return self.help_for.get(command, self.help)


OPTIONS: tuple[Option, ...] = (
    Option(
        "--target-url",
        "target_url",
        "Deployment to check; default: start the embedded reference app.",
        setting="target_url",
        help_for={
            "pytest": "base URL of the deployment under test",
            "load": "Deployment to load; default: the embedded reference app.",
        },
    ),
    Option(
        "--stack",
        "stack",
        "embedded (default), url or containers.",
        RUN,
        choices=STACKS,
        setting="stack",
        help_for={
            "pytest": "embedded (default): start the reference app; containers: the reference "
            "stack in throwaway containers"
        },
    ),
    Option(
        "--image",
        "image",
        "Your backend image, run with throwaway PostgreSQL and Redis (implies containers).",
        RUN,
        metavar="NAME",
        setting="image",
        help_for={
            "pytest": "run this backend image with throwaway PostgreSQL and Redis (containers "
            "stack)"
        },
    ),
    Option(
        "--profile",
        "profile",
        "Requirements to apply [production].",
        choices=PROFILES,
        setting="profile",
        help_for={"pytest": "which requirements apply (production)"},
    ),
    Option(
        "--allow-host",
        "allow_hosts",
        "Extra host for load/attack suites.",
        repeatable=True,
        setting="allow_hosts",
        help_for={
            "pytest": "host that load and attack suites may target (loopback is always allowed)",
            "load": "Non-loopback host load may go to.",
        },
    ),
    Option(
        "--harness-config",
        "harness_config",
        "Config file (harness.toml).",
        kind="file",
        help_for={"pytest": "config file to use instead of ./harness.toml"},
    ),
    Option(
        "--param",
        "harness_params",
        "Override a parameter.",
        repeatable=True,
        metavar="NAME=VALUE",
        help_for={"pytest": "override a requirement parameter, e.g. --param p95_ms=400"},
    ),
    Option(
        "--report-dir",
        "report_dir",
        "Output folder [reports].",
        kind="dir",
        setting="report_dir",
        help_for={"pytest": "where matrix.json and matrix.md go (reports)"},
    ),
    Option(
        "--mutant",
        "mutant",
        "Embedded stack: run against a defective reference app.",
        setting="mutant",
        help_for={
            "pytest": "embedded stack: start the reference app with this defect",
            "load": "Embedded app only: load a defective reference app.",
        },
    ),
    Option(
        "--requirement",
        "harness_requirements",
        "Only the checks of this requirement (repeatable).",
        RUN,
        repeatable=True,
        metavar="ID",
        help_for={"pytest": "run only the checks of this requirement (repeatable)"},
    ),
    Option(
        "--waivers",
        "waivers",
        "TOML file of waived requirements: id, reason, owner, expires.",
        RUN,
        kind="file",
        setting="waivers",
        help_for={
            "pytest": "TOML file of waived requirements ([[waiver]] id, reason, owner, expires)"
        },
    ),
    Option(
        "--attestations",
        "attestations",
        "TOML file of attested requirements: id, by, on, evidence, expires.",
        RUN,
        kind="file",
        setting="attestations",
        help_for={
            "pytest": "TOML file answering the requirements no program can check "
            "([[attestation]] id, by, on, evidence, expires)"
        },
    ),
    Option(
        "--project-root",
        "project_root",
        "Your deployment's repository: the checks of its files run on it.",
        RUN,
        metavar="DIR",
        setting="project_root",
        help_for={
            "pytest": "root of the deployment's repository (scripts/, docker-compose.yml, "
            "backend/tests/load/, ...); checks of its files skip without it"
        },
    ),
    Option(
        "--load-profile",
        "load_profile",
        "Load scenarios: quick (seconds, same shape) or full (the spec's durations) [quick].",
        choices=LOAD_PROFILES,
        setting="load_profile",
        help_for={
            "pytest": "quick (default): load scenarios shortened to seconds, same shape; full: "
            "the spec's durations (nightly)",
            "load": "quick: shortened to seconds, same shape; full: the spec's durations [quick].",
        },
    ),
    Option(
        "--load-workers",
        "load_workers",
        "Locust worker processes for load scenarios [0].",
        kind="int",
        setting="load_workers",
        help_for={
            "pytest": "run load scenarios with a locust master and N worker processes",
            "load": "Run a locust master and N local worker processes [0].",
        },
    ),
    Option(
        "--allow-incomplete",
        "allow_incomplete",
        "Exit 0 when nothing failed but something was not proven (still says INCOMPLETE).",
        frozenset({"gate"}),
        kind="flag",
    ),
)


def options_for(command: Command) -> list[Option]:
    return [option for option in OPTIONS if command in option.commands]


def add_pytest_options(group: Any) -> None:
    """Declare the table's pytest options on the plugin's option group."""
    for option in options_for("pytest"):
        kwargs: dict[str, Any] = {"dest": option.dest, "help": option.help_in("pytest")}
        if option.choices:
            kwargs["choices"] = option.choices
        if option.kind == "int":
            kwargs["type"] = int
        if option.repeatable:
            kwargs.update(action="append", default=[])
        if option.metavar:
            kwargs["metavar"] = option.metavar
        group.addoption(option.flag, **kwargs)


def click_options(command: Command) -> Callable[[F], F]:
    """A decorator adding the table's options of ``command`` to a click command."""
    import click

    def click_type(option: Option) -> Any:
        if option.choices:
            return click.Choice(option.choices)
        return {
            "int": int,
            "file": click.Path(dir_okay=False),
            "dir": click.Path(file_okay=False),
        }.get(option.kind)

    def decorate(func: F) -> F:
        for option in reversed(options_for(command)):
            kwargs: dict[str, Any] = {"help": option.help_in(command)}
            if option.kind == "flag":
                kwargs["is_flag"] = True
            elif click_type(option) is not None:
                kwargs["type"] = click_type(option)
            if option.repeatable:
                kwargs["multiple"] = True
            if option.metavar:
                kwargs["metavar"] = option.metavar
            func = click.option(option.flag, option.dest, **kwargs)(func)
        return func

    return decorate


def settings_from(values: Mapping[str, Any], command: Command) -> dict[str, Any]:
    """The command-line layer of ``load_config`` from parsed option values (by dest)."""
    cli: dict[str, Any] = {}
    for option in options_for(command):
        if option.setting is not None:
            value = values.get(option.dest)
            cli[option.setting] = tuple(value or ()) if option.repeatable else value
    cli["params"] = parse_param_assignments(values.get("harness_params") or ())
    return cli


def pytest_args_from(values: Mapping[str, Any], skip: Sequence[str] = ()) -> list[str]:
    """The pytest options that pass on ``values`` (by dest) of a command's shared options."""
    args: list[str] = []
    for option in options_for("pytest"):
        if option.dest in skip:
            continue
        value = values.get(option.dest)
        items = list(value or ()) if option.repeatable else [value]
        args += [f"{option.flag}={item}" for item in items if item is not None and item != ""]
    return args
