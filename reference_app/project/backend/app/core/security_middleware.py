"""The spec's ``backend/app/core/security_middleware.py``:
``from app.core.security_middleware import setup_security_middleware``."""

from __future__ import annotations

from reference_app.core.security_middleware import setup_security_middleware

__all__ = ["setup_security_middleware"]
