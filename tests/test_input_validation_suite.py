"""The module checks as a user runs them on repositories that are not the reference app's:
sound validators of their own pass, weak ones fail with the minimal example and the seed
that finds it again, and a missing module fails once, its dependants blocked by it."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from reference_app.mutants import MUTANTS
from tests.conftest import SuiteRun
from tests.verdicts import kill_problems

BACKENDS = Path(__file__).parent / "module_backends"
SEARCHED = ("INP-EMAIL", "INP-USERNAME", "INP-PASSWORD-STRENGTH", "INP-HTML-SANITIZE")
MODULE_IDS = ("INP-MODULE", *SEARCHED, "CFG-SETTINGS-MODULE", "CFG-PASSWORD-MIN")
# the target's registration is proven on the reference app and its mutants
MODULE_ONLY = "not registration"


def _run(
    run_suites: Callable[..., SuiteRun],
    root: Path,
    *ids: str,
    extra: str = "",
    only: str = MODULE_ONLY,
) -> SuiteRun:
    args = [f"--project-root={root}", "-k", only, *(f"--requirement={rid}" for rid in ids)]
    return run_suites(*args, *([extra] if extra else []))


def _copy(name: str, tmp_path: Path) -> Path:
    # a copy: the checks run the module in place, and the repository stays as it is
    return Path(shutil.copytree(BACKENDS / name, tmp_path / name))


def test_sound_validators_of_another_codebase_pass(
    run_suites: Callable[..., SuiteRun], tmp_path: Path
) -> None:
    # its middleware is the reference app's to prove
    run = _run(
        run_suites,
        _copy("sound", tmp_path),
        *MODULE_IDS,
        only="not registration and not middleware",
    )
    verdicts = {rid: run.entry(rid)["verdict"] for rid in MODULE_IDS}
    assert set(verdicts.values()) == {"passed"}, f"{verdicts}\n{run.output[-3000:]}"


def test_weak_validators_fail_with_a_replayable_minimal_example(
    run_suites: Callable[..., SuiteRun], tmp_path: Path
) -> None:
    root = _copy("weak", tmp_path)
    run = _run(run_suites, root, *MODULE_IDS, "CFG-MIDDLEWARE-SETUP")
    assert not kill_problems(run, MODULE_IDS), kill_problems(run, MODULE_IDS)
    middleware = run.entry("CFG-MIDDLEWARE-SETUP")["checks"][0]["message"]
    for gap in (
        "a Host outside allowed_hosts answered 200",
        "a client in ip_blacklist answered 200",
        "rate_limit_calls=5",
        "an SQL injection",
        "no log record names the request",
    ):
        assert gap in middleware, middleware
    assert "no security headers" not in middleware, middleware
    for rid in SEARCHED:
        entry = run.entry(rid)
        message = entry["checks"][0]["message"]
        assert "minimal example of hypothesis seed 13" in message, message
        assert "--param hypothesis_seed=13" in message, message
        labels = {item["label"] for item in entry["evidence"] if item["kind"] == "note"}
        assert {"hypothesis", "counterexample"} <= labels, entry["evidence"]
    email = run.entry("INP-EMAIL")["checks"][0]["message"]
    assert "validate_email('" in email, email
    assert "returned" in email, email
    username = run.entry("INP-USERNAME")["checks"][0]["message"]
    assert "\\n'" in username, username  # re.match with $ lets a trailing newline through
    html = run.entry("INP-HTML-SANITIZE")["checks"][0]["message"]
    assert "onerror" in html or "javascript" in html.lower(), html
    settings = run.entry("CFG-SETTINGS-MODULE")["checks"][0]["message"]
    assert "production: no rate_limit_period" in settings, settings


def test_weak_validators_fail_the_development_policy(
    run_suites: Callable[..., SuiteRun], tmp_path: Path
) -> None:
    run = _run(
        run_suites, _copy("weak", tmp_path), "CFG-PASSWORD-RELAXED", extra="--profile=development"
    )
    assert not kill_problems(run, ["CFG-PASSWORD-RELAXED"]), run.output[-3000:]
    message = run.entry("CFG-PASSWORD-RELAXED")["checks"][0]["message"]
    assert "ENVIRONMENT=development: check_password_strength('" in message, message
    assert "7 characters are too short" in message, message


def test_another_seed_finds_its_example_again(
    run_suites: Callable[..., SuiteRun], tmp_path: Path
) -> None:
    root = _copy("weak", tmp_path)
    first, again = (
        _run(run_suites, root, "INP-USERNAME", extra="--param=hypothesis_seed=7") for _ in range(2)
    )
    message = first.entry("INP-USERNAME")["checks"][0]["message"]
    assert "hypothesis seed 7" in message, message
    assert again.entry("INP-USERNAME")["checks"][0]["message"] == message


def test_a_missing_module_fails_once_and_blocks_the_rest(
    run_suites: Callable[..., SuiteRun], tmp_path: Path
) -> None:
    (tmp_path / "backend" / "app").mkdir(parents=True)
    (tmp_path / "backend" / "app" / "__init__.py").write_text("")
    run = _run(run_suites, tmp_path, "INP-MODULE", "INP-EMAIL", "CFG-PASSWORD-MIN")
    line = (
        "backend/app/core/input_validation.py: app.core.input_validation cannot be imported: "
        "No module named 'app.core'"
    )
    module = run.entry("INP-MODULE")
    assert module["verdict"] == "failed", run.output[-3000:]
    assert module["checks"][0]["message"].endswith(line), module["checks"][0]
    for rid in ("INP-EMAIL", "CFG-PASSWORD-MIN"):
        entry = run.entry(rid)
        assert entry["verdict"] == "blocked", entry
        assert entry["checks"][0]["message"] == f"blocked by INP-MODULE: {line}"


def test_the_validator_mutants_name_the_module_checks() -> None:
    """The reference app's mutants of its validators break these requirements; the mutant
    tests (tests/test_mutants.py) run the suites against each and prove the kill."""
    wanted = {
        "password-length-bytes": {"INP-PASSWORD-STRENGTH", "CFG-PASSWORD-MIN"},
        "email-accepts-a-at-b": {"INP-EMAIL"},
        "sanitizer-img-onerror": {"INP-HTML-SANITIZE"},
    }
    for name, ids in wanted.items():
        assert name in MUTANTS, f"no mutant {name}"
        assert ids <= set(MUTANTS[name].breaks), (name, MUTANTS[name].breaks)
        assert MUTANTS[name].process is not None, f"{name} must reach the module's own process"
