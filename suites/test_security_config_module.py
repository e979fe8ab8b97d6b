"""Security configuration as code (spec: Security Hardening > Security Configuration and
Applying Security Middleware): the password policy of each environment, the settings module
per ENVIRONMENT and setup_security_middleware on a bare app, each in a child process."""

from __future__ import annotations

import sys
from typing import Any

import httpx
import pytest

from harness.config import HarnessConfig
from harness.probes import registration, strategies
from harness.probes.backend_modules import (
    SECURITY_CONFIG,
    SECURITY_MIDDLEWARE,
    BackendProcesses,
    child_env,
    location,
    module_name,
    role_validator,
    shared_processes,
)
from harness.probes.middleware_observe import middleware_gaps, observe_middleware
from harness.probes.modulecall import ModuleError
from harness.probes.settings_module import SETTINGS_FIELDS, settings_gaps
from harness.probes.validators import Validator
from harness.report.evidence import Evidence
from harness.targets.project import Project

requirement = pytest.mark.requirement


@pytest.fixture
def backends(harness_config: HarnessConfig) -> BackendProcesses:
    return shared_processes(harness_config.mutant)


def _password_check(
    project: Project,
    params: dict[str, Any],
    backends: BackendProcesses,
    environment: str,
    evidence: Evidence,
) -> Validator:
    try:
        check = role_validator(backends, project.root, params, environment, "password")
    except ModuleError as exc:
        evidence.blocked_by("INP-MODULE", str(exc))
    evidence.note("hypothesis", {"seed": check.seed, "max_examples": check.max_examples})
    return check


def _policy_problems(check: Validator, policy: strategies.PasswordPolicy) -> list[str]:
    found = [
        check.find(
            f"{policy.min_length - 1} characters are too short",
            strategies.short_passwords(policy),
            True,
        ),
        check.find(
            f"a strong password of {policy.min_length}+ characters is enough",
            strategies.strong_passwords(policy),
            False,
        ),
    ]
    return [check.message(c) for c in found if c is not None]


def _register_problems(
    http: httpx.Client, params: dict[str, Any], lengths: dict[int, bool]
) -> list[str]:
    problems = []
    for length, refused in lengths.items():
        password = registration.strong_password(length)
        response = http.post(params["register_path"], json=registration.account(password=password))
        if (absent := registration.absent_route(response, "register_path")) is not None:
            pytest.skip(absent)
        why = registration.wrong_answer(response, "password", f"<{length} characters>", refused)
        if why is not None:
            problems.append(why)
    return problems


@requirement("CFG-PASSWORD-MIN")
def test_production_password_minimum(
    project: Project, params: dict[str, Any], backends: BackendProcesses, evidence: Evidence
) -> None:
    policy = strategies.PasswordPolicy(
        params["min_password_length"], params["password_min_classes"]
    )
    check = _password_check(project, params, backends, "production", evidence)
    problems = _policy_problems(check, policy)
    assert not problems, "ENVIRONMENT=production: " + "; ".join(problems)


@requirement("CFG-PASSWORD-RELAXED")
def test_development_password_policy_is_relaxed(
    project: Project, params: dict[str, Any], backends: BackendProcesses, evidence: Evidence
) -> None:
    policy = strategies.PasswordPolicy(
        params["min_password_length"], params["password_min_classes"]
    )
    check = _password_check(project, params, backends, "development", evidence)
    relaxed = check.find(
        "development accepts passwords shorter than 12 characters",
        strategies.relaxed_passwords(policy),
        False,
    )
    problems = _policy_problems(check, policy) + ([check.message(relaxed)] if relaxed else [])
    assert not problems, "ENVIRONMENT=development: " + "; ".join(problems)


@requirement("CFG-PASSWORD-MIN")
@pytest.mark.needs_path("register_path")
def test_registration_applies_the_production_minimum(
    http: httpx.Client, params: dict[str, Any], evidence: Evidence
) -> None:
    shortest = params["min_password_length"]
    problems = _register_problems(http, params, {shortest - 1: True, shortest: False})
    assert not problems, f"POST {params['register_path']}: " + "; ".join(problems)


@requirement("CFG-PASSWORD-RELAXED")
@pytest.mark.needs_path("register_path")
def test_registration_accepts_relaxed_passwords(
    http: httpx.Client, params: dict[str, Any], evidence: Evidence
) -> None:
    shortest = params["min_password_length"]
    problems = _register_problems(http, params, {shortest: False, 11: False})
    assert not problems, f"POST {params['register_path']}: " + "; ".join(problems)


@requirement("CFG-SETTINGS-MODULE")
def test_security_settings_follow_the_environment(
    project: Project,
    params: dict[str, Any],
    backends: BackendProcesses,
    harness_config: HarnessConfig,
    evidence: Evidence,
) -> None:
    module = module_name(params, SECURITY_CONFIG)
    by_environment: dict[str, Any] = {}
    for environment in ("production", "development"):
        try:
            child = backends.get(project.root, params, environment)
            by_environment[environment] = child.read(module, "security_settings", SETTINGS_FIELDS)
        except ModuleError as exc:
            pytest.fail(f"{location(params, SECURITY_CONFIG)}: {exc}")
    evidence.note("security_settings", by_environment)
    wanted = (params["rate_limit_calls"], params["rate_limit_period_s"])
    gaps = settings_gaps(by_environment, harness_config.profile, wanted)
    assert not gaps, f"{module}.security_settings: " + "; ".join(gaps)


@requirement("CFG-MIDDLEWARE-SETUP")
def test_setup_security_middleware_applies_every_layer(
    project: Project,
    params: dict[str, Any],
    harness_config: HarnessConfig,
    evidence: Evidence,
) -> None:
    module = module_name(params, SECURITY_MIDDLEWARE)
    backend = project.directory(params["backend_dir"], "backend_dir")
    env = child_env(harness_config.profile, harness_config.mutant, params["module_env"])
    python = params["backend_python"] or sys.executable
    try:
        seen = observe_middleware(backend, module, python, env)
    except ModuleError as exc:
        pytest.fail(f"{location(params, SECURITY_MIDDLEWARE)}: {exc}")
    evidence.note("observed", seen)
    gaps = middleware_gaps(seen)
    assert not gaps, f"{module}.setup_security_middleware(app, config): " + "; ".join(gaps)
