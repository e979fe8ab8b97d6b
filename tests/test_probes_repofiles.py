"""The parsers of repository files: .env values and secrets, Compose variables, Dockerfile base
images, load test durations, scenarios and README commands."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.probes.loadfiles import (
    LoadFileError,
    ScenarioSpec,
    commands_in,
    configured_scenarios,
    duration_seconds,
    locust_users,
    readme_gaps,
)
from harness.probes.repofiles import (
    BaseImage,
    base_images,
    compose_variables,
    env_values,
    final_base,
    real_secrets,
)


def test_compose_variables_in_every_form() -> None:
    text = (
        "image: app:${VERSION:-latest}\n"
        "  - A=${SECRET_KEY:?set it}\n"
        "  - B=$PLAIN and $$ESCAPED\n"
        "# - C=${COMMENTED}\n"
    )
    assert compose_variables(text) == {"VERSION", "SECRET_KEY", "PLAIN"}


def test_env_values_as_dotenv_reads_them() -> None:
    text = "# comment\nA=1\nexport B='two words'\nC=\nD\n"
    assert env_values(text) == {"A": "1", "B": "two words", "C": "", "D": ""}


@pytest.mark.parametrize(
    ("values", "flagged"),
    [
        ({"SECRET_KEY": "change-me-to-a-long-random-value", "PASSWORD": ""}, []),
        ({"POSTGRES_PASSWORD": "hunter2"}, ["POSTGRES_PASSWORD"]),
        ({"SECRET_KEY": "<your secret key>", "API_TOKEN": "your-token"}, []),
        ({"SESSION": "q7Rt2VbX9kLm4Np8Zs1Wc6Yd3Fh5Jg0A"}, ["SESSION"]),
        ({"AWS": "AKIAABCDEFGHIJKLMNOP"}, ["AWS"]),
        ({"DATABASE_URL": "postgresql://app:s3cr3t@db/formulas"}, ["DATABASE_URL"]),
        ({"DATABASE_URL": "postgresql://app:change-me@db/formulas"}, []),
        ({"CORS_ORIGINS": "https://app.reasoner.io,https://admin.reasoner.io"}, []),
        ({"ENVIRONMENT": "development", "RATE_LIMIT_CALLS": "100"}, []),
    ],
)
def test_real_secrets(values: dict[str, str], flagged: list[str]) -> None:
    assert real_secrets(values) == flagged


def test_base_images_substitute_build_arguments_and_follow_stages() -> None:
    dockerfile = (
        "ARG PY=python:3.12-slim\n"
        "FROM ${PY} AS builder\n"
        "FROM --platform=linux/amd64 node:20-alpine AS assets\n"
        "FROM builder AS final\n"
    )
    images = base_images(dockerfile)
    assert images == [
        BaseImage("python", "3.12-slim", "builder"),
        BaseImage("node", "20-alpine", "assets"),
        BaseImage("builder", "latest", "final"),
    ]
    final = final_base(images)
    assert final is not None
    assert (final.image, final.version()) == ("python", (3, 12))
    assert base_images("FROM registry:5000/team/python\n")[0].tag == "latest"
    assert BaseImage("node", "lts-alpine", None).version() is None


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(120, 120.0), ("2m", 120.0), ("1h30m", 5400.0), ("90s", 90.0), ("soon", None), (True, None)],
)
def test_duration_seconds(value: object, seconds: float | None) -> None:
    assert duration_seconds(value) == seconds


def test_configured_scenarios_in_a_list_of_named_entries(tmp_path: Path) -> None:
    config = tmp_path / "load_test_config.py"
    config.write_text(
        "from dataclasses import dataclass\n"
        "@dataclass\n"
        "class S:\n    name: str\n    users: int\n    duration_s: int\n"
        "ALL = [S('Smoke test', 10, 120), S('spike', 500, 300)]\n"
    )
    assert configured_scenarios(config) == {
        "smoke": ScenarioSpec(10, 120.0),
        "spike": ScenarioSpec(500, 300.0),
    }
    assert not list(tmp_path.glob("__pycache__"))


def test_a_file_that_does_not_load_is_one_line_without_an_exception_name(
    tmp_path: Path,
) -> None:
    broken = tmp_path / "locustfile.py"
    broken.write_text("import not_a_module_here\n")
    with pytest.raises(LoadFileError) as info:
        locust_users(broken)
    assert "No module named 'not_a_module_here'" in str(info.value)
    assert "Error" not in str(info.value)


def test_readme_commands_and_gaps() -> None:
    readme = (
        "Smoke, baseline, stress, spike and endurance.\n"
        "```bash\nlocust -f l.py --host=http://x\n"
        "locust -f l.py \\\n  --headless \\\n  --users 50 --spawn-rate 5 \\\n"
        "  --run-time 10m --html r.html\n```\n"
        "P50 P95 P99, error rate and throughput.\n"
    )
    assert len(commands_in(readme)) == 2
    assert readme_gaps(readme) == []
    without_ui = readme.replace("locust -f l.py --host=http://x\n", "")
    assert readme_gaps(without_ui) == [
        "a command that runs with the web UI (locust -f ... without --headless)"
    ]
    assert "the endurance scenario" in readme_gaps(readme.replace("endurance", ""))
