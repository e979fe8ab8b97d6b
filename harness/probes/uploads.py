"""Upload probes (INP-UPLOAD-TYPE, INP-UPLOAD-SIZE, INP-UPLOAD-FILENAME): small files of each
type, files whose content disagrees with their name, polyglots, hostile file names (as a
hypothesis strategy) and the judgement of the name a deployment stored.

The multipart body is built here, not by the HTTP client: clients percent-encode control
characters and quotes in a file name (``%00``), so a NUL would never reach the server.
"""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass

from hypothesis import strategies as st

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
    b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18"
    b"\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00"
    b"\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
TEXT = b"formula notes: E = m c^2\n"
HTML = b"<!DOCTYPE html><html><body><script>alert(document.domain)</script></body></html>\n"
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00>\x00\x01\x00\x00\x00"
ZIP = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"\x00" * 20

SAMPLES = {
    ".png": (PNG, "image/png"),
    ".jpg": (JPEG, "image/jpeg"),
    ".jpeg": (JPEG, "image/jpeg"),
    ".gif": (GIF, "image/gif"),
    ".pdf": (PDF, "application/pdf"),
    ".txt": (TEXT, "text/plain"),
    ".csv": (b"name,value\nc,299792458\n", "text/csv"),
    ".json": (b'{"name": "c", "value": 299792458}\n', "application/json"),
}


@dataclass(frozen=True)
class Upload:
    label: str
    filename: str
    content: bytes
    declared_type: str


def sample(extension: str) -> Upload:
    """A small valid file for ``extension`` (plain text for one without a known type)."""
    content, media_type = SAMPLES.get(extension.lower(), (TEXT, "text/plain"))
    name = f"harness-{secrets.token_hex(3)}{extension}"
    return Upload(f"a {extension} file", name, content, media_type)


def padded(size: int, allowed: list[str]) -> Upload:
    """A file of exactly ``size`` bytes of an allowed type: a PNG header padded with zero
    bytes (cheap for a server to read) where PNG is allowed, else spaces after plain text."""
    if ".png" in (ext.lower() for ext in allowed):
        content, suffix, media_type = (PNG + b"\x00" * size)[:size], ".png", "image/png"
    else:
        content, suffix, media_type = (TEXT + b" " * size)[:size], ".txt", "text/plain"
    return Upload(f"{size} bytes", f"size-{size}{suffix}", content, media_type)


def _first(allowed: list[str], *wanted: str) -> str:
    return next((ext for ext in wanted if ext in allowed), allowed[0])


def disallowed_uploads(allowed: list[str]) -> list[Upload]:
    """Files that must be refused: a type not allowed, or content that is not what the
    (allowed) extension says, whatever Content-Type the client declares."""
    image = _first(allowed, ".png", ".jpg", ".gif")
    document = _first(allowed, ".pdf", ".txt")
    cases = [
        Upload("HTML with a script named as an image", f"page{image}", HTML, "image/png"),
        Upload("an executable named as a document", f"report{document}", ELF, "application/pdf"),
        Upload("a ZIP archive named as an image", f"photo{image}", ZIP, "image/jpeg"),
    ]
    if ".html" not in allowed:
        cases.append(Upload("an HTML page", "page.html", HTML, "text/html"))
    others = [ext for ext in (".png", ".pdf", ".gif", ".jpg") if ext in allowed]
    if len(others) >= 2:  # an allowed type under another allowed type's extension
        content, media_type = SAMPLES[others[0]]
        label = f"{others[0]} content named {others[1]}"
        cases.append(Upload(label, f"x{others[1]}", content, media_type))
    return cases


def polyglot(allowed: list[str]) -> Upload | None:
    """A GIF header followed by an HTML page: stored, it must be served as an image."""
    if ".gif" not in allowed:
        return None
    return Upload("a GIF header followed by HTML", "poly.gif", GIF + HTML, "image/gif")


def multipart(upload: Upload, field: str = "file") -> tuple[bytes, str]:
    """A multipart/form-data body carrying the file name byte for byte (only a double quote,
    which would end the parameter, is encoded, as browsers do); returns the body and its
    Content-Type."""
    boundary = "harness-" + secrets.token_hex(12)
    name = upload.filename.replace('"', "%22")
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="{field}"; filename="{name}"\r\n'
        f"Content-Type: {upload.declared_type}\r\n\r\n"
    ).encode("utf-8", "surrogatepass")
    body = head + upload.content + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def name_problems(stored: str) -> list[str]:
    """What makes a stored file name unsafe: path parts, traversal, NUL, control characters,
    a leading dot, nothing at all."""
    problems = []
    if not stored:
        problems.append("it is empty")
    if "/" in stored or "\\" in stored:
        problems.append("it holds a path separator")
    if ".." in stored:
        problems.append("it holds '..'")
    if any(unicodedata.category(ch) == "Cc" for ch in stored):
        problems.append("it holds a control character or NUL")
    if stored.startswith("."):
        problems.append("it starts with a dot")
    return problems


_PREFIXES = ("", "../", "../../../", "..\\..\\", "/", "/etc/", "C:\\Windows\\", "./", "....//")
_HOSTILE_STEMS = ("..", ".", ".htaccess", "a\x00b", "a\r\nb", "con", "\u202egnp", "a/b", "\x7f")
_INNER = ("", ".php", ".html", ".exe", ".jsp", ".svg")


def named(filename: str, extension: str) -> Upload:
    """A valid ``extension`` file under ``filename`` (the file-name probes vary only that)."""
    content, media_type = SAMPLES.get(extension.lower(), (TEXT, "text/plain"))
    return Upload("a generated name", filename, content, media_type)


def hostile_filenames(extensions: list[str]) -> st.SearchStrategy[Upload]:
    """Files whose names have traversal prefixes, NUL and control characters, double
    extensions and odd Unicode, each ending in one of ``extensions`` with content of that
    type (so only the name is in question)."""
    stems = st.text(
        st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=0, max_size=16
    ) | st.sampled_from(_HOSTILE_STEMS)
    return st.builds(
        lambda prefix, stem, inner, ext: named(prefix + stem + inner + ext, ext),
        st.sampled_from(_PREFIXES),
        stems,
        st.sampled_from(_INNER),
        st.sampled_from(sorted(extensions)),
    )


def explicit_hostile(extension: str) -> list[Upload]:
    """The classic hostile names, always tried before the generated ones."""
    names = (
        f"../../harness-escape{extension}",
        f"..\\..\\harness-escape{extension}",
        f"/etc/harness{extension}",
        f"shell.php\x00{extension}",
        f"evil.html{extension}",
        f".hidden{extension}",
        f"a\r\nContent-Type: text/html{extension}",
    )
    return [named(name, extension) for name in names]
