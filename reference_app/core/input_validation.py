"""Validators for what users send: e-mail, username, password, rich text, uploaded files.

Every validator raises ``InputValidationError`` (a ``ValueError``) whose text is the reason a
user can act on; no other exception escapes for any ``str`` or ``bytes`` input.
"""

from __future__ import annotations

import gzip
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources

import email_validator
import nh3
import puremagic

from reference_app.core.config import PROFILES, Profile, get_settings

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{3,32}\Z")
# Longer passwords buy no security and let a client make every login hash megabytes.
MAX_PASSWORD_LENGTH = 1024
EMAIL_MAX_LENGTH = 254

ALLOWED_TAGS = frozenset(
    {"b", "i", "em", "strong", "a", "p", "ul", "ol", "li", "code", "pre", "br"}
)
ALLOWED_ATTRIBUTES = {"a": {"href"}}
ALLOWED_URL_SCHEMES = frozenset({"http", "https", "mailto"})

# media type -> the extensions a name may end with for it
ALLOWED_UPLOADS: dict[str, frozenset[str]] = {
    "image/png": frozenset({"png"}),
    "image/jpeg": frozenset({"jpg", "jpeg"}),
    "image/gif": frozenset({"gif"}),
    "application/pdf": frozenset({"pdf"}),
    "text/plain": frozenset({"txt"}),
}
FILENAME_MAX = 100
_DEFAULT_FILENAME = "file"
# names Windows reserves whatever the extension; a share serving uploads would choke on them
_RESERVED_NAMES = frozenset(
    {"con", "prn", "aux", "nul"} | {f"{p}{n}" for p in ("com", "lpt") for n in range(1, 10)}
)
_TEXT_CONTROLS = frozenset("\t\n\r\f")


class InputValidationError(ValueError):
    """The input is refused; ``str(exc)`` is the reason, fit to show to the user."""


class UploadTooLarge(InputValidationError):
    """The file exceeds the size limit (HTTP 413)."""


class UploadTypeRefused(InputValidationError):
    """The content's type is not allowed or the name's extension disagrees (HTTP 415)."""


@dataclass(frozen=True)
class UploadInfo:
    name: str  # sanitised
    media_type: str  # decided by the content
    size: int


def validate_email(value: str) -> str:
    """The normalised address (lower-case domain); syntax only, no DNS lookup."""
    if len(value) > EMAIL_MAX_LENGTH:
        raise InputValidationError(f"an e-mail address has at most {EMAIL_MAX_LENGTH} characters")
    try:
        return parse_email(value)
    except email_validator.EmailNotValidError as exc:
        raise InputValidationError(f"not a valid e-mail address: {exc}") from None
    except (ValueError, UnicodeError):  # the library's own limits on odd Unicode
        raise InputValidationError("not a valid e-mail address") from None


def parse_email(value: str) -> str:
    """email-validator's normalised form; a domain must be one the Internet can route."""
    return str(email_validator.validate_email(value, check_deliverability=False).normalized)


def validate_username(value: str) -> str:
    """``value`` when it is 3-32 ASCII letters, digits, '.', '_' or '-'."""
    if not USERNAME_PATTERN.match(value):
        raise InputValidationError("a username is 3-32 ASCII letters, digits, '.', '_' or '-'")
    return value


def password_length(password: str) -> int:
    """Characters (code points), never bytes: 'é' counts once."""
    return len(password)


def character_classes(password: str) -> int:
    """How many of lower case, upper case, digit and other characters ``password`` has."""
    lower = any(ch.islower() for ch in password)
    upper = any(ch.isupper() for ch in password)
    digit = any(ch.isdigit() for ch in password)
    other = any(not (ch.islower() or ch.isupper() or ch.isdigit()) for ch in password)
    return lower + upper + digit + other


@cache
def common_passwords() -> frozenset[str]:
    """The bundled list of common passwords, lower-cased (core/data/NOTICE says whence)."""
    data = resources.files("reference_app.core").joinpath("data", "common-passwords.txt.gz")
    with gzip.open(data.open("rb"), "rt", encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip())


def password_problem(password: str, profile: Profile, username: str | None = None) -> str | None:
    """Why ``password`` fails ``profile``'s policy, or None when it passes."""
    return next(_password_problems(password, profile, username), None)


