"""Password hashing (argon2id) and the password policy of the active profile."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from reference_app.core.config import Profile

# Longer passwords buy no security and let a client make every login hash megabytes.
MAX_PASSWORD_LENGTH = 1024

# argon2-cffi's defaults follow RFC 9106's second recommended parameter set.
_hasher = PasswordHasher()


class WeakPasswordError(ValueError):
    """The password does not meet the profile's policy."""


def check_password_policy(password: str, profile: Profile) -> None:
    """Raise WeakPasswordError with a user-facing reason if `password` is not acceptable."""
    if len(password) < profile.min_password_length:
        raise WeakPasswordError(
            f"password must be at least {profile.min_password_length} characters "
            f"in the {profile.name} profile"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise WeakPasswordError(f"password must be at most {MAX_PASSWORD_LENGTH} characters")
    if not password.strip():
        raise WeakPasswordError("password must not be only whitespace")


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
