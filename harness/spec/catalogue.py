"""Load and validate ``requirements.yaml``; every error names the bad entry."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

DEFAULT_PATH = Path(str(files("harness.spec") / "requirements.yaml"))

PROFILES: tuple[str, ...] = ("production", "development")

# prefix -> area; the area names the suite module (suites/test_<area>.py) that checks it
ID_PREFIXES: dict[str, str] = {
    "LOAD": "load",
    "SEC-HDR": "security-headers",
    "SEC-RL": "rate-limiting",
    "SEC-VAL": "request-validation",
    "SEC-IP": "ip-filtering",
    "SEC-AUD": "audit-logging",
    "INP": "input-validation",
    "CFG": "security-configuration",
    "DOC": "documentation",
    "DEP": "deployment",
    "MON": "monitoring",
    "OPS": "operations",
    "API": "api-contract",
}
AREAS: frozenset[str] = frozenset(ID_PREFIXES.values())

_ID_RE = re.compile(
    r"^(?P<prefix>"
    + "|".join(sorted(map(re.escape, ID_PREFIXES), key=len, reverse=True))
    + r")-[A-Z0-9]+(?:-[A-Z0-9]+)*$"
)
PARAM_TYPES = ("int", "float", "str", "bool", "list[str]", "path", "list[path]")
# paths on the target (not files): a request path with a leading slash, no scheme or host
PATH_TYPES = frozenset({"path", "list[path]"})
_PARAM_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_REQUIREMENT_KEYS = {
    "id",
    "title",
    "area",
    "section",
    "profiles",
    "params",
    "claim",
    "notes",
    "probes_saturation",
    "kind",
}
# check: a program proves it (a check of the target or of the repository); attestation: a
# human process no program can verify, answered by a person's statement (--attestations)
KINDS = ("check", "attestation")
_PARAMETER_KEYS = {"type", "default", "unit", "description", "profiles", "choices"}


class CatalogueError(ValueError):
    """The catalogue file is malformed; the message names the entry and the problem."""


class PathValueError(ValueError):
    """A ``path`` value that is not a path of the target (no leading slash, a scheme or host)."""

    def __init__(self, value: str, problem: str) -> None:
        super().__init__(f"{value!r} {problem}")
        self.value = value
        self.problem = problem


@dataclass(frozen=True)
class Parameter:
    """A tunable value of one or more requirements, with the spec's default."""

    name: str
    type: str
    default: Any
    description: str
    unit: str | None = None
    by_profile: Mapping[str, Any] = field(default_factory=dict)
    choices: tuple[Any, ...] | None = None

    def default_for(self, profile: str) -> Any:
        return self.by_profile.get(profile, self.default)

    def coerce(self, value: Any, *, source: str) -> Any:
        """Convert ``value`` (from TOML, env or CLI) to this parameter's type."""
        where = f"parameter {self.name!r} from {source}"
        try:
            result = coerce_value(self.type, value, where=where)
        except CatalogueError as exc:
            if self.type not in PATH_TYPES:
                raise
            example = self.default if isinstance(self.default, str) else "/your/route"
            raise CatalogueError(
                f"{exc}; give a path of the target, e.g. --param {self.name}={example}"
            ) from None
        if self.choices is not None and result not in self.choices:
            allowed = ", ".join(map(str, self.choices))
            raise CatalogueError(
                f"parameter {self.name!r} from {source}: {result!r} is not one of {allowed}"
            )
        return result


@dataclass(frozen=True)
class Requirement:
    """One claim of the spec."""

    id: str
    title: str
    area: str
    section: str
    profiles: tuple[str, ...]
    params: tuple[str, ...] = ()
    claim: str = ""
    notes: str = ""
    # a load scenario that is meant to push the target past what it serves (stress, spike):
    # achieving less than the planned rate is what it measures, not a failure
    probes_saturation: bool = False
    kind: str = "check"

    @property
    def prefix(self) -> str:
        match = _ID_RE.match(self.id)
        assert match is not None  # validated at load time
        return match.group("prefix")

    def applies_to(self, profile: str) -> bool:
        return profile in self.profiles


