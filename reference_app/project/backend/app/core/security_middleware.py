"""The spec's ``backend/app/core/security_middleware.py``:
``from app.core.security_middleware import setup_security_middleware``."""

from __future__ import annotations

from reference_app.core.security_middleware import setup_security_middleware
from reference_app.mutants import apply_process_mutant

__all__ = ["setup_security_middleware"]

# a mutant of the settings or the middleware (REFERENCE_APP_MUTANT) holds here as in the app
apply_process_mutant()
