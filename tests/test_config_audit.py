"""``harness audit-config``: the Security Checklist judged from a deployment's configuration.
The reference repository passes, a planted ``SECRET_KEY=changeme`` fails at its file and line,
no secret value reaches any output, and bad options are one line. The readers under it are
tested with tables; each item's project mutant is proven in tests/test_repository.py."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from harness.probes.config_audit import (
    Setting,
    key_weakness,
    origin_problems,
    parse_env,
    password_problems,
    placeholder_problems,
)
from harness.probes.config_audit_files import Document, interpolate, load_located, published_ports
from harness.probes.config_audit_web import NginxFile, header_rules, nginx_headers, nginx_tls
from reference_app.project_mutants import PROJECT
from reference_app.project_mutants_audit import plant, write_production_env
from tests.conftest import REPO, harness
from tests.test_repository import AUDIT_IDS

STRONG = "9f2c4e7a1b3d5f60718293a4b5c6d7e8f9012345"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "is empty"),
        ("changeme", "placeholder"),
        ("change-me-to-a-long-random-value", "value of the example file"),
        ("short1A", "fewer than 32"),
        ("abcdabcdabcdabcdabcdabcdabcdabcdabcd", "repeats a pattern of 4"),
        ("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", "too regular"),
        ("0123012301230123012301230123012399", "too regular"),
        (STRONG, None),
    ],
)
def test_secret_key_weakness(value: str, reason: str | None) -> None:
    found = key_weakness(value, 32, "change-me-to-a-long-random-value")
    assert (found is None) if reason is None else (reason in str(found)), found
    assert not value or value not in str(found)  # the key itself is never quoted


def test_env_file_settings_carry_their_line() -> None:
    env = parse_env("# c\n\nA=1\nexport SECRET_KEY='x y'\n\n\nB\n", ".env.production")
    assert env.settings["A"].where == ".env.production:3"
    assert env.settings["SECRET_KEY"] == Setting("SECRET_KEY", "x y", ".env.production:4")
    assert env.settings["B"].where == ".env.production:7"


def test_passwords_and_placeholders_are_compared_not_shown() -> None:
    example = parse_env("DB_PASSWORD=change-me\nAPI_TOKEN=abc\nHOST=db\n", ".env.example")
    env = parse_env(
        "DB_PASSWORD=postgres\nAPI_TOKEN=abc\nHOST=db\nURL=postgresql://u:admin@db/x\n", "p.env"
    )
    problems, _ = password_problems(env, example, ["root:toor"])
    assert problems == [
        "p.env:1: DB_PASSWORD is a well-known default password",
        "p.env:2: API_TOKEN is the value of .env.example:2",
        "p.env:4: URL (the password in the URL) is a well-known default password",
    ]
    env = parse_env("DB_PASSWORD=change-me\nAPI_TOKEN=\nHOST=db\n", "p.env")
    problems, evidence = placeholder_problems(env, example)
    assert problems == ["p.env:1: DB_PASSWORD holds a placeholder", "p.env:2: API_TOKEN is empty"]
    assert "HOST" in evidence[-1]


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("https://app.example.com,https://admin.example.com", None),
        ('["https://app.example.com"]', None),
        ("*", "wildcard"),
        ("https://*.example.com", "wildcard"),
        ("null", "'null'"),
        ("http://localhost:8080", "local"),
        ("http://app.example.com", "plain-HTTP"),
        ("app.example.com", "is not an origin"),
        ("", "empty"),
    ],
)
def test_cors_origins(value: str, problem: str | None) -> None:
    found = origin_problems(Setting("CORS_ORIGINS", value, "p.env:3"))
    assert (not found) if problem is None else (problem in found[0] and "p.env:3" in found[0])


def test_compose_ports_and_interpolation() -> None:
    text = (
        "services:\n  db:\n    ports:\n      - '5432:5432'\n      - '127.0.0.1:5433:5432'\n"
        "      - '${BIND:-0.0.0.0}:5434:5432'\n      - target: 5432\n        published: 5435\n"
        "        host_ip: 127.0.0.1\n  web:\n    network_mode: host\n"
    )
    compose = Document("docker-compose.yml", load_located(text)[0])
    found = [(p.where, p.host_port, p.everywhere) for p in published_ports(compose, {})]
    assert found == [
        ("docker-compose.yml:4", "5432", True),
        ("docker-compose.yml:5", "5433", False),
        ("docker-compose.yml:6", "5434", True),
        ("docker-compose.yml:7", "5435", False),
        ("docker-compose.yml:11", "every port", True),
    ]
    assert interpolate("${A:?x}-${B:-d}-${C-e}-$$D", {"A": "a", "C": ""}) == "a-d--$D"


def _nginx(text: str, tmp_path: Path) -> list[NginxFile]:
    from harness.probes.nginxconf import parse_config

    path = tmp_path / "nginx.conf"
    path.write_text(text)
    return [NginxFile("nginx.conf", parse_config(path))]


HEADERS = """
    add_header X-Content-Type-Options "nosniff" always;
    add_header X-Frame-Options "DENY" always;
    add_header X-XSS-Protection "0" always;
    add_header Strict-Transport-Security "max-age=31536000" always;
    add_header Content-Security-Policy "default-src 'self'" always;
    add_header Referrer-Policy "no-referrer" always;
