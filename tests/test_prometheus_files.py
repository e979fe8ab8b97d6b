"""The reference repository's Prometheus files as Prometheus' own checker judges them: the
configuration, its alerting rules, and the rules' unit tests (each alert fires on its
condition and stays quiet without it); and the frontends' /metrics that the frontend job
scrapes, for private networks only. Without promtool these skip, naming the package; in CI
(``CI`` or ``HARNESS_REQUIRE_DOCKER`` set) they fail, as CI installs it (.ci/run)."""

from __future__ import annotations

import os
from ipaddress import ip_network
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.probes.nginxconf import parse_config, select_location
from harness.probes.promtool import (
    MISSING,
    PromtoolRun,
    check_config,
    check_rules,
    promtool_path,
    unit_test_rules,
)
from reference_app.project_mutants import PROJECT
from tests.conftest import REPO

MONITORING = PROJECT / "monitoring"
RULES = sorted((MONITORING / "alerts").glob("*.yml"))
RULE_TESTS = sorted((MONITORING / "alerts" / "tests").glob("*.yml"))
ALERTS = ("InstanceDown", "BackendHighErrorRate", "BackendHighLatency")
PAIRS = ("allow", "deny")


@pytest.fixture
def promtool() -> None:
    if promtool_path() is None:
        if os.environ.get("CI") or os.environ.get("HARNESS_REQUIRE_DOCKER"):
            pytest.fail(f"{MISSING} (CI installs it: .ci/run)", pytrace=False)
        pytest.skip(MISSING)


def _passed(run: PromtoolRun) -> None:
    __tracebackhide__ = True
    assert run.ok, f"{run.command} failed:\n" + "\n".join(run.lines)


def test_promtool_accepts_the_configuration_and_the_rule_files_it_loads(promtool: None) -> None:
    run = check_config(MONITORING / "prometheus.yml")
    _passed(run)
    assert any(f"SUCCESS: {len(RULES)} rule files found" in line for line in run.lines), run.lines


def test_promtool_accepts_the_rules(promtool: None) -> None:
    assert [path.name for path in RULES] == ["availability.yml", "backend.yml"]
    _passed(check_rules(RULES))


def _alerts(path: Path) -> list[dict[str, Any]]:
    groups = yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def test_every_alert_waits_names_its_severity_and_says_what_happened() -> None:
    rules = {str(rule["alert"]): rule for path in RULES for rule in _alerts(path)}
    assert set(ALERTS) <= set(rules), sorted(rules)
    for name, rule in rules.items():
        assert rule.get("for"), name
        assert (rule.get("labels") or {}).get("severity") in ("critical", "warning"), name
        assert (rule.get("annotations") or {}).get("summary"), name


def test_the_rule_unit_tests_pass_and_cover_every_alert(promtool: None) -> None:
    _passed(unit_test_rules(RULE_TESTS, cwd=MONITORING / "alerts"))
    tested = {
        case["alertname"]
        for path in RULE_TESTS
        for test in yaml.safe_load(path.read_text(encoding="utf-8"))["tests"]
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")  # a case that expects the alert to fire
    }
    assert set(ALERTS) <= tested, sorted(tested)


def test_a_broken_rule_fails_the_checks(promtool: None, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "groups:\n  - name: x\n    rules:\n      - alert: X\n        expr: rate(up[5m]\n",
        encoding="utf-8",
    )
    run = check_rules([broken])
    assert not run.ok
    assert "broken.yml" in run.summary()


@pytest.mark.parametrize(
    "config",
    [REPO / "reference_app/deploy/nginx.conf", PROJECT / "frontend/nginx.conf"],
    ids=["frontend-image", "repository"],
)
def test_the_frontends_metrics_are_for_private_networks_only(config: Path) -> None:
    directives = parse_config(config)
    servers = [d for d in directives if d["directive"] == "server"]
    servers += [s for d in directives for s in d.get("block") or [] if s["directive"] == "server"]
    chosen = [select_location(server, "/metrics") for server in servers]
    [location] = [loc for loc in chosen if loc is not None]
    assert str(location) == "location = /metrics"
    access = [(d["directive"], d["args"][0]) for d in location.block if d["directive"] in PAIRS]
    allowed = [ip_network(net) for verb, net in access if verb == "allow"]
    assert access[-1] == ("deny", "all"), access
    assert all(net.is_private for net in allowed), allowed
    assert ip_network("127.0.0.0/8") in allowed, allowed
    [answer] = [d["args"] for d in location.block if d["directive"] == "return"]
    for state in ("active", "reading", "writing", "waiting"):
        assert f"nginx_connections_{state} $connections_{state}\\n" in answer[1], state