def _password_problems(password: str, profile: Profile, username: str | None) -> Iterator[str]:
    length = password_length(password)
    if length < profile.min_password_length:
        yield (
            f"password must be at least {profile.min_password_length} characters "
            f"in the {profile.name} profile"
        )
    if length > MAX_PASSWORD_LENGTH:
        yield f"password must be at most {MAX_PASSWORD_LENGTH} characters"
    if not password.strip():
        yield "password must not be only whitespace"
    if character_classes(password) < profile.password_min_classes:
        yield (
            f"password must mix at least {profile.password_min_classes} of lower case, "
            f"upper case, digits and other characters in the {profile.name} profile"
        )
    if password.casefold() in common_passwords():
        yield "password is too common"
    if username and len(username) >= 3 and username.casefold() in password.casefold():
        yield "password must not contain the username"


def profile_of(environment: str | None) -> Profile:
    """The named environment's policy, or the running app's (its settings) for None."""
    if environment is None:
        return get_settings().profile
    try:
        return PROFILES[environment.strip().lower()]  # type: ignore[index]
    except KeyError:
        raise ValueError(f"unknown environment {environment!r}") from None


def check_password_strength(
    password: str, username: str | None = None, environment: str | None = None
) -> None:
    """Refuse ``password`` under the environment's policy (None: the app's ENVIRONMENT)."""
    problem = password_problem(password, profile_of(environment), username)
    if problem is not None:
        raise InputValidationError(problem)


def sanitize_html(value: str) -> str:
    """``value`` with only the allowed markup left: no scripts, handlers or javascript: URLs."""
    try:
        return clean_html(value)
    except (ValueError, UnicodeError):  # e.g. lone surrogates, which no markup can carry
        raise InputValidationError("text must be valid Unicode") from None


def clean_html(value: str) -> str:
    return nh3.clean(
        value,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(ALLOWED_URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
    )


def _safe_part(text: str) -> str:
    kept = (ch if ch.isalnum() or ch in "-_" else "_" for ch in text if ch.isprintable())
    return re.sub(r"_+", "_", "".join(kept))


def sanitize_filename(name: str) -> str:
    """A storable name: the last path component, no separators, control characters or leading
    dots, one dot at most (before the extension), at most FILENAME_MAX characters."""
    base = re.split(r"[/\\]", unicodedata.normalize("NFC", name))[-1]
    stem, dot, extension = base.strip().strip(".").rpartition(".")
    if not dot:
        stem, extension = extension, ""
    stem, extension = _safe_part(stem).strip("_"), _safe_part(extension)[:10]
    stem = stem or _DEFAULT_FILENAME
    if stem.lower() in _RESERVED_NAMES:
        stem = f"_{stem}"
    stem = stem[: FILENAME_MAX - len(extension) - 1]
    return f"{stem}.{extension}" if extension else stem


def _is_text(content: bytes) -> bool:
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(ch.isprintable() or ch in _TEXT_CONTROLS for ch in text)


def detect_media_type(content: bytes) -> str | None:
    """The media type of ``content`` by its magic bytes; plain UTF-8 text is text/plain."""
    try:
        matches = puremagic.magic_string(content)
    except (puremagic.PureError, ValueError):
        matches = []
    # a signature that names no media type ("0000" is a Sndr sound file's) says nothing of it
    typed = [match for match in matches if match.mime_type]
    if typed:
        return str(max(typed, key=lambda match: match.confidence).mime_type)
    return "text/plain" if _is_text(content) else None


def upload_media_type(name: str, content: bytes) -> str | None:
    """The type an upload is judged by: its content's, whatever the name says."""
    return detect_media_type(content)


def extension_of(name: str) -> str:
    return name.rpartition(".")[2].lower() if "." in name else ""


def validate_upload(filename: str, content: bytes, max_bytes: int | None = None) -> UploadInfo:
    """Accept an upload whose content is of an allowed type that its name's extension agrees
    with; ``max_bytes`` None means the app's UPLOAD_MAX_BYTES."""
    limit = get_settings().upload_max_bytes if max_bytes is None else max_bytes
    if len(content) > limit:
        raise UploadTooLarge(f"the file is larger than {limit} bytes")
    if not content:
        raise UploadTypeRefused("the file is empty")
    name = sanitize_filename(filename)
    media_type = upload_media_type(name, content)
    if media_type not in ALLOWED_UPLOADS:
        allowed = ", ".join(sorted(ALLOWED_UPLOADS))
        raise UploadTypeRefused(f"files of type {media_type or 'unknown'} are refused ({allowed})")
    if extension_of(name) not in ALLOWED_UPLOADS[media_type]:
        raise UploadTypeRefused(f"the name's extension does not match its {media_type} content")
    return UploadInfo(name=name, media_type=media_type, size=len(content))
