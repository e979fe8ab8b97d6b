"""Configuration layers: pyproject < harness.toml < HARNESS_* < command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.config import load_config, parse_param_assignments
from harness.errors import ConfigError


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_defaults(tmp_path: Path) -> None:
    config = load_config(env={}, project_dir=tmp_path)
    assert (config.stack, config.profile, config.target_url) == ("embedded", "production", None)
    assert config.param("health_path") == "/health"
    assert config.report_dir == Path("reports")


def test_precedence_cli_over_env_over_files(tmp_path: Path) -> None:
    _write(
        tmp_path / "pyproject.toml",
        "[tool.harness]\nprofile = 'development'\n"
        "[tool.harness.params]\nhealth_max_clock_skew_s = 5\nhealth_path = '/py'\n",
    )
    _write(tmp_path / "harness.toml", "[params]\nhealth_max_clock_skew_s = 7\n")
    env = {"HARNESS_PARAM_HEALTH_MAX_CLOCK_SKEW_S": "9", "HARNESS_PROFILE": "production"}
    config = load_config(env=env, project_dir=tmp_path)
    assert config.param("health_max_clock_skew_s") == 9.0
    assert config.param("health_path") == "/py"
    assert config.profile == "production"
    assert config.sources["params.health_max_clock_skew_s"] == "environment"
    config = load_config(
        cli={"params": {"health_max_clock_skew_s": "11"}, "profile": "development"},
        env=env,
        project_dir=tmp_path,
    )
    assert config.param("health_max_clock_skew_s") == 11.0
    assert config.profile == "development"
    assert config.sources["profile"] == "command line"


def test_target_url_selects_url_stack(tmp_path: Path) -> None:
    config = load_config(cli={"target_url": "http://127.0.0.1:9/"}, env={}, project_dir=tmp_path)
    assert (config.stack, config.target_url) == ("url", "http://127.0.0.1:9")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("profile = \n", r"harness.toml: invalid TOML: .*line 1"),
        ("colour = 'red'\n", "harness.toml: unknown setting 'colour'"),
        ("[params]\nnot_a_param = 1\n", "harness.toml: unknown parameter 'not_a_param'"),
        ("[params]\nhealth_max_clock_skew_s = 'soon'\n", "not a valid float"),
        ("profile = 'staging'\n", "profile 'staging' is not one of"),
        ("stack = 'mainframe'\n", "stack 'mainframe' is not one of"),
    ],
)
def test_bad_harness_toml_is_one_line_naming_the_file(
    tmp_path: Path, text: str, message: str
) -> None:
    _write(tmp_path / "harness.toml", text)
    with pytest.raises(ConfigError, match=message) as info:
        load_config(env={}, project_dir=tmp_path)
    assert "\n" not in str(info.value)


def test_explicit_config_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(env={}, project_dir=tmp_path, config_file=tmp_path / "missing.toml")


def test_unknown_env_parameter(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="HARNESS_PARAM_NOPE: unknown parameter 'nope'"):
        load_config(env={"HARNESS_PARAM_NOPE": "1"}, project_dir=tmp_path)


def test_other_harness_env_vars_are_ignored(tmp_path: Path) -> None:
    config = load_config(env={"HARNESS_REQUIRE_DOCKER": "1"}, project_dir=tmp_path)
    assert config.stack == "embedded"


@pytest.mark.parametrize("url", ["127.0.0.1:8000", "ftp://x", "http://", "http://h:port"])
def test_bad_target_url(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigError, match="target URL"):
        load_config(cli={"target_url": url}, env={}, project_dir=tmp_path)


def test_mutant_needs_a_reference_stack(tmp_path: Path) -> None:
    config = load_config(cli={"stack": "containers", "mutant": "x"}, env={}, project_dir=tmp_path)
    assert (config.stack, config.mutant) == ("containers", "x")
    with pytest.raises(ConfigError, match="--mutant needs the embedded or containers stack"):
        load_config(
            cli={"target_url": "http://127.0.0.1:9", "mutant": "x"}, env={}, project_dir=tmp_path
        )


def test_param_assignments() -> None:
    assert parse_param_assignments(["a=1", "b = x=y"]) == {"a": "1", "b": " x=y"}
    with pytest.raises(ConfigError, match="expected NAME=VALUE"):
        parse_param_assignments(["novalue"])
