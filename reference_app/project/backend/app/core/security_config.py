"""The spec's ``backend/app/core/security_config.py``:
``from app.core.security_config import security_settings`` gives the settings of the
environment the process runs in (ENVIRONMENT, SECURITY_*)."""

from __future__ import annotations

from typing import Any

from reference_app.core import security_config as _settings
from reference_app.core.security_config import SecurityConfig, SecuritySettings, security_config

# security_settings comes from __getattr__ below
__all__ = ["SecurityConfig", "SecuritySettings", "security_config"]


def __getattr__(name: str) -> Any:
    # resolved when asked for, as the reference app's module does
    return getattr(_settings, name)
