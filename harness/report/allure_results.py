"""What allure-pytest does not write itself: ``environment.properties`` and ``categories.json``
of a run, and a net under everything it does write (results, containers, attachments) that
masks secrets before they reach the results folder."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import allure_commons

from harness import __version__
from harness.report.redaction import MASK, is_secret_name, redact_text

# Allure 2 matches a regex against the whole message and Allure 3 searches it: "[\s\S]*" on
# both ends reads the same in both (and in JavaScript, which knows no "(?s)")
_ANY = r"[\s\S]*"
# first match wins; the harness's verdicts in Allure's words: failed = failed, error = broken
CATEGORIES: list[dict[str, Any]] = [
    {"name": "Failed: the deployment breaks a claim", "matchedStatuses": ["failed"]},
    {
        "name": "Error: an answer the check cannot judge",
        "matchedStatuses": ["broken"],
        "messageRegex": f"{_ANY}UnexpectedAnswer{_ANY}",
    },
    {"name": "Error: a crash or a fixture error", "matchedStatuses": ["broken"]},
    *(
        {"name": f"Not proven: {name}", "matchedStatuses": ["skipped"], "messageRegex": regex}
        for name, regex in (
            ("blocked by a failing requirement", f"{_ANY}blocked by {_ANY}"),
            ("not applicable", f"{_ANY}not applicable{_ANY}"),
            (
                "needs the repository (--project-root)",
                f"{_ANY}needs the deployment's repository{_ANY}",
            ),
            (
                "needs stack control or containers",
                f"{_ANY}needs (stack control|a containers stack"
                f"|two backend replicas|a second instance|access to the audit log|a Redis"
                f"|a frontend){_ANY}",
            ),
            ("the target has no such route", f"{_ANY}(no such route|the route lives there){_ANY}"),
            ("left to the nightly run", f"{_ANY}nightly{_ANY}"),
        )
    ),
    {"name": "Not proven: other reasons", "matchedStatuses": ["skipped"]},
]


def _plain_url(url: str) -> str:
    """A URL without the user and password it may carry."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{MASK}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def app_version(matrix: Mapping[str, Any]) -> str | None:
    """The version the target's health endpoint reported in this run's evidence, if any."""
    for entry in matrix.get("requirements", []):
        for item in entry.get("evidence", []):
            if item.get("kind") != "http" or not str(item.get("body", "")).startswith("{"):
                continue
            try:
                body = json.loads(item["body"])
            except ValueError:
                continue
            if isinstance(body, dict) and "status" in body and isinstance(body.get("version"), str):
                return str(body["version"])
    return None


def environment(matrix: Mapping[str, Any] | None) -> dict[str, str]:
    """The run's environment as Allure shows it: target, profile, harness and app versions."""
    env = {"harness.version": __version__}
    if matrix is None:
        return env
    targets = matrix.get("targets") or []
    if targets:
        env["target"] = ", ".join(_plain_url(str(t.get("url") or "")) for t in targets)
        env["target.kind"] = ", ".join(sorted({str(t.get("kind")) for t in targets}))
    env["profile"] = str(matrix.get("profile", ""))
    env["app.version"] = app_version(matrix) or "unknown (no health answer in this run)"
    env["headline"] = str(matrix.get("headline", ""))
    return {key: redact_text(value) for key, value in env.items()}


def _property(text: str) -> str:
    """A value escaped for a Java properties file."""
    escaped = text.replace("\\", "\\\\").replace("\n", "\\n").replace("=", "\\=")
    return escaped.replace(":", "\\:")


def write_run_files(results: Path, matrix: Mapping[str, Any] | None) -> list[Path]:
    """Write environment.properties and categories.json into the results folder."""
    results.mkdir(parents=True, exist_ok=True)
    env_path = results / "environment.properties"
    lines = [f"{key}={_property(value)}" for key, value in environment(matrix).items()]
    env_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    categories = results / "categories.json"
    categories.write_text(json.dumps(CATEGORIES, indent=2) + "\n", encoding="utf-8")
    return [env_path, categories]


def _mask_model(obj: Any, depth: int = 0) -> None:
    """Mask secrets in an allure model object in place (its strings, its parameters)."""
    if depth > 30 or not hasattr(obj, "__attrs_attrs__"):
        return
    for field in obj.__attrs_attrs__:
        value = getattr(obj, field.name)
        if isinstance(value, str):
            secret = field.name == "value" and is_secret_name(str(getattr(obj, "name", "")))
            setattr(obj, field.name, MASK if secret and value else redact_text(value))
        elif isinstance(value, list):
            for index, entry in enumerate(value):
                if isinstance(entry, str):
                    value[index] = redact_text(entry)
                else:
                    _mask_model(entry, depth + 1)
        else:
            _mask_model(value, depth + 1)


class AllureRedaction:
    """allure-commons hooks: results are masked before the file logger writes them (tryfirst)
    and text attachments are rewritten masked right after it wrote them (trylast)."""

    def __init__(self, results: Path) -> None:
        self.results = results

    @allure_commons.hookimpl(tryfirst=True)
    def report_result(self, result: Any) -> None:
        _mask_model(result)

    @allure_commons.hookimpl(tryfirst=True)
    def report_container(self, container: Any) -> None:
        _mask_model(container)

    @allure_commons.hookimpl(trylast=True)
    def report_attached_data(self, body: Any, file_name: str) -> None:
        self._rewrite(file_name)

    @allure_commons.hookimpl(trylast=True)
    def report_attached_file(self, source: Any, file_name: str) -> None:
        self._rewrite(file_name)

    def _rewrite(self, file_name: str) -> None:
        path = self.results / file_name
        try:
            text = path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            return  # an image or other binary: nothing of it is text to mask
        masked = redact_text(text)
        if masked != text:
            path.write_text(masked, encoding="utf-8")


def register_redaction(results: Path) -> AllureRedaction:
    """Put the net under allure-commons' writers (process-wide: call ``unregister`` after)."""
    hooks = AllureRedaction(results)
    allure_commons.plugin_manager.register(hooks)
    return hooks


def unregister_redaction(hooks: AllureRedaction) -> None:
    if allure_commons.plugin_manager.is_registered(hooks):
        allure_commons.plugin_manager.unregister(hooks)
