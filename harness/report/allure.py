"""Allure for every check: labels from the catalogue, the parameters a check applied, its
evidence as attachments, and nothing unmasked in what allure-pytest writes.

Active whenever allure-pytest writes results (``--alluredir``), in ``harness gate`` and in a
plain ``pytest suites --alluredir=...`` alike, in the controller and in every xdist worker.
"""

from __future__ import annotations

import json
import os
from collections.abc import Generator, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import allure
import pytest
from allure_commons.types import AttachmentType

from harness.report.redaction import redact_text, redact_value
from harness.spec import Catalogue, Requirement

PROPERTY = "harness"  # the user property the plugin fills with a check's (redacted) record
# Allure's severities are blocker/critical/normal/minor/trivial; the catalogue has none of its
# own, so a requirement's area decides: what an attacker exploits is critical, what breaks a
# release or an incident response is normal, the documentation is minor
SEVERITY_BY_AREA = {
    "security-headers": "critical",
    "rate-limiting": "critical",
    "request-validation": "critical",
    "input-validation": "critical",
    "audit-logging": "critical",
    "ip-filtering": "critical",
    "security-configuration": "critical",
    "documentation": "minor",
}
DEFAULT_SEVERITY = "normal"
_RANK = ("blocker", "critical", "normal", "minor", "trivial")


def severity_of(requirement: Requirement) -> str:
    return SEVERITY_BY_AREA.get(requirement.area, DEFAULT_SEVERITY)


def labels_for(requirements: Sequence[Requirement]) -> list[tuple[str, str]]:
    """The Allure labels of a check of ``requirements``: epic = area, feature = spec section,
    story = requirement id, one ``requirement`` label per id and the gravest severity."""
    labels: list[tuple[str, str]] = []
    for req in requirements:
        labels += [("epic", req.area), ("feature", req.section), ("story", req.id)]
        labels.append(("requirement", req.id))
    if requirements:
        severity = min((severity_of(r) for r in requirements), key=_RANK.index)
        labels.append(("severity", severity))
    return list(dict.fromkeys(labels))


def requirements_of(item: pytest.Item, catalogue: Catalogue) -> list[Requirement]:
    """The catalogue entries an item's ``requirement`` markers name (unknown ids are the
    plugin's to refuse, not this module's)."""
    ids = [rid for mark in item.iter_markers("requirement") for rid in mark.args]
    return [catalogue.requirements[rid] for rid in dict.fromkeys(ids) if rid in catalogue]


def exchange_text(item: Mapping[str, Any]) -> str:
    """One recorded HTTP exchange as it went over the wire (headers already masked)."""
    lines = [str(item.get("request", ""))]
    lines += [f"{k}: {v}" for k, v in (item.get("request_headers") or {}).items()]
    lines += ["", f"HTTP {item.get('status', '?')}"]
    lines += [f"{k}: {v}" for k, v in (item.get("response_headers") or {}).items()]
    lines += ["", str(item.get("body", ""))]
    return "\n".join(lines)


def plots_in(evidence: Iterable[Mapping[str, Any]]) -> list[Path]:
    """The PNG files a check's notes name (a load run's plot) that exist."""
    found: list[Path] = []
    for item in evidence:
        value = item.get("value")
        values = value.values() if isinstance(value, Mapping) else [value]
        for candidate in values:
            if isinstance(candidate, str) and candidate.endswith(".png"):
                path = Path(candidate)
                if path.is_file() and path not in found:
                    found.append(path)
    return found


def attach_record(record: Mapping[str, Any]) -> None:
    """Attach one phase's record to the running Allure test: applied parameters, the evidence
    as JSON, the HTTP exchanges as text, a load plot. The record is redacted again here, so a
    secret registered after the plugin masked it is caught too."""
    record = redact_value(record)
    for name, value in (record.get("applied") or {}).items():
        allure.dynamic.parameter(name, value)
    evidence: list[dict[str, Any]] = record.get("evidence") or []
    if not evidence:
        return
    allure.attach(
        json.dumps(evidence, indent=2, ensure_ascii=False, default=str),
        name="evidence",
        attachment_type=AttachmentType.JSON,
    )
    exchanges = [exchange_text(item) for item in evidence if item.get("kind") == "http"]
    if exchanges:
        text = redact_text(("\n\n" + "-" * 60 + "\n\n").join(exchanges))
        allure.attach(text, name="HTTP exchanges", attachment_type=AttachmentType.TEXT)
    for plot in plots_in(evidence):
        allure.attach.file(  # type: ignore[no-untyped-call]
            str(plot), name=plot.name, attachment_type=AttachmentType.PNG
        )


class AllureExtras:
    """Labels at collection (so allure's own ``--allure-epics`` selection sees them too) and
    each phase's record attached as the phase ends."""

    def __init__(self, config: pytest.Config, catalogue: Catalogue) -> None:
        self.config = config
        self.catalogue = catalogue

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            for name, value in labels_for(requirements_of(item, self.catalogue)):
                item.add_marker(pytest.mark.allure_label(value, label_type=name))

    # outermost: the plugin's own wrapper has recorded (and masked) the phase by then
    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        before = len(item.user_properties)
        report = yield
        for key, record in report.user_properties[before:]:
            if key == PROPERTY and isinstance(record, Mapping):
                attach_record(record)
        return report

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if hasattr(self.config, "workerinput"):
            return  # the controller writes the files of the whole run
        from harness.report.allure_results import write_run_files

        recorder = self.config.pluginmanager.get_plugin("harness-matrix")
        written = getattr(recorder, "written", None)
        matrix = written[0] if written else None
        write_run_files(Path(self.config.option.allure_report_dir), matrix)


def register_extras(config: pytest.Config, catalogue: Catalogue) -> None:
    """Turn on what this run writes besides the matrix: Allure's labels, attachments, run
    files and redaction net (with ``--alluredir``) and requirement ids in JUnit XML (with
    ``--junitxml``, in the controller, which writes that file)."""
    results = getattr(config.option, "allure_report_dir", None)
    if results:
        from harness.report.allure_results import register_redaction, unregister_redaction

        hooks = register_redaction(Path(results).resolve())
        config.add_cleanup(lambda: unregister_redaction(hooks))
        config.pluginmanager.register(AllureExtras(config, catalogue), "harness-allure")
    xmlpath = getattr(config.option, "xmlpath", None)
    if xmlpath and not hasattr(config, "workerinput"):
        from harness.report.junit import JunitRequirements

        # the path as pytest's junitxml resolves it
        path = Path(os.path.abspath(os.path.expanduser(xmlpath)))
        config.pluginmanager.register(JunitRequirements(path), "harness-junit")
