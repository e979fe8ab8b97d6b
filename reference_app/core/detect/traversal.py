"""Path traversal and sensitive-file access: normalise the path as a server would (all
decoding layers, both separators, NUL cut) and look at its segments: ``..`` that climbs,
absolute paths into operating-system trees, hidden files and directories (dotfiles)."""

from __future__ import annotations

import re

# separators, and the look-alikes that Windows "best fit" mapping turns into one (U+2215
# DIVISION SLASH, U+2216 SET MINUS, U+2044 FRACTION SLASH, U+29F5 and U+29F8/9)
_SEP = re.compile("[\\\\/\u2215\u2216\u2044\u29f5\u29f8\u29f9]+")
_OS_ROOTS = {
    "etc",
    "proc",
    "sys",
    "dev",
    "root",
    "boot",
    "var",
    "usr",
    "bin",
    "sbin",
    "tmp",
    "windows",
    "winnt",
    "system32",
    "inetpub",
}
_OS_FILES = re.compile(
    r"(?:^|[\\/])(?:boot|win|system)\.ini$|(?:^|[\\/])(?:passwd|shadow|"
    r"master\.passwd|group|hosts|id_rsa|id_dsa|id_ed25519|"
    r"authorized_keys|httpd\.conf|web\.config|wp-config\.php)-?$",
    re.I,
)
_DRIVE = re.compile(r"^[a-z]:[\\/]", re.I)
_BACKUP = re.compile(r"\.(?:sql|bak|dump|old|swp|orig)(?:\.(?:zip|gz|tar|bz2|7z))?$|\.log$", re.I)
# hidden files that are served on purpose
_PUBLIC_DOTFILES = {".well-known"}
# an absolute path: a separator at the start or after a space, quote, '=', ':' or '>'
_ROOTED = re.compile(r"(?:^|[\s'\"=:>(])((?:[a-z]:)?[\\/][^\s'\"<>|]*)", re.I)
_DRIVE_ONLY = re.compile(r"[a-z]:", re.I)
_HEX_DOTS = re.compile(r"0x2e|0x5c|0x2f", re.I)
_HEX_CHARS = {"0x2e": ".", "0x5c": "\\", "0x2f": "/"}


def _unhex(text: str) -> str:
    return _HEX_DOTS.sub(lambda m: _HEX_CHARS[m.group().lower()], text)


def _dot_segment(segments: list[str]) -> str | None:
    for index, seg in enumerate(segments):
        core = seg.split(";", 1)[0].strip()
        # '..' climbs wherever it stands between separators; '...' only before one
        if core == ".." and (len(segments) > 1 or ";" in seg):
            return "dot segment '..'"
        if len(core) > 2 and set(core) == {"."} and index + 1 < len(segments):
            return f"dot segment {core!r}"
    return None


def _hidden(parts: list[str]) -> str | None:
    for part in parts:
        if part.startswith(".") and part not in _PUBLIC_DOTFILES and part[1:2] not in ("", "."):
            return f"hidden file {part}"
    return None


def _os_path_in_value(text: str) -> str | None:
    """An absolute path into an operating-system tree inside a value (``cat /etc/x``)."""
    for match in _ROOTED.finditer(text):
        inside = [
            p
            for p in _SEP.split(match.group(1).lower())
            if p and p != "." and not _DRIVE_ONLY.fullmatch(p)
        ]
        if len(inside) >= 2 and inside[0] in _OS_ROOTS:
            return f"absolute path into /{inside[0]}"
    return None


def _url_path(parts: list[str]) -> str | None:
    """A URL path naming an operating-system tree or a backup or log file."""
    for index, part in enumerate(parts):
        if part in ("etc", "proc", "sys") and index + 1 < len(parts):
            return f"operating-system tree /{part}"
    if parts and _BACKUP.search(parts[-1]):
        return "backup or log file"
    return None


def detect_traversal(text: str, *, is_path: bool = False) -> str | None:
    """A short reason when ``text`` (a decoded value or URL path) reaches outside, else None."""
    if len(text) < 2:
        return None
    # a NUL ends the name for the file system; in a URL path it is dropped
    text = text.replace("\x00", "") if is_path else text.split("\x00", 1)[0]
    hexed = _unhex(text)
    segments = _SEP.split(hexed)
    parts = [s.strip().lower() for s in segments if s.strip() and s.strip() != "."]
    stripped = text.strip()
    has_separator = len(segments) > 1
    if is_path:
        return _dot_segment(segments) or _hidden(parts) or _url_path(parts)
    if has_separator:
        reason = _dot_segment(segments) or _os_path_in_value(hexed) or _hidden(parts)
        if reason:
            return reason
    # a bare "group" or "hosts" is a word; "win.ini" or ".../passwd" names the file
    if _OS_FILES.search(stripped) and (has_separator or "." in stripped):
        return "operating-system file"
    if not has_separator and " " not in stripped and _BACKUP.search(stripped):
        return "backup or log file"
    return None