@dataclass(frozen=True)
class Catalogue:
    """All requirements and parameters, in file order."""

    requirements: Mapping[str, Requirement]
    parameters: Mapping[str, Parameter]
    path: Path

    def __iter__(self) -> Iterator[Requirement]:
        return iter(self.requirements.values())

    def __len__(self) -> int:
        return len(self.requirements)

    def __contains__(self, requirement_id: object) -> bool:
        return requirement_id in self.requirements

    def __getitem__(self, requirement_id: str) -> Requirement:
        return self.requirements[requirement_id]


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ValueError


def _to_int(value: Any) -> int:
    if isinstance(value, bool | float):
        raise ValueError  # 1.5 or True are not counts, even if int() would take them
    return int(value)


def _to_float(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError
    return float(value)


def _to_str(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError
    return value


def _to_str_list(value: Any) -> list[str]:
    if isinstance(value, str):  # env vars and options: comma separated
        return [item.strip() for item in value.split(",") if item.strip()]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    raise ValueError


def _to_path(value: Any) -> str:
    """A path on the target, as a request line carries it: ``/api/items``, never ``items`` or
    ``http://host/items`` (those would be joined to the base URL in surprising ways)."""
    text = _to_str(value).strip()
    if "://" in text or text.startswith("//"):
        raise PathValueError(text, "names a scheme or host, not a path")
    if not text.startswith("/"):
        raise PathValueError(text, "has no leading slash")
    return text


def _to_path_list(value: Any) -> list[str]:
    return [_to_path(item) for item in _to_str_list(value)]


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "int": _to_int,
    "float": _to_float,
    "str": _to_str,
    "bool": _to_bool,
    "list[str]": _to_str_list,
    "path": _to_path,
    "list[path]": _to_path_list,
}


def coerce_value(type_name: str, value: Any, *, where: str) -> Any:
    """Convert ``value`` to ``type_name``; strings are parsed as env vars and options are."""
    converter = _CONVERTERS.get(type_name)
    if converter is None:
        raise CatalogueError(
            f"{where}: unknown type {type_name!r} (use one of {', '.join(PARAM_TYPES)})"
        )
    try:
        return converter(value)
    except PathValueError as exc:
        raise CatalogueError(f"{where}: {exc}") from None
    except (TypeError, ValueError):
        raise CatalogueError(f"{where}: {value!r} is not a valid {type_name}") from None


def _parse_parameter(name: str, raw: Any) -> Parameter:
    where = f"parameter {name!r}"
    if not _PARAM_NAME_RE.match(name):
        raise CatalogueError(f"{where}: name must be lower_snake_case")
    if not isinstance(raw, dict):
        raise CatalogueError(f"{where}: expected a mapping, got {type(raw).__name__}")
    unknown = set(raw) - _PARAMETER_KEYS
    if unknown:
        raise CatalogueError(f"{where}: unknown keys {sorted(unknown)}")
    type_name = raw.get("type")
    if type_name not in PARAM_TYPES:
        raise CatalogueError(f"{where}: type must be one of {', '.join(PARAM_TYPES)}")
    if "default" not in raw:
        raise CatalogueError(f"{where}: missing 'default'")
    default = (
        None if raw["default"] is None else coerce_value(type_name, raw["default"], where=where)
    )
    by_profile_raw = raw.get("profiles") or {}
    if not isinstance(by_profile_raw, dict) or set(by_profile_raw) - set(PROFILES):
        raise CatalogueError(f"{where}: 'profiles' must map {' / '.join(PROFILES)} to values")
    by_profile = {
        profile: coerce_value(type_name, value, where=f"{where} ({profile})")
        for profile, value in by_profile_raw.items()
    }
    choices = raw.get("choices")
    if choices is not None and not isinstance(choices, list):
        raise CatalogueError(f"{where}: 'choices' must be a list")
    description = raw.get("description")
    if not isinstance(description, str) or not description.strip():
        raise CatalogueError(f"{where}: missing 'description'")
    return Parameter(
        name=name,
        type=type_name,
        default=default,
        description=description.strip(),
        unit=raw.get("unit"),
        by_profile=by_profile,
        choices=tuple(choices) if choices is not None else None,
    )


def _parse_requirement(index: int, raw: Any, parameters: Mapping[str, Parameter]) -> Requirement:
    if not isinstance(raw, dict):
        raise CatalogueError(f"requirement #{index + 1}: expected a mapping")
    rid = raw.get("id")
    where = f"requirement {rid!r}" if rid else f"requirement #{index + 1}"
    if not isinstance(rid, str):
        raise CatalogueError(f"{where}: missing 'id'")
    match = _ID_RE.match(rid)
    if match is None:
        raise CatalogueError(
            f"{where}: id must be PREFIX-SUFFIX in upper case, with PREFIX one of "
            + ", ".join(ID_PREFIXES)
        )
    unknown = set(raw) - _REQUIREMENT_KEYS
    if unknown:
        raise CatalogueError(f"{where}: unknown keys {sorted(unknown)}")
    for key in ("title", "section"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise CatalogueError(f"{where}: missing '{key}'")
    area = raw.get("area")
    if area != ID_PREFIXES[match.group("prefix")]:
        raise CatalogueError(
            f"{where}: area {area!r} does not match its prefix "
            f"(expected {ID_PREFIXES[match.group('prefix')]!r})"
        )
    profiles = raw.get("profiles")
    if not isinstance(profiles, list) or not profiles or set(profiles) - set(PROFILES):
        raise CatalogueError(f"{where}: profiles must be a non-empty list of {', '.join(PROFILES)}")
    params = raw.get("params") or []
    if not isinstance(params, list):
        raise CatalogueError(f"{where}: 'params' must be a list of parameter names")
    for name in params:
        if name not in parameters:
            raise CatalogueError(f"{where}: unknown parameter {name!r}")
    saturation = raw.get("probes_saturation", False)
    if not isinstance(saturation, bool):
        raise CatalogueError(f"{where}: 'probes_saturation' must be true or false")
    return Requirement(
        id=rid,
        title=raw["title"].strip(),
        area=area,
        section=raw["section"].strip(),
        profiles=tuple(profiles),
        params=tuple(params),
        claim=str(raw.get("claim", "")).strip(),
        notes=str(raw.get("notes", "")).strip(),
        probes_saturation=saturation,
        kind=_kind(raw, where),
    )


def _kind(raw: Mapping[str, Any], where: str) -> str:
    kind = raw.get("kind", "check")
    if kind not in KINDS:
        raise CatalogueError(f"{where}: kind must be one of {', '.join(KINDS)}")
    return str(kind)


def parse_catalogue(data: Any, path: Path) -> Catalogue:
    """Validate the parsed YAML document."""
    if not isinstance(data, dict) or not isinstance(data.get("requirements"), list):
        raise CatalogueError(f"{path}: expected top-level keys 'parameters' and 'requirements'")
    raw_params = data.get("parameters") or {}
    if not isinstance(raw_params, dict):
        raise CatalogueError(f"{path}: 'parameters' must be a mapping")
    parameters = {name: _parse_parameter(name, raw) for name, raw in raw_params.items()}
    requirements: dict[str, Requirement] = {}
    for index, raw in enumerate(data["requirements"]):
        requirement = _parse_requirement(index, raw, parameters)
        if requirement.id in requirements:
            raise CatalogueError(f"requirement {requirement.id!r}: duplicate id")
        requirements[requirement.id] = requirement
    return Catalogue(requirements=requirements, parameters=parameters, path=path)


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key given twice in one mapping: plain YAML keeps the
    last one, so a second definition of a parameter would silently replace the first."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


@cache
def _load_cached(path: Path) -> Catalogue:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogueError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}:" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise CatalogueError(f"{path}:{line} invalid YAML ({problem})") from None
    try:
        return parse_catalogue(data, path)
    except CatalogueError as exc:
        raise CatalogueError(f"{path}: {exc}") from None


def load_catalogue(path: Path | None = None) -> Catalogue:
    """Load (once per path) and validate the catalogue."""
    return _load_cached((path or DEFAULT_PATH).resolve())
