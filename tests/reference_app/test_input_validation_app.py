"""The validators of reference_app.core.input_validation, the upload endpoints, and the
process mutants that break them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from reference_app.app import create_app
from reference_app.core import input_validation as iv
from reference_app.core.config import Settings
from reference_app.core.tokens import issue_token
from reference_app.input_mutants import undo_replacements
from reference_app.mutants import MUTANTS
from tests.reference_app.conftest import STRONG_SECRET, Serve

PNG = b"\x89PNG\r\n\x1a\n" + bytes(32)
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"
UPLOADS = "/api/v1/uploads"


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("user@example.com", True),
        ("x@bücher.de", True),
        ("a@b", False),
        ("no-at-sign", False),
        ("a\x00@example.com", False),
        ("two@@example.com", False),
        ("x" * 250 + "@example.com", False),
    ],
)
def test_validate_email(value: str, valid: bool) -> None:
    if valid:
        assert "@" in iv.validate_email(value)
    else:
        with pytest.raises(iv.InputValidationError):
            iv.validate_email(value)


@pytest.mark.parametrize(
    ("value", "valid"),
    [("abc", True), ("a.b_c-9", True), ("ab", False), ("x" * 33, False), ("a b", False),
     ("ünï", False), ("abc\n", False), ("../x", False)],
)  # fmt: skip
def test_validate_username(value: str, valid: bool) -> None:
    if valid:
        assert iv.validate_username(value) == value
    else:
        with pytest.raises(iv.InputValidationError, match="3-32"):
            iv.validate_username(value)


@pytest.mark.parametrize(
    ("password", "environment", "problem"),
    [
        ("Abcdefghij1!", "production", None),
        ("Abcdefghi1!", "production", "at least 12 characters"),
        ("Ééééééééé1!", "production", "at least 12 characters"),  # 11 code points
        ("Éééééééééé1!", "production", None),  # 12 code points, 22 bytes
        ("abcdefghijkl", "production", "at least 3 of"),
        ("kitesurf", "development", None),
        ("kitesur", "development", "at least 8 characters"),
        ("Sunlit-Otter7", "development", None),
        ("qwertyuiop", "development", "too common"),
        ("QWERTYuiop", "production", "at least 12"),
        ("1qaz2wsx3edc", "development", "too common"),
        ("My-Carol-Pass-1", "production", "must not contain the username"),
        (" " * 12, "development", "only whitespace"),
        ("A1!" + "b" * 1022, "production", "at most 1024"),
    ],
)
def test_password_strength(password: str, environment: str, problem: str | None) -> None:
    if problem is None:
        iv.check_password_strength(password, "carol", environment)
    else:
        with pytest.raises(iv.InputValidationError, match=problem):
            iv.check_password_strength(password, "carol", environment)


def test_password_strength_follows_the_app_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    iv.check_password_strength("kitesurf")  # development by default
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("SECRET_KEY", STRONG_SECRET)
    monkeypatch.setenv("PASSWORD_MIN_LENGTH", "14")
    with pytest.raises(iv.InputValidationError, match="at least 14 characters"):
        iv.check_password_strength("Abcdefghij12!")


@pytest.mark.parametrize(
    ("html", "clean"),
    [
        ("<b>bold</b> <em>x</em>", "<b>bold</b> <em>x</em>"),
        ("<script>alert(1)</script>ok", "ok"),
        ('<img src=x onerror="alert(1)">', ""),
        ('<a href="javascript:alert(1)">x</a>', '<a rel="noopener noreferrer nofollow">x</a>'),
        ('<p onclick="x()">p</p>', "<p>p</p>"),
        ("<svg onload=alert(1)>", ""),
    ],
)
def test_sanitize_html(html: str, clean: str) -> None:
    assert iv.sanitize_html(html) == clean


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\boot.ini", "boot.ini"),
        ("shell.php.png", "shell_php.png"),
        (".htaccess", "htaccess"),
        ("a\x00b\x1f.txt", "ab.txt"),
        ("", "file"),
        ("..", "file"),
        ("CON.txt", "_CON.txt"),
        ("x" * 300 + ".pdf", "x" * 96 + ".pdf"),  # FILENAME_MAX in all
    ],
)
def test_sanitize_filename(given: str, stored: str) -> None:
    assert iv.sanitize_filename(given) == stored


def test_validate_upload_judges_content_not_the_name() -> None:
    assert iv.validate_upload("a.png", PNG, 1000) == iv.UploadInfo("a.png", "image/png", len(PNG))
    assert iv.validate_upload("notes.txt", b"plain words\n", 1000).media_type == "text/plain"
    # "0000" is a sound format's signature, but one that names no media type: still text
    assert iv.validate_upload("hex.txt", b"0000 0001 0002\n", 1000).media_type == "text/plain"
    with pytest.raises(iv.UploadTypeRefused, match="extension does not match"):
        iv.validate_upload("a.pdf", PNG, 1000)
    with pytest.raises(iv.UploadTypeRefused, match="text/html"):
        iv.validate_upload("page.txt", b"<html><script>alert(1)</script></html>", 1000)
    with pytest.raises(iv.UploadTypeRefused, match="unknown"):
        iv.validate_upload("a.txt", b"\x00\x01\x02binary", 1000)
    with pytest.raises(iv.UploadTooLarge):
        iv.validate_upload("a.png", PNG, len(PNG) - 1)


@pytest.fixture
def process_mutant() -> Iterator[Callable[[str], None]]:
    def apply(name: str) -> None:
        process = MUTANTS[name].process
        assert process is not None
        process()

    yield apply
    undo_replacements()


def test_process_mutants_break_their_validator(process_mutant: Callable[[str], None]) -> None:
    for name in ("password-length-bytes", "email-accepts-a-at-b", "sanitizer-img-onerror"):
        process_mutant(name)
    iv.check_password_strength("Ééééééééé1!", environment="production")  # 11 chars, 20 bytes
    assert iv.validate_email("a@b") == "a@b"
    assert "onerror" in iv.sanitize_html("<img src=x onerror=alert(1)>")

    process_mutant("upload-type-by-extension")
    process_mutant("upload-name-as-given")
    assert iv.validate_upload("../x.png", b"<html></html>", 100).name == "../x.png"


def test_undo_restores_the_validators(process_mutant: Callable[[str], None]) -> None:
    process_mutant("email-accepts-a-at-b")
    undo_replacements()
    with pytest.raises(iv.InputValidationError):
        iv.validate_email("a@b")


@pytest.fixture
async def uploads(
    make_settings: Callable[..., Settings], serve: Serve, tmp_path: Path
) -> tuple[httpx.AsyncClient, dict[str, str], Path]:
    directory = tmp_path / "uploads"
    settings = make_settings(upload_dir=str(directory), upload_max_bytes=1024)
    client = await serve(create_app(settings))
    token = issue_token(settings.secret_key.get_secret_value(), "carol")
    return client, {"Authorization": f"Bearer {token}"}, directory


@pytest.mark.anyio
async def test_upload_round_trip_as_an_attachment(
    uploads: tuple[httpx.AsyncClient, dict[str, str], Path],
) -> None:
    client, auth, directory = uploads
    first = await client.post(UPLOADS, files={"file": ("photos/Pic.png", PNG)}, headers=auth)
    second = await client.post(UPLOADS, files={"file": ("Pic.png", PNG)}, headers=auth)

    assert first.status_code == 201, first.text
    assert first.json() == {"name": "Pic.png", "media_type": "image/png", "size": len(PNG)}
    assert second.status_code == 201
    name = second.json()["name"]
    assert name.startswith("Pic-")
    assert name.endswith(".png")
    assert sorted(p.name for p in directory.iterdir()) == sorted(["Pic.png", name])
    served = await client.get(f"{UPLOADS}/Pic.png", headers=auth)
    assert served.status_code == 200
    assert served.content == PNG
    assert served.headers["content-type"] == "image/png"
    assert served.headers["content-disposition"].startswith("attachment")
    assert served.headers["x-content-type-options"] == "nosniff"


@pytest.mark.anyio
async def test_upload_refusals(uploads: tuple[httpx.AsyncClient, dict[str, str], Path]) -> None:
    client, auth, directory = uploads

    async def status(name: str, content: bytes, headers: dict[str, str] = auth) -> int:
        answer = await client.post(UPLOADS, files={"file": (name, content)}, headers=headers)
        return answer.status_code

    assert await status("a.png", PNG, {}) == 401
    assert await status("big.png", PNG + bytes(1024)) == 413
    assert await status("a.pdf", PNG) == 415
    assert await status("a.png", PDF) == 415
    assert await status("a.exe", b"MZ\x90\x00\x03" + bytes(64)) == 415
    assert not directory.exists() or not any(directory.iterdir())
    assert (await client.get(f"{UPLOADS}/nothing.png", headers=auth)).status_code == 404
    # a traversal is refused at the edge (400) or not found, never served
    assert (await client.get(f"{UPLOADS}/..%2Fformulas.db", headers=auth)).status_code in {400, 404}
    assert (await client.get(f"{UPLOADS}/formulas.db", headers=auth)).status_code == 404
    assert (await client.get(f"{UPLOADS}/x.png")).status_code == 401
