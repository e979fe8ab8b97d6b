"""Security middleware layer: headers (being built; installs nothing yet)."""

from __future__ import annotations

from fastapi import FastAPI

from reference_app.core.security_config import SecurityConfig


def install(app: FastAPI, config: SecurityConfig) -> None:
    """Add this layer to ``app``."""
