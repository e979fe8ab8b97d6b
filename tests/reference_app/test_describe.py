"""`python -m reference_app mutants|paths|nginx-conf` and the harness's reading of them
(``harness.stacks.reference``): what the harness knows of the app, without importing it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.stacks import reference
from reference_app.frontend import render_image_config, render_nginx_config
from reference_app.mutants import MUTANTS


def _app(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # no settings at all: describing the app needs no secret and no database
    return subprocess.run(
        [sys.executable, "-m", "reference_app", *args],
        env={"PATH": "/usr/bin:/bin", "ENVIRONMENT": "production"},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_mutants_lists_every_registered_mutant(tmp_path: Path) -> None:
    result = _app("mutants", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)
    assert set(listed) == set(MUTANTS)
    for name, entry in listed.items():
        assert entry["breaks"] == list(MUTANTS[name].breaks)
        assert entry["frontend"] is (MUTANTS[name].frontend is not None)
        assert entry["image"] == dict(MUTANTS[name].image)


def test_paths_name_the_installed_package(tmp_path: Path) -> None:
    paths = reference.app_paths()
    assert (paths.package / "__main__.py").is_file()
    assert (paths.deploy / "backend.Dockerfile").is_file()
    assert (paths.frontend / "nginx.conf.template").is_file()
    assert (paths.static / "index.html").is_file()
    assert list(tmp_path.iterdir()) == []


def test_image_config_is_the_rendered_template() -> None:
    mutant = next(name for name, m in MUTANTS.items() if m.frontend is not None)
    assert reference.image_nginx_conf() == render_image_config()
    assert reference.image_nginx_conf(mutant) == render_image_config(mutant=mutant)
    assert render_image_config(mutant=mutant) != render_image_config()


def test_local_config_is_written_to_the_file(tmp_path: Path) -> None:
    conf, prefix = tmp_path / "nginx.conf", tmp_path / "prefix"
    backend = "http://127.0.0.1:9000/x"
    reference.write_local_nginx_conf(
        conf, listen_port=8081, backend_url=backend, prefix=prefix, tls_port=8443, tls_dir=tmp_path
    )
    assert conf.read_text(encoding="utf-8") == render_nginx_config(
        listen_port=8081, backend_url=backend, prefix=prefix, tls_port=8443, tls_dir=tmp_path
    )
    assert (prefix / "tmp" / "proxy").is_dir()  # nginx's temp dirs, made by the app


def test_unknown_mutant_is_a_one_line_config_error() -> None:
    assert reference.check_mutant("health-bad-version").breaks == ("MON-HEALTH-004",)
    with pytest.raises(ConfigError) as caught:
        reference.check_mutant("typo")
    assert str(caught.value) == f"unknown mutant 'typo'; known: {', '.join(sorted(MUTANTS))}"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--mutant", "typo", "--image"], "unknown mutant 'typo'; known mutants: "),
        (["--listen-port", "1"], "nginx-conf needs --image, or --listen-port, --backend-url"),
    ],
)
def test_nginx_conf_errors_are_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    result = _app("nginx-conf", *args, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"reference_app: error: {message}")


def test_a_failing_command_is_a_one_line_harness_error() -> None:
    with pytest.raises(reference.ReferenceAppError) as caught:
        reference.run_app("nginx-conf", "--tls-port", "1")
    assert str(caught.value) == (
        "reference_app nginx-conf failed: nginx-conf needs --image, or --listen-port, "
        "--backend-url, --prefix"
    )