"""


def test_headers_a_location_of_its_own_drops_the_servers(tmp_path: Path) -> None:
    rules = header_rules(31536000, ["no-referrer"])
    clean = f"server {{\n listen 8080;\n{HEADERS}\n location / {{ root /x; }}\n}}\n"
    assert nginx_headers(_nginx(clean, tmp_path), rules) == []
    own = clean.replace("root /x;", 'add_header Cache-Control "public";')
    problems = nginx_headers(_nginx(own, tmp_path), rules)
    assert len(problems) == 6
    assert problems[0] == "nginx.conf:11 location / does not add X-Content-Type-Options"
    weak = clean.replace("max-age=31536000", "max-age=60").replace('"DENY" always', '"DENY"')
    assert nginx_headers(_nginx(weak, tmp_path), rules) == [
        "nginx.conf:1 server: X-Frame-Options is added without 'always' (not on errors)",
        "nginx.conf:1 server: Strict-Transport-Security has max-age 60, under 31536000",
    ]


def test_tls_needs_a_certificate_and_a_redirect(tmp_path: Path) -> None:
    plain = "server {\n listen 80;\n}\n"
    problems, _ = nginx_tls(_nginx(plain, tmp_path))
    assert problems[0] == "nginx.conf:1: listen 80 serves plain HTTP without a redirect to HTTPS"
    good = (
        "server {\n listen 80;\n return 301 https://$host$request_uri;\n}\n"
        "server {\n listen 443 ssl;\n ssl_certificate /c.pem;\n}\n"
    )
    assert nginx_tls(_nginx(good, tmp_path))[0] == []


def _audit(*args: str, report: Path) -> tuple[int, str, dict[str, dict[str, object]]]:
    result = harness("audit-config", f"--report-dir={report}", *args, cwd=REPO, timeout=120)
    matrix = json.loads((report / "matrix.json").read_text())
    rows = {e["id"]: e for e in matrix["requirements"] if e["id"].startswith("CFG-CHECK-")}
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, result.stdout + result.stderr, rows


def test_the_reference_repository_passes_the_audit(tmp_path: Path) -> None:
    env_file = write_production_env(PROJECT, tmp_path / "production.env")
    code, output, rows = _audit(
        f"--project-root={PROJECT}", f"--env-file={env_file}", report=tmp_path / "r"
    )
    verdicts = {rid: row["verdict"] for rid, row in rows.items()}
    assert set(rows) == set(AUDIT_IDS)
    assert set(verdicts.values()) == {"passed"}, output
    assert code == (1 if rows["CFG-CHECK-DB-SSL"]["verdict"] == "failed" else 0), output
    for rid in verdicts:
        assert f"  {rid} " in output  # each item's verdict is on the console
    # no value of the env file reaches any output: only names, lengths and verdicts
    secrets = [s.value for s in parse_env(env_file.read_text(), "f").settings.values()]
    written = output + "".join(p.read_text() for p in (tmp_path / "r").iterdir() if p.is_file())
    assert not [s for s in secrets if len(s) >= 32 and s in written]


def test_a_planted_secret_key_fails_with_its_file_and_line(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(PROJECT, root)
    line = plant(write_production_env(root), "SECRET_KEY", "changeme")
    code, output, rows = _audit(f"--project-root={root}", report=tmp_path / "r")
    assert code == 1, output
    assert rows["CFG-CHECK-SECRET-KEY"]["verdict"] == "failed"
    message = rows["CFG-CHECK-SECRET-KEY"]["checks"][0]["message"]  # type: ignore[index]
    assert f".env.production:{line}: SECRET_KEY is a placeholder" in message
    assert f".env.production:{line}: SECRET_KEY" in output
    assert "=changeme" not in output


def test_without_a_production_env_file_the_secret_checks_skip(tmp_path: Path) -> None:
    _, output, rows = _audit(f"--project-root={PROJECT}", report=tmp_path / "r")
    assert "env file .env.production" in output
    row = rows["CFG-CHECK-SECRET-KEY"]
    assert row["verdict"] == "skipped"
    assert "use --env-file FILE" in str(row["skip_reasons"])
    assert rows["CFG-CHECK-HTTPS"]["verdict"] == "passed"  # the files are judged all the same


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--project-root=reference_app/project", "--env-file=nope.env"], "--env-file nope.env"),
        (["--project-root=nowhere"], "project root 'nowhere' does not exist"),
        ([], "Missing option '--project-root'"),
        (["--project-root=reference_app/project", "--param=nope=1"], "nope"),
    ],
)
def test_bad_options_are_one_line(args: list[str], message: str, tmp_path: Path) -> None:
    result = harness("audit-config", f"--report-dir={tmp_path}", *args, cwd=REPO, timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0], result.stderr
    assert not (tmp_path / "matrix.json").exists()
