"""The run options are declared once (harness.options): the plugin, `gate` and `load` agree."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from click.testing import CliRunner

from harness.cli import _pytest_args, gate, load
from harness.config import SETTINGS, load_config
from harness.options import OPTIONS, Command, add_pytest_options, options_for, settings_from


class Group:
    """Collects what the plugin declares, as pytest's option group would."""

    def __init__(self) -> None:
        self.options: dict[str, dict[str, Any]] = {}

    def addoption(self, flag: str, **kwargs: Any) -> None:
        self.options[flag] = kwargs


def test_the_plugin_declares_every_shared_option_of_the_table() -> None:
    group = Group()
    add_pytest_options(group)
    assert list(group.options) == [o.flag for o in OPTIONS if "pytest" in o.commands]
    assert group.options["--allow-host"]["action"] == "append"
    assert group.options["--load-workers"]["type"] is int
    assert group.options["--stack"]["choices"] == ("embedded", "url", "containers")
    assert "--allow-incomplete" not in group.options  # the gate's own


def test_gate_and_load_offer_the_table_options_with_their_help() -> None:
    runner = CliRunner()
    commands: tuple[tuple[click.Command, Command], ...] = ((gate, "gate"), (load, "load"))
    for command, name in commands:
        shown = runner.invoke(command, ["--help"], terminal_width=200).output
        for option in options_for(name):
            assert option.flag in shown, (name, option.flag)
            assert option.help_in(name) in " ".join(shown.split()), (name, option.flag)
    load_help = runner.invoke(load, ["--help"], terminal_width=200).output
    assert "--stack" not in load_help  # load runs against a URL or the embedded app only
    assert "--waivers" not in load_help


def test_every_setting_of_the_table_is_a_configuration_setting() -> None:
    settings = {o.setting for o in OPTIONS if o.setting is not None}
    assert settings <= set(SETTINGS)
    values = {
        "target_url": "http://127.0.0.1:9",
        "allow_hosts": ["example.test"],
        "harness_params": ["p95_ms=400"],
        "load_workers": 2,
    }
    config = load_config(cli=settings_from(values, "load"), env={})
    assert config.target_url == "http://127.0.0.1:9"
    assert config.allow_hosts == ("example.test",)
    assert config.params["p95_ms"] == 400
    assert config.load_workers == 2


def test_gate_passes_its_shared_options_on_to_pytest(tmp_path: Path) -> None:
    argv = [
        "--target-url", "http://127.0.0.1:9", "--allow-host", "a.test", "--allow-host", "b.test",
        "--param", "p95_ms=400", "--requirement", "MON-HEALTH-001", "--waivers", "w.toml",
        "--load-profile", "full", "--load-workers", "2", "--allow-incomplete",
        "--suites", str(tmp_path),
    ]  # fmt: skip
    context = gate.make_context("gate", argv)
    args = _pytest_args(context.params, tmp_path / "r")
    for expected in (
        "--target-url=http://127.0.0.1:9",
        "--allow-host=a.test",
        "--allow-host=b.test",
        "--param=p95_ms=400",
        "--requirement=MON-HEALTH-001",
        "--waivers=w.toml",
        "--load-profile=full",
        "--load-workers=2",
        f"--report-dir={(tmp_path / 'r').resolve()}",
    ):
        assert expected in args, (expected, args)
    assert not any(arg.startswith("--allow-incomplete") for arg in args)
    assert sum(arg.startswith("--report-dir") for arg in args) == 1
