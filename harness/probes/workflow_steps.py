"""What one workflow step does: tests, scans, image builds, deploys, read from its command.

A scan only counts when it can fail the job: a step with ``continue-on-error``, a command
ending in ``|| true``, Trivy's default ``exit-code: 0`` or Bandit's ``--exit-zero`` report
without ever stopping the pipeline.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from harness.probes.workflow_model import Step

SEVERITIES = ("unknown", "low", "medium", "high", "critical")
_SWALLOWED = re.compile(r"\|\|\s*(true|:|exit\s+0)\b|;\s*true\s*$", re.M)
_PYTEST = re.compile(r"\b(pytest|python3? -m (pytest|unittest))\b")
_JS_TEST = re.compile(r"\b((npm|yarn|pnpm)\s+(run\s+)?test\b|jest\b|vitest\b|ng test\b)")
_NOT_UNIT = re.compile(r"integration|e2e|end-to-end|smoke|load|locust", re.I)
_COVERAGE = re.compile(r"--cov\b|--cov=|coverage run|--coverage\b|\bnyc\b|\bc8\b")
_SAST = re.compile(r"\b(bandit|semgrep|codeql|sonar-scanner|snyk code)\b")
_SAST_ACTIONS = ("github/codeql-action/analyze", "returntocorp/semgrep-action", "semgrep/semgrep")
_PY_AUDIT = re.compile(r"\b(pip-audit|safety (check|scan)|osv-scanner|snyk test)\b")
_JS_AUDIT = re.compile(r"\b((npm|yarn|pnpm) audit|osv-scanner|snyk test)\b")
_TRIVY_RUN = re.compile(r"\btrivy\s+(image|i|fs|filesystem|repo|repository|config|rootfs)\b")
_BUILD_RUN = re.compile(r"\b(docker|podman)\s+(buildx\s+)?build\b")
_PUSH_RUN = re.compile(r"\b(docker|podman)\s+push\s+(\S+)")
_DEPLOY_RUN = re.compile(
    r"\bkubectl\b.*\b(apply|set image|rollout)\b|\bhelm\s+(upgrade|install)\b|deploy\.sh"
    r"|\bdocker[ -]compose\b.*\bup\b|\bkustomize\b"
)
_MIGRATE_RUN = re.compile(
    r"\balembic\s+upgrade\b|\bmanage\.py\s+migrate\b|\bdb upgrade\b|\bmigrate\b"
)
_CURL = re.compile(r"\bcurl\b([^\n]*)")
_CURL_FAILS = re.compile(r"(^|\s)(-[a-zA-Z]*f[a-zA-Z]*|--fail|--fail-with-body)(\s|$)")


_INSTALL = re.compile(r"\b(pip3?|pipx|npm|yarn|pnpm|apt-get)\s+(install|add|ci)\b")


def _commands(step: Step) -> str:
    """The step's commands without the lines that install tools (``pip install pip-audit``)."""
    return "\n".join(line for line in step.run.splitlines() if not _INSTALL.search(line))


def gates(step: Step) -> bool:
    """Whether the step can fail its job."""
    return not step.continue_on_error and not _SWALLOWED.search(step.run)


def _text(step: Step) -> str:
    return f"{step.name}\n{step.run}".lower()


def backend_unit_test(step: Step) -> bool:
    return bool(_PYTEST.search(step.run)) and not _NOT_UNIT.search(_text(step))


def frontend_unit_test(step: Step) -> bool:
    return bool(_JS_TEST.search(step.run)) and not _NOT_UNIT.search(_text(step))


def integration_test(step: Step) -> bool:
    runs_tests = _PYTEST.search(step.run) or _JS_TEST.search(step.run)
    return bool(runs_tests) and "integration" in _text(step)


def any_test(step: Step) -> bool:
    return backend_unit_test(step) or frontend_unit_test(step) or integration_test(step)


def measures_coverage(step: Step) -> bool:
    return any_test(step) and bool(_COVERAGE.search(step.run))


def keeps_coverage(step: Step) -> bool:
    if step.action == "actions/upload-artifact":
        return "cov" in str(step.with_.get("path", "")).lower()
    return step.action.startswith("codecov/")


def sast(step: Step) -> bool:
    if step.action in _SAST_ACTIONS:
        return True
    return bool(_SAST.search(_commands(step))) and "--exit-zero" not in step.run


