"""The spec's ``backend/app/core/input_validation.py``: the reference app's validators under the
package name the spec uses (``from app.core.input_validation import validate_email``)."""

from __future__ import annotations

from reference_app.core.input_validation import (
    ALLOWED_UPLOADS,
    InputValidationError,
    UploadInfo,
    UploadTooLarge,
    UploadTypeRefused,
    check_password_strength,
    sanitize_filename,
    sanitize_html,
    validate_email,
    validate_upload,
    validate_username,
)
from reference_app.mutants import apply_process_mutant

__all__ = [
    "ALLOWED_UPLOADS",
    "InputValidationError",
    "UploadInfo",
    "UploadTooLarge",
    "UploadTypeRefused",
    "check_password_strength",
    "sanitize_filename",
    "sanitize_html",
    "validate_email",
    "validate_upload",
    "validate_username",
]

# a mutant of the validators (REFERENCE_APP_MUTANT) holds here as in the app's own process
apply_process_mutant()
