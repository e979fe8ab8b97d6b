"""The requirement catalogue: every claim of the spec as data, and its loader."""

from harness.spec.catalogue import (
    AREAS,
    ID_PREFIXES,
    KINDS,
    PROFILES,
    Catalogue,
    CatalogueError,
    Parameter,
    Requirement,
    load_catalogue,
)

__all__ = [
    "AREAS",
    "ID_PREFIXES",
    "KINDS",
    "PROFILES",
    "Catalogue",
    "CatalogueError",
    "Parameter",
    "Requirement",
    "load_catalogue",
]
