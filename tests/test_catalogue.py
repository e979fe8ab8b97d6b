"""The requirement catalogue: the real file is valid and complete; the loader names bad entries."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.resources import spec_document
from harness.spec import ID_PREFIXES, CatalogueError, load_catalogue
from harness.spec.catalogue import parse_catalogue


def _doc(**overrides: Any) -> dict[str, Any]:
    requirement = {
        "id": "SEC-RL-001",
        "title": "t",
        "area": "rate-limiting",
        "section": "s",
        "profiles": ["production"],
        "params": ["calls"],
    }
    requirement.update(overrides)
    return {
        "parameters": {"calls": {"type": "int", "default": 100, "description": "d"}},
        "requirements": [requirement],
    }


def test_real_catalogue_is_valid_and_large() -> None:
    catalogue = load_catalogue()
    assert len(catalogue) > 100
    prefixes = {req.prefix for req in catalogue}
    assert prefixes == set(ID_PREFIXES), (
        f"areas without requirements: {set(ID_PREFIXES) - prefixes}"
    )


def test_every_spec_section_has_requirements() -> None:
    catalogue = load_catalogue()
    sections = " ".join(req.section for req in catalogue)
    headings = re.findall(
        r"^#{2,3} (.+)$", spec_document().read_text(encoding="utf-8"), flags=re.MULTILINE
    )
    skip = {"Table of Contents", "Overview", "Location", "Getting Help", "Version History"}
    missing = [h for h in headings if h not in skip and h not in sections]
    assert not missing, f"spec headings without a requirement: {missing}"


def test_valid_minimal_document_loads() -> None:
    catalogue = parse_catalogue(_doc(), Path("x.yaml"))
    assert catalogue["SEC-RL-001"].params == ("calls",)
    assert catalogue.parameters["calls"].default == 100


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"id": "sec-rl-1"}, "id must be PREFIX-SUFFIX"),
        ({"id": "XYZ-001"}, "PREFIX one of"),
        ({"area": "monitoring"}, "does not match its prefix"),
        ({"profiles": ["staging"]}, "profiles must be"),
        ({"params": ["nope"]}, "unknown parameter 'nope'"),
        ({"title": ""}, "missing 'title'"),
        ({"colour": "red"}, "unknown keys"),
        ({"probes_saturation": "yes"}, "'probes_saturation' must be true or false"),
        ({"kind": "promise"}, "kind must be one of check, attestation"),
    ],
)
def test_bad_entry_is_named(override: dict[str, Any], message: str) -> None:
    with pytest.raises(CatalogueError, match=message) as info:
        parse_catalogue(_doc(**override), Path("x.yaml"))
    assert "requirement" in str(info.value)


def test_duplicate_id_is_refused() -> None:
    doc = _doc()
    doc["requirements"].append(dict(doc["requirements"][0]))
    with pytest.raises(CatalogueError, match="'SEC-RL-001': duplicate id"):
        parse_catalogue(doc, Path("x.yaml"))


@pytest.mark.parametrize(
    ("param", "message"),
    [
        ({"type": "int", "default": "many", "description": "d"}, "not a valid int"),
        ({"type": "complex", "default": 1, "description": "d"}, "type must be one of"),
        ({"type": "int", "description": "d"}, "missing 'default'"),
        ({"type": "int", "default": 1, "description": "d", "profiles": {"qa": 2}}, "profiles"),
    ],
)
def test_bad_parameter_is_named(param: dict[str, Any], message: str) -> None:
    doc = _doc()
    doc["parameters"]["calls"] = param
    with pytest.raises(CatalogueError, match=f"parameter 'calls'.*{message}"):
        parse_catalogue(doc, Path("x.yaml"))


def test_invalid_yaml_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "requirements.yaml"
    bad.write_text("parameters: {}\nrequirements:\n  - id: [unclosed\n")
    with pytest.raises(CatalogueError, match=r"requirements.yaml: line \d+: invalid YAML"):
        load_catalogue(bad)


def test_a_key_given_twice_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "requirements.yaml"
    bad.write_text(
        "parameters:\n  seed: {type: int, default: 1, description: a}\n"
        "  seed: {type: int, default: 2, description: b}\nrequirements: []\n"
    )
    with pytest.raises(CatalogueError, match=r"line 3: invalid YAML \(duplicate key 'seed'\)"):
        load_catalogue(bad)


def test_profile_defaults() -> None:
    doc = _doc()
    doc["parameters"]["calls"]["profiles"] = {"development": 1000}
    param = parse_catalogue(doc, Path("x.yaml")).parameters["calls"]
    assert (param.default_for("production"), param.default_for("development")) == (100, 1000)


def test_yaml_is_plain_data() -> None:
    # the catalogue is a contract other tools read: no YAML tags or anchors tricks
    text = load_catalogue().path.read_text()
    assert "!!" not in text
    assert isinstance(yaml.safe_load(text), dict)


PATH_VALUES = [
    ("/api/items", "/api/items"),
    (" /health ", "/health"),
    ("/", "/"),
]


@pytest.mark.parametrize(("given", "expected"), PATH_VALUES)
def test_path_parameter_takes_a_request_path(given: str, expected: str) -> None:
    api = load_catalogue().parameters["api_probe_path"]
    assert api.coerce(given, source="--param") == expected


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        ("items", "has no leading slash"),
        ("http://shop.example/items", "names a scheme or host"),
        ("//shop.example/items", "names a scheme or host"),
        ("", "has no leading slash"),
    ],
)
def test_path_parameter_refuses_what_is_not_a_path(given: str, problem: str) -> None:
    api = load_catalogue().parameters["api_probe_path"]
    with pytest.raises(CatalogueError) as caught:
        api.coerce(given, source="--param")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("parameter 'api_probe_path' from --param: ")
    assert problem in message
    assert message.endswith("e.g. --param api_probe_path=/api/v1/formulas")


def test_path_lists_check_every_item() -> None:
    sensitive = load_catalogue().parameters["sensitive_paths"]
    assert sensitive.coerce("/a, /b", source="env") == ["/a", "/b"]
    with pytest.raises(CatalogueError, match="'b' has no leading slash"):
        sensitive.coerce("/a,b", source="env")


def test_every_request_path_parameter_is_typed_as_a_path() -> None:
    parameters = load_catalogue().parameters
    paths = {name for name, p in parameters.items() if p.type in {"path", "list[path]"}}
    assert {"health_path", "api_probe_path", "login_path", "error_probe_path"} <= paths
    # a default that is a request path must be typed so a user's override is checked too
    for name, parameter in parameters.items():
        if isinstance(parameter.default, str) and parameter.default.startswith("/api"):
            assert name in paths, name
