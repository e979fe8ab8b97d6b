"""POST /api/v1/uploads and GET /api/v1/uploads/{name}: files checked by content, stored
under a sanitised, unique name, served back as attachments that never run in a browser."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Header, Request, UploadFile
from starlette.responses import JSONResponse, Response

from reference_app.api.auth import bearer_user, token_required
from reference_app.core import input_validation
from reference_app.core.input_validation import (
    InputValidationError,
    UploadTooLarge,
    UploadTypeRefused,
)
from reference_app.schemas import UploadRead

router = APIRouter(prefix="/api/v1/uploads", tags=["uploads"])

_CHUNK = 64 * 1024
_ATTEMPTS = 20  # a random suffix collides with an existing name this often, at most


def upload_dir(request: Request) -> Path:
    directory = Path(request.app.state.settings.upload_dir).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    return directory


async def _read_limited(file: UploadFile, limit: int) -> bytes:
    """The file's bytes; UploadTooLarge as soon as more than ``limit`` arrived."""
    chunks: list[bytes] = []
    size = 0
    while chunk := await file.read(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise UploadTooLarge(f"the file is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _candidates(name: str) -> list[str]:
    stem, dot, extension = name.rpartition(".")
    stem, extension = (stem, f".{extension}") if dot else (name, "")
    return [name] + [f"{stem}-{secrets.token_hex(4)}{extension}" for _ in range(_ATTEMPTS)]


def store(directory: Path, name: str, content: bytes) -> str:
    """Write ``content`` under ``name`` or a variant of it no file has yet; the name used."""
    for candidate in _candidates(name):
        path = directory / candidate
        # names are sanitised; this holds even if a name were not
        if path.resolve().parent != directory:
            raise InputValidationError("the file name is not a plain name")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
        except FileExistsError:
            continue
        except (OSError, ValueError):
            raise InputValidationError("the file name cannot be stored") from None
        with os.fdopen(fd, "wb") as out:
            out.write(content)
        return candidate
    raise InputValidationError("no free name for the file; rename it")


def _refused(exc: InputValidationError) -> JSONResponse:
    if isinstance(exc, UploadTooLarge):
        return JSONResponse({"detail": str(exc)}, status_code=413)
    status = 415 if isinstance(exc, UploadTypeRefused) else 400
    return JSONResponse({"detail": str(exc)}, status_code=status)


@router.post(
    "",
    status_code=201,
    response_model=UploadRead,
    responses={
        401: {"description": "no valid token"},
        413: {"description": "larger than UPLOAD_MAX_BYTES"},
        415: {"description": "type not allowed, or the name's extension disagrees"},
        503: {"description": "UPLOAD_DIR cannot be written"},
    },
)
async def upload(
    request: Request, file: UploadFile, authorization: Annotated[str | None, Header()] = None
) -> UploadRead | JSONResponse:
    if bearer_user(request, authorization) is None:
        return token_required()
    limit = request.app.state.settings.upload_max_bytes
    try:
        content = await _read_limited(file, limit)
        info = input_validation.validate_upload(file.filename or "", content, limit)
        name = store(upload_dir(request), info.name, content)
    except InputValidationError as exc:
        return _refused(exc)
    except OSError:  # UPLOAD_DIR missing, read-only or full: the fault is ours, not the file's
        return JSONResponse({"detail": "uploads cannot be stored now"}, status_code=503)
    return UploadRead(name=name, media_type=info.media_type, size=info.size)


@router.get(
    "/{name}",
    response_class=Response,
    responses={
        200: {"description": "the file, as an attachment"},
        401: {"description": "no valid token"},
        404: {"description": "no such file"},
    },
)
async def download(
    request: Request, name: str, authorization: Annotated[str | None, Header()] = None
) -> Response:
    if bearer_user(request, authorization) is None:
        return token_required()
    directory = upload_dir(request)
    path = directory / name
    # only names the upload could have made, and only files right in the directory
    if name != input_validation.sanitize_filename(name) or not path.is_file():
        return JSONResponse({"detail": "no such file"}, status_code=404)
    content = path.read_bytes()
    media_type = input_validation.detect_media_type(content) or "application/octet-stream"
    return Response(
        content,
        media_type=media_type,
        headers={
            # RFC 6266: any Unicode name, and never inline
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name, safe='')}",
            "X-Content-Type-Options": "nosniff",
        },
    )