@dataclass(frozen=True)
class TrivyScan:
    scan_type: str
    exit_code: str
    severities: frozenset[str]

    @property
    def scans_image(self) -> bool:
        return self.scan_type in ("image", "i")

    @property
    def scans_files(self) -> bool:
        return self.scan_type in ("fs", "filesystem", "repo", "repository", "rootfs")

    def fails_from(self, threshold: str) -> bool:
        """Whether a finding at ``threshold`` or above fails the step."""
        wanted = set(SEVERITIES[SEVERITIES.index(threshold) :])
        return self.exit_code not in ("", "0") and wanted <= self.severities


def _severities(text: str) -> frozenset[str]:
    # Trivy's default is every severity
    return frozenset(s.strip().lower() for s in text.split(",") if s.strip()) or frozenset(
        SEVERITIES
    )


def trivy(step: Step) -> TrivyScan | None:
    if step.action == "aquasecurity/trivy-action":
        options = {str(k): str(v) for k, v in step.with_.items()}
        return TrivyScan(
            options.get("scan-type", "image"),
            options.get("exit-code", "0"),
            _severities(options.get("severity", "")),
        )
    match = _TRIVY_RUN.search(step.run)
    if not match:
        return None
    line = step.run[match.start() :].splitlines()[0]
    exit_code = re.search(r"--exit-code[= ](\S+)", line)
    severity = re.search(r"(?:--severity|-s)[= ](\S+)", line)
    return TrivyScan(
        match.group(1),
        exit_code.group(1) if exit_code else "0",
        _severities(severity.group(1) if severity else ""),
    )


def audits(step: Step, threshold: str) -> set[str]:
    """The ecosystems (``python``, ``javascript``) whose dependencies the step audits."""
    found: set[str] = set()
    scan = trivy(step)
    if step.action == "actions/dependency-review-action" or (scan and scan.scans_files):
        found |= {"python", "javascript"}
    commands = _commands(step)
    if _PY_AUDIT.search(commands):
        found.add("python")
    if _JS_AUDIT.search(commands):
        level = re.search(r"--audit-level[= ](\w+)", commands)
        if not level or SEVERITIES.index(_level(level.group(1))) <= SEVERITIES.index(threshold):
            found.add("javascript")
    return found


def _level(text: str) -> str:
    text = text.lower()
    return {"moderate": "medium", "info": "unknown"}.get(
        text, text if text in SEVERITIES else "low"
    )


def image_tags(step: Step) -> list[str]:
    """Image references the step builds."""
    if step.action == "docker/build-push-action":
        raw = str(step.with_.get("tags", ""))
        return [t.strip() for t in re.split(r"[\n,]", raw) if t.strip()]
    tags: list[str] = []
    for line in step.run.splitlines():
        if not _BUILD_RUN.search(line):
            continue
        try:
            words = shlex.split(line)
        except ValueError:
            words = line.split()
        tags += [words[i + 1] for i, w in enumerate(words[:-1]) if w in ("-t", "--tag")]
        tags += [w.split("=", 1)[1] for w in words if w.startswith("--tag=")]
    return tags


def pushed_images(step: Step) -> list[str]:
    """Image references the step pushes to a registry."""
    if step.action == "docker/build-push-action":
        push = str(step.with_.get("push", "false")).lower()
        return image_tags(step) if push not in ("false", "") else []
    pushed = [m.group(2).strip("\"'") for m in _PUSH_RUN.finditer(step.run)]
    if "--push" in step.run:
        pushed += image_tags(step)
    return pushed


def logs_in(step: Step) -> bool:
    return step.action == "docker/login-action" or bool(re.search(r"\bdocker login\b", step.run))


def version_tagged(image: str) -> bool:
    """A tag that names a version: a variable or a number, never only ``latest`` or none."""
    name = image.rsplit("/", 1)[-1]
    if ":" not in name:
        return "${{ steps." in image and ".outputs.tags" in image
    tag = name.split(":", 1)[1]
    return tag.lower() != "latest" and ("$" in tag or bool(re.search(r"\d", tag)))


def deploys(step: Step) -> bool:
    return bool(_DEPLOY_RUN.search(step.run))


def migrates(step: Step) -> bool:
    return bool(_MIGRATE_RUN.search(step.run)) or "deploy.sh" in step.run


def smoke_test(step: Step) -> tuple[bool, str]:
    """Whether the step is a smoke test, and a problem when it cannot fail."""
    curls = [m.group(1) for m in _CURL.finditer(step.run)]
    named = "smoke" in _text(step)
    if not named and not any("/health" in c for c in curls):
        return False, ""
    blind = [c for c in curls if not _CURL_FAILS.search(c)]
    if blind:
        return True, f"step {step.label!r} runs curl without --fail, which succeeds on a 5xx"
    return True, "" if gates(step) else f"step {step.label!r} cannot fail its job"
