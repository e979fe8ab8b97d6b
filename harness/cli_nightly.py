"""``harness nightly``: the gate with the load scenarios at the spec's durations (the hour-long
endurance run among them), for a cron job or a CI schedule; its run history is kept in
REPORT_DIR/history/ as every gate run's is, and the trend is printed after the summary."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from harness.cli_run import fail
from harness.config import HarnessConfig, load_config
from harness.errors import HarnessError
from harness.load.scenarios import SCENARIOS, scenario_from_params
from harness.options import settings_from
from harness.report.evidence import duration_text
from harness.spec import CatalogueError

ENDURANCE = "LOAD-SCENARIO-ENDURANCE"
HELP = """Run the gate with the load scenarios at the spec's durations (--load-profile full:
the endurance scenario holds its users for 60 minutes) and keep the run history; exit as the
gate does: 0 PASS, 1 FAIL, 4 INCOMPLETE (0 with --allow-incomplete).

With --requirement, the endurance scenario joins the selection. Durations and users are
parameters, e.g. --param endurance_duration_s=600. Schedules: see docs/history.md.
"""


def nightly_command(gate: click.Command) -> click.Command:
    """``harness nightly`` with the gate's options, but for --load-profile, which it sets."""
    params = [param for param in gate.params if param.name != "load_profile"]

    @click.pass_context
    def nightly(ctx: click.Context, /, **options: Any) -> None:
        selection = tuple(options.get("harness_requirements") or ())
        if selection and ENDURANCE not in selection:
            options["harness_requirements"] = (*selection, ENDURANCE)
        options["load_profile"] = "full"
        config = _config(options)
        for line in plan_lines(config):
            click.echo(f"harness nightly: {line}", err=True)
        matrix_path = config.report_dir / "matrix.json"
        before = _stamp(matrix_path)
        try:
            ctx.invoke(gate, **options)
            code: int | str | None = 0
        except SystemExit as exc:
            code = exc.code
        written = _stamp(matrix_path) not in (None, before)
        for line in after_lines(matrix_path) if written else ():
            click.echo(line)
        sys.exit(code)

    return click.Command("nightly", params=params, callback=nightly, help=HELP)


def _config(options: dict[str, Any]) -> HarnessConfig:
    try:
        config_file = Path(options["harness_config"]) if options["harness_config"] else None
        return load_config(cli=settings_from(options, "gate"), config_file=config_file)
    except (HarnessError, CatalogueError) as exc:
        fail(str(exc))
        raise  # unreachable: fail exits


def plan_lines(config: HarnessConfig) -> list[str]:
    """What the run will take: the load at the spec's durations, the endurance run named."""
    try:
        scenarios = [scenario_from_params(name, config.params, "full") for name in SCENARIOS]
    except (KeyError, TypeError, ValueError) as exc:
        fail(f"the load parameters do not make a scenario: {exc}")
        raise  # unreachable: fail exits
    endurance = next(s for s in scenarios if s.name == "endurance")
    total = _about(sum(s.duration_s for s in scenarios))
    return [
        f"the load scenarios at the spec's durations (about {duration_text(total)} in all); "
        f"endurance: {endurance.users} users for {duration_text(endurance.duration_s)}",
        f"history kept in {config.report_dir / 'history'}",
    ]


def _about(seconds: float) -> float:
    """An estimate, rounded as it is said: whole minutes, quarter hours beyond two hours."""
    step = 900 if seconds >= 7200 else 60 if seconds >= 120 else 1
    return float(round(seconds / step) * step)


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_ino


def after_lines(matrix_path: Path) -> list[str]:
    """The endurance verdict and the trend, from the run's matrix (the caller makes sure the
    run wrote it: an older matrix says nothing of this run)."""
    try:
        matrix = json.loads(matrix_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    from harness.report.history import trend_lines

    lines = []
    for entry in matrix.get("requirements") or ():
        if entry.get("id") == ENDURANCE:
            why = "; ".join(entry.get("skip_reasons") or ())
            lines.append(f"endurance: {entry.get('verdict')}{f' ({why})' if why else ''}")
    history = matrix.get("history")
    if history:
        lines += trend_lines(history)
    return lines
