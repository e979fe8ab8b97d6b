"""Mutants: the reference app with one deliberate defect each, to prove every check can fail.

A mutant is chosen with the environment variable REFERENCE_APP_MUTANT and applied by
create_app after the clean app is built, so the clean code carries no defect switches.
Mutants live next to the feature they break and register themselves here in one line:

    register("health-bad-version", breaks=("MON-HEALTH-004",), description="...")(apply_fn)
"""

from __future__ import annotations

import importlib
import logging
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from fastapi import FastAPI
from starlette.middleware import Middleware

from reference_app.core.config import Settings

MUTANT_ENV_VAR = "REFERENCE_APP_MUTANT"

# Modules whose import registers mutants; a new module of mutants is added here.
_MUTANT_MODULES = (
    "reference_app.api.health_mutants",
    "reference_app.frontend.mutants",
    "reference_app.image_mutants",
    "reference_app.core.middleware.headers_mutants",
    "reference_app.core.middleware.ratelimit_mutants",
    "reference_app.core.middleware.ipfilter_mutants",
    "reference_app.core.middleware.hosts_mutants",
    "reference_app.core.middleware.audit_mutants",
    "reference_app.core.middleware.validation_mutants",
    "reference_app.api.load_mutants",
    "reference_app.api.contract_mutants",
    "reference_app.input_mutants",
    "reference_app.profile_mutants",
    "reference_app.core.database_mutants",
    "reference_app.metrics_mutants",
)

_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

logger = logging.getLogger("reference_app.mutants")

ApplyMutant = Callable[[FastAPI, Settings], None]
# changes module state of the whole process (a validator), for the app and the commands alike
ProcessMutation = Callable[[], None]
# rewrites the frontend's nginx.conf text
FrontendMutation = Callable[[str], str]


@dataclass(frozen=True)
class Mutant:
    """One deliberate defect: which requirement ids it must make fail, and how to inject it."""

    name: str
    breaks: tuple[str, ...]
    description: str
    apply: ApplyMutant
    frontend: FrontendMutation | None = None
    # service (backend, frontend) -> Dockerfile lines that derive the defective image from
    # the service's image; only a container stack can run these
    image: Mapping[str, str] = field(default_factory=dict)
    # applied in every process of the app: create_app, the commands (create_admin,
    # create-user) and the spec-named modules (app.core.input_validation) apply it on start
    process: ProcessMutation | None = None


MUTANTS: dict[str, Mutant] = {}


class UnknownMutantError(KeyError):
    """No mutant of that name is registered."""

    def __str__(self) -> str:
        # KeyError would print the message with quotes around it.
        return str(self.args[0])


def register_mutant(mutant: Mutant) -> Mutant:
    """Add `mutant` to MUTANTS; names are unique kebab-case and must break something."""
    if not _NAME.match(mutant.name):
        raise ValueError(f"mutant name {mutant.name!r} must be kebab-case")
    if not mutant.breaks:
        raise ValueError(f"mutant {mutant.name!r} must name the requirement ids it breaks")
    if mutant.name in MUTANTS:
        raise ValueError(f"mutant {mutant.name!r} is already registered")
    MUTANTS[mutant.name] = mutant
    return mutant


def register(
    name: str, *, breaks: tuple[str, ...], description: str
) -> Callable[[ApplyMutant], ApplyMutant]:
    """Decorator form of register_mutant for the function that injects the defect."""

    def decorate(apply: ApplyMutant) -> ApplyMutant:
        register_mutant(Mutant(name=name, breaks=breaks, description=description, apply=apply))
        return apply

    return decorate


def _backend_untouched(app: FastAPI, settings: Settings) -> None:
    """A frontend mutant leaves the backend clean."""


def register_frontend(
    name: str, *, breaks: tuple[str, ...], description: str
) -> Callable[[FrontendMutation], FrontendMutation]:
    """Decorator for a mutant of the nginx frontend: a function rewriting its config text."""

    def decorate(mutation: FrontendMutation) -> FrontendMutation:
        register_mutant(
            Mutant(
                name=name,
                breaks=breaks,
                description=description,
                apply=_backend_untouched,
                frontend=mutation,
            )
        )
        return mutation

    return decorate


def register_image(
    name: str, *, breaks: tuple[str, ...], description: str, service: str, dockerfile: str
) -> Mutant:
    """A mutant image: ``dockerfile`` lines applied on top of ``service``'s image."""
    return register_mutant(
        Mutant(
            name=name,
            breaks=breaks,
            description=description,
            apply=_backend_untouched,
            image={service: dockerfile},
        )
    )


def replace_middleware(app: FastAPI, original: type, defective: type) -> None:
    """Swap a middleware class of ``app`` (before it starts) for a defective subclass."""
    for index, entry in enumerate(app.user_middleware):
        if cast(object, entry.cls) is original:
            app.user_middleware[index] = Middleware(
                cast(Any, defective), *entry.args, **entry.kwargs
            )
            return
    raise ValueError(f"{original.__name__} is not installed on the app")


def get_mutant(name: str) -> Mutant:
    """The registered mutant `name`; UnknownMutantError (a KeyError) lists the known names."""
    try:
        return MUTANTS[name]
    except KeyError:
        known = ", ".join(sorted(MUTANTS)) or "none"
        raise UnknownMutantError(f"unknown mutant {name!r}; known mutants: {known}") from None


def apply_mutant(app: FastAPI, settings: Settings, name: str) -> Mutant:
    mutant = get_mutant(name)
    if mutant.process is not None:
        mutant.process()
    mutant.apply(app, settings)
    app.state.mutant = mutant.name
    logger.warning("mutant %r is active: %s", mutant.name, mutant.description)
    return mutant


def apply_mutant_from_env(
    app: FastAPI, settings: Settings, environ: Mapping[str, str] | None = None
) -> Mutant | None:
    """Apply the mutant named by REFERENCE_APP_MUTANT; unset or empty leaves the app clean.

    An unknown name raises instead of falling back to the clean app, so a typo can never
    make a check look as if it failed for the right reason.
    """
    name = (os.environ if environ is None else environ).get(MUTANT_ENV_VAR, "").strip()
    app.state.mutant = None
    if not name:
        return None
    return apply_mutant(app, settings, name)


def apply_process_mutant(environ: Mapping[str, str] | None = None) -> Mutant | None:
    """Apply the process part of the mutant REFERENCE_APP_MUTANT names, if it has one; an
    unknown name raises UnknownMutantError as for the app."""
    name = (os.environ if environ is None else environ).get(MUTANT_ENV_VAR, "").strip()
    if not name:
        return None
    mutant = get_mutant(name)
    if mutant.process is not None:
        mutant.process()
        logger.warning("mutant %r is active: %s", mutant.name, mutant.description)
    return mutant


def _load_mutant_modules() -> None:
    for module in _MUTANT_MODULES:
        importlib.import_module(module)


_load_mutant_modules()
