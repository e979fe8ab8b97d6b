"""The deployment's backend modules at the spec's locations, and how their child process is
started: which interpreter, which environment, which function plays which role."""

from __future__ import annotations

import atexit
import secrets
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.probes.modulecall import ModuleError, ModuleProcess, module_file
from harness.probes.validators import Validator

# the spec's modules, under the backend's package (``app_package``)
INPUT_VALIDATION = "core.input_validation"
SECURITY_CONFIG = "core.security_config"
SECURITY_MIDDLEWARE = "core.security_middleware"
# the validators' roles, as ``input_validators`` maps them to the module's functions
ROLES = ("email", "username", "password", "html", "filename", "upload")
MUTANT_ENV_VAR = "REFERENCE_APP_MUTANT"


def module_name(params: Mapping[str, Any], relative: str) -> str:
    """``app.core.input_validation`` for ``core.input_validation`` (``app_package``)."""
    return f"{params['app_package']}.{relative}"


def location(params: Mapping[str, Any], relative: str) -> str:
    """The module's file as the spec writes it: ``backend/app/core/input_validation.py``."""
    return f"{params['backend_dir']}/{module_file(module_name(params, relative))}"


def validator_names(entries: Sequence[str]) -> dict[str, str]:
    """``input_validators`` (``role=function`` entries) as a mapping over :data:`ROLES`;
    a malformed entry or an unknown role is one line."""
    names: dict[str, str] = {}
    for entry in entries:
        role, _, name = entry.partition("=")
        role, name = role.strip(), name.strip()
        if role not in ROLES or not name.isidentifier():
            raise ModuleError(
                f"input_validators entry {entry!r}: expected ROLE=FUNCTION with a role of "
                f"{', '.join(ROLES)}"
            )
        names[role] = name
    return names


def child_env(environment: str, mutant: str | None, extra: Sequence[str] = ()) -> dict[str, str]:
    """The child's environment on top of the harness's: the profile as ``ENVIRONMENT``, a
    random ``SECRET_KEY`` (a production settings module refuses to load without one; never
    shown anywhere), the reference app's mutant, then ``module_env``'s ``NAME=VALUE``."""
    env = {"ENVIRONMENT": environment, "SECRET_KEY": secrets.token_urlsafe(48)}
    if mutant:
        env[MUTANT_ENV_VAR] = mutant
    for entry in extra:
        name, sep, value = entry.partition("=")
        if not sep or not name.strip():
            raise ModuleError(f"module_env entry {entry!r}: expected NAME=VALUE")
        env[name.strip()] = value
    return env


def backend_process(
    root: Path,
    params: Mapping[str, Any],
    environment: str,
    mutant: str | None,
) -> ModuleProcess:
    """A (not yet started) child for the backend directory of the repository at ``root``."""
    backend = (root / params["backend_dir"]).resolve()
    if backend != root and root not in backend.parents:
        raise ModuleError(f"backend_dir {params['backend_dir']!r} leaves the repository")
    if not backend.is_dir():
        raise ModuleError(
            f"{params['backend_dir']}/: no such directory in {root}; "
            "set --param backend_dir=DIR if the backend lives elsewhere"
        )
    python = params["backend_python"] or sys.executable
    env = child_env(environment, mutant, params["module_env"])
    return ModuleProcess(backend, python, env)


class BackendProcesses:
    """Module children, one per (repository, backend directory, environment), started once
    and closed together; :func:`shared_processes` holds one set for the whole run."""

    def __init__(self, mutant: str | None) -> None:
        self.mutant = mutant
        self._open: dict[tuple[Path, str, str], ModuleProcess] = {}

    def get(self, root: Path, params: Mapping[str, Any], environment: str) -> ModuleProcess:
        key = (root, str(params["backend_dir"]), environment)
        if key not in self._open:
            process = backend_process(root, params, environment, self.mutant)
            process.start()
            self._open[key] = process
        return self._open[key]

    def __enter__(self) -> BackendProcesses:
        return self

    def __exit__(self, *exc: object) -> None:
        for process in self._open.values():
            process.close()
        self._open.clear()


_SHARED: dict[str | None, BackendProcesses] = {}


def shared_processes(mutant: str | None) -> BackendProcesses:
    """The run's children (per mutant): the suites of the module checks share them, since
    starting a backend's interpreter and imports costs seconds; closed when the run ends."""
    if mutant not in _SHARED:
        _SHARED[mutant] = BackendProcesses(mutant)
        atexit.register(_SHARED[mutant].__exit__)
    return _SHARED[mutant]


def role_validator(
    processes: BackendProcesses, root: Path, params: Mapping[str, Any], environment: str, role: str
) -> Validator:
    """The function playing ``role`` in the input validation module, callable in the child
    for ``environment``; :class:`ModuleError` naming the file when it cannot be had."""
    module, where = module_name(params, INPUT_VALIDATION), location(params, INPUT_VALIDATION)
    name = validator_names(params["input_validators"]).get(role)
    if name is None:
        raise ModuleError(f"input_validators names no function for the role {role!r}")
    try:
        process = processes.get(root, params, environment)
        if not process.has(module, name):
            raise ModuleError(f"{module} has no {name}")
    except ModuleError as exc:
        raise ModuleError(f"{where}: {exc}") from None
    seed, budget = params["hypothesis_seed"], params["hypothesis_max_examples"]
    return Validator(process.call, module, name, seed, budget)
