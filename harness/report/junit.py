"""JUnit XML that names the requirements: each test case carries one
``<property name="requirement" value="ID"/>`` per requirement it checks (what Jenkins' JUnit
plugin, GitLab's test report and Allure's JUnit reader show as test case properties).

pytest writes every user property of a test into its XML; the plugin's own record (the check's
evidence, for the matrix) is one of them. Once pytest has written the file, that record is
replaced by the requirement ids and the whole file is masked once more.
"""

from __future__ import annotations

import ast
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from harness.report.redaction import redact_text

PROPERTY = "harness"


def _ids(value: str) -> list[str]:
    """The requirement ids in the plugin's record as pytest wrote it (``str`` of a dict)."""
    try:
        record = ast.literal_eval(value)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return []
    if not isinstance(record, dict):
        return []
    return [str(rid) for rid in record.get("requirements", [])]


def name_requirements(path: Path) -> int:
    """Rewrite the JUnit file at ``path``: the plugin's records become requirement properties;
    returns how many test cases name a requirement."""
    tree = ET.parse(path)  # noqa: S314 (the file pytest itself has just written)
    named = 0
    for case in tree.getroot().iter("testcase"):
        properties = case.find("properties")
        if properties is None:
            continue
        ids: list[str] = []
        for prop in list(properties):
            if prop.get("name") == PROPERTY:
                ids += _ids(prop.get("value", ""))
                properties.remove(prop)
        for rid in dict.fromkeys(ids):
            ET.SubElement(properties, "property", {"name": "requirement", "value": rid})
        if ids:
            named += 1
        if len(properties) == 0:
            case.remove(properties)
    text = ET.tostring(tree.getroot(), encoding="unicode")
    path.write_text('<?xml version="1.0" encoding="utf-8"?>' + redact_text(text), "utf-8")
    return named


class JunitRequirements:
    """In the controller: rewrites the JUnit file pytest wrote (``--junitxml``)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @pytest.hookimpl(trylast=True)  # after junitxml wrote the file
    def pytest_sessionfinish(self, session: Any) -> None:
        if self.path.is_file():
            name_requirements(self.path)
