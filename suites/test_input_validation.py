"""Input validation (spec: Security Hardening > Input Validation): the deployment's own
validators in backend/app/core/input_validation.py, searched with hypothesis in a child
process, and a sample of the same cases through its registration API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from harness.config import HarnessConfig
from harness.probes import registration, strategies
from harness.probes.backend_modules import (
    INPUT_VALIDATION,
    ROLES,
    BackendProcesses,
    location,
    module_name,
    role_validator,
    shared_processes,
    validator_names,
)
from harness.probes.modulecall import ModuleError
from harness.probes.validators import (
    Counterexample,
    Validator,
    executable_constructs,
    lost_markup,
)
from harness.report.evidence import Evidence
from harness.targets.project import Project

requirement = pytest.mark.requirement


@pytest.fixture
def backends(harness_config: HarnessConfig) -> BackendProcesses:
    return shared_processes(harness_config.mutant)


@dataclass(frozen=True)
class _Module:
    """What a check of the module needs: where it is, its child, the run's profile."""

    project: Project
    params: dict[str, Any]
    backends: BackendProcesses
    profile: str
    evidence: Evidence


@pytest.fixture
def module(
    project: Project,
    params: dict[str, Any],
    backends: BackendProcesses,
    harness_config: HarnessConfig,
    evidence: Evidence,
) -> _Module:
    return _Module(project, params, backends, harness_config.profile, evidence)


def _validator(role: str, at: _Module) -> Validator:
    """The role's function, or the check blocked by INP-MODULE when it cannot be had."""
    try:
        check = role_validator(at.backends, at.project.root, at.params, at.profile, role)
    except ModuleError as exc:
        at.evidence.blocked_by("INP-MODULE", str(exc))
    at.evidence.note(
        "hypothesis",
        {"seed": check.seed, "max_examples": check.max_examples, "function": check.name},
    )
    return check


def _judge(
    validator: Validator, evidence: Evidence, *found: Counterexample | None, also: str = ""
) -> None:
    wrong = [c for c in found if c is not None]
    for example in wrong:
        evidence.note("counterexample", example.to_json())
    problems = [also] if also else []
    assert not (problems + wrong), "; ".join(problems + [validator.message(c) for c in wrong])


@requirement("INP-MODULE")
def test_input_validation_module_exposes_its_validators(
    project: Project,
    params: dict[str, Any],
    backends: BackendProcesses,
    harness_config: HarnessConfig,
    evidence: Evidence,
) -> None:
    module, where = module_name(params, INPUT_VALIDATION), location(params, INPUT_VALIDATION)
    evidence.note("module", f"{module} ({where})")
    try:
        names = validator_names(params["input_validators"])
        process = backends.get(project.root, params, harness_config.profile)
        missing = [
            f"{role}={names[role]}" if role in names else f"{role} (no function named)"
            for role in ROLES
            if role not in names or not process.has(module, names[role])
        ]
    except ModuleError as exc:
        pytest.fail(f"{where}: {exc}")
    assert not missing, (
        f"{where} lacks {', '.join(missing)}; set --param input_validators=ROLE=FUNCTION,... "
        "to name the module's functions"
    )


@requirement("INP-EMAIL")
def test_email_validator_refuses_invalid_and_accepts_valid(
    module: _Module, params: dict[str, Any], evidence: Evidence
) -> None:
    check = _validator("email", module)
    _judge(
        check,
        evidence,
        check.find("it is no valid address", strategies.invalid_emails(), True),
        check.find("it is a valid address", strategies.valid_emails(), False),
    )


@requirement("INP-USERNAME")
def test_username_validator_follows_the_pattern(
    module: _Module, params: dict[str, Any], evidence: Evidence
) -> None:
    check = _validator("username", module)
    pattern = params["username_pattern"]
    _judge(
        check,
        evidence,
        check.find(f"it does not match {pattern}", strategies.invalid_usernames(pattern), True),
        check.find(f"it matches {pattern}", strategies.valid_usernames(pattern), False),
    )


@requirement("INP-PASSWORD-STRENGTH")
def test_password_strength_at_each_policy_boundary(
    module: _Module, params: dict[str, Any], evidence: Evidence
) -> None:
    check = _validator("password", module)
    policy = strategies.PasswordPolicy(
        params["min_password_length"], params["password_min_classes"]
    )
    shortest = f"the minimum is {policy.min_length} characters"
    common = [p for p in strategies.COMMON_PASSWORDS if check.wrong(True)(p)]
    evidence.note("common passwords accepted", common)
    also = f"{check.name} accepts common passwords {', '.join(map(repr, common))}" if common else ""
    _judge(
        check,
        evidence,
        check.find(f"it is shorter: {shortest}", strategies.short_passwords(policy), True),
        check.find(
            f"it has fewer than {policy.min_classes} character classes",
            strategies.few_class_passwords(policy),
            True,
        ),
        check.find("it contains the username", strategies.username_passwords(policy), True),
        check.find(f"it is strong ({shortest})", strategies.strong_passwords(policy), False),
        also=also,
    )


@requirement("INP-HTML-SANITIZE")
def test_sanitised_html_never_executes_and_keeps_allowed_markup(
    module: _Module, params: dict[str, Any], evidence: Evidence
) -> None:
    check = _validator("html", module)
    tags = tuple(params["html_allowed_tags"])

    def executable(markup: str) -> str | None:
        outcome = check.outcome(markup)
        if not outcome.returned or not isinstance(outcome.value, str):
            return str(outcome.describe())
        found = executable_constructs(outcome.value)
        return f"returned {outcome.value!r} with {', '.join(found)}" if found else None

    def lost(markup: str) -> str | None:
        outcome = check.outcome(markup)
        if not outcome.returned or not isinstance(outcome.value, str):
            return str(outcome.describe())
        gone = lost_markup(markup, outcome.value)
        return f"returned {outcome.value!r}, losing {', '.join(gone)}" if gone else None

    _judge(
        check,
        evidence,
        check.search("nothing in it may run", strategies.attack_html(tags), executable),
        check.search("its markup is allowed", strategies.safe_html(tags), lost),
    )


@requirement("INP-EMAIL")
@pytest.mark.needs_path("register_path")
def test_registration_answers_email_cases(
    http: httpx.Client, params: dict[str, Any], evidence: Evidence
) -> None:
    _register_cases(http, params, evidence, "email", registration.EMAIL_CASES)


@requirement("INP-USERNAME")
@pytest.mark.needs_path("register_path")
def test_registration_answers_username_cases(
    http: httpx.Client, params: dict[str, Any], evidence: Evidence
) -> None:
    _register_cases(http, params, evidence, "username", registration.USERNAME_CASES)


def _register_cases(
    http: httpx.Client,
    params: dict[str, Any],
    evidence: Evidence,
    field: str,
    table: tuple[tuple[str, bool], ...],
) -> None:
    path, problems = params["register_path"], []
    for value, refused in registration.cases(table):
        response = http.post(path, json=registration.account(**{field: value}))
        if (absent := registration.absent_route(response, "register_path")) is not None:
            pytest.skip(absent)
        if (why := registration.wrong_answer(response, field, value, refused)) is not None:
            problems.append(why)
    evidence.note("cases", len(table))
    assert not problems, f"POST {path}: " + "; ".join(problems)
