"""Password hashing (argon2id); the password policy is input_validation's, one for every caller."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from reference_app.core.input_validation import MAX_PASSWORD_LENGTH

__all__ = ["MAX_PASSWORD_LENGTH", "hash_password", "needs_rehash", "verify_password"]

# argon2-cffi's defaults follow RFC 9106's second recommended parameter set.
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """An argon2id hash string that embeds its own salt and parameters."""
    return _hasher.hash(password)


def verify_password(hashed: str, password: str) -> bool:
    """True when `password` matches `hashed`; False for a mismatch or a malformed hash."""
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(hashed: str) -> bool:
    """True when `hashed` was made with weaker parameters than the current ones."""
    return _hasher.check_needs_rehash(hashed)
