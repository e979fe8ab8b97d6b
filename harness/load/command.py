"""``harness load SCENARIO``: one scenario against a URL or the embedded reference app, with
the five performance targets judged and the reports written."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from harness.config import HarnessConfig
from harness.errors import ConfigError
from harness.load.execute import LoadOutcome, credentials_for, execute
from harness.load.gate import saturation, saturation_failure
from harness.load.runner import LOCUSTFILE
from harness.load.scenarios import scenario_from_params
from harness.report.evidence import duration_text
from harness.targets import Capability
from harness.targets.base import REASONS, Target

Echo = Callable[[str], None]


@contextmanager
def load_target(config: HarnessConfig) -> Iterator[Target]:
    """The URL's deployment, or the embedded reference app (started here, always stopped)."""
    if config.stack == "containers":
        raise ConfigError(
            "harness load runs against --target-url URL or the embedded app; for the "
            "container stack start it with `harness stack up` and pass its backend URL"
        )
    if config.stack == "url":
        from harness.targets.url import UrlTarget, check_reachable

        assert config.target_url is not None
        check_reachable(config.target_url)
        target: Target = UrlTarget(config.target_url, config.allow_hosts)
    else:
        from harness.stacks.reference import check_mutant
        from harness.targets.embedded import EmbeddedTarget

        if config.mutant:
            check_mutant(config.mutant)
        target = EmbeddedTarget(
            profile=config.profile, mutant=config.mutant, allow_hosts=config.allow_hosts
        ).start_all()
    try:
        if Capability.ATTACK not in target.capabilities:
            raise ConfigError(f"{target.url}: {REASONS[Capability.ATTACK]}")
        yield target
    finally:
        target.close()


def run_load(
    config: HarnessConfig, scenario_name: str, echo: Echo, locustfile: Path | None = None
) -> LoadOutcome:
    """``locustfile``: the user's own, instead of the reference API mix; its users should
    pace themselves with ``constant_throughput(load_user_rps)``, the plan the correction for
    coordinated omission assumes."""
    scenario = scenario_from_params(scenario_name, config.params, config.load_profile)
    with load_target(config) as target:
        echo(f"harness load: {scenario_name} against {target.url}")
        outcome = execute(
            scenario,
            target.url,
            config.params,
            config.report_dir,
            facts=target.facts,
            credentials=credentials_for(target),
            workers=config.load_workers,
            progress=echo,
            locustfile=(locustfile or LOCUSTFILE).resolve(),
        )
    return outcome


def render(outcome: LoadOutcome) -> list[str]:
    """The verdict lines: validity, each target with value and margin, the reports."""
    result = outcome.result
    lines = [
        f"{outcome.scenario.name} ({outcome.scenario.profile}): {result.requests} requests in "
        f"{result.duration_s:.1f} s, {result.achieved_rps:.1f} req/s achieved of "
        f"{result.planned_rps:.1f} planned",
    ]
    invalid = result.invalid_reasons()
    if invalid:
        lines.append("INVALID run (not a pass): " + "; ".join(invalid))
    saturated = saturation(result)
    if saturated:
        failure = saturation_failure(result)
        lines.append(f"{failure} (not a pass)" if failure else f"{saturated}: what it probes")
    if outcome.scenario.scaled:
        lines.append(
            f"scaled: ran {_share(outcome)} of the spec's duration; only --load-profile full "
            "proves it"
        )
    for rid, judgement in outcome.judgements.items():
        verdict = "n/a" if not judgement.applicable else "passed" if judgement.passed else "FAILED"
        lines.append(
            f"  {rid:<16} {verdict:<7} {judgement.measured:.4g} {judgement.unit} "
            f"(threshold {judgement.threshold:g}, margin {judgement.margin:+.4g})"
        )
    lines.append(f"  rate limiting: {outcome.exemption.reason}")
    for kind, path in outcome.reports.items():
        lines.append(f"  {kind:<8} {path}")
    return lines


def passed(outcome: LoadOutcome) -> bool:
    if saturation_failure(outcome.result):
        return False
    return not outcome.result.invalid_reasons() and all(
        j.passed or not j.applicable for j in outcome.judgements.values()
    )


def verdict_line(outcome: LoadOutcome) -> str:
    """``verdict: PASS``, ``verdict: PASS (scaled: 12 s of 10 min)`` or ``verdict: FAIL``."""
    if not passed(outcome):
        return "verdict: FAIL"
    return (
        f"verdict: PASS (scaled: {_share(outcome)})" if outcome.scenario.scaled else "verdict: PASS"
    )


def _share(outcome: LoadOutcome) -> str:
    scenario = outcome.scenario
    return f"{duration_text(scenario.duration_s)} of {duration_text(scenario.spec_duration_s)}"
