"""Security Hardening > Input Validation > File upload validation: the type is decided by the
content, the size is limited, and the stored name is never the hostile one given
(INP-UPLOAD-TYPE, INP-UPLOAD-SIZE, INP-UPLOAD-FILENAME).

Uploads are multipart POSTs of field ``file`` to ``upload_path`` with a bearer token: the
session signs in once, as an account made through the target's test hook or named by
``login_username`` / ``login_password``. A stored file is read back at
``upload_path/NAME``. The file-name probe runs hypothesis-generated names; its seed and the
minimal failing name are in the evidence (replay with ``--param hypothesis_seed=N``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from harness.errors import UnexpectedAnswer
from harness.probes import answers, uploads
from harness.probes.generated import falsify
from harness.probes.http import client_for, next_loopback_address
from harness.probes.logins import login
from harness.probes.uploads import Upload
from harness.report.evidence import Evidence
from harness.targets import Capability, Target
from harness.targets.accounts import user_account

requirement = pytest.mark.requirement
pytestmark = pytest.mark.needs_path("upload_path", "login_path")
UPLOAD_API = "the upload API (set upload_path)"
REFUSED = frozenset({400, 415, 422})
# a large body may be read (and scanned by a request filter) in full before it is judged
SLOW_UPLOAD_S = 120.0


@pytest.fixture(scope="session")
def upload_token(target: Target, session_params: dict[str, Any]) -> str:
    """A bearer token of an ordinary account, signed in once for the session."""
    account = user_account(target, session_params, "uploads")
    source = next_loopback_address() if target.has(Capability.CLIENT_ADDRESSES) else None
    with client_for(target.url, local_address=source) as client:
        answer = login(client, session_params["login_path"], account.username, account.password)
    if answer.kind != "ok" or answer.token is None:
        raise UnexpectedAnswer(
            f"POST {session_params['login_path']}",
            "200 with an access_token for the upload account (set login_path)",
            answer.shape,
        )
    return answer.token


class Uploader:
    def __init__(self, client: httpx.Client, path: str, token: str) -> None:
        self.client, self.path, self.token = client, path, token

    def post(self, upload: Upload, timeout: float = 30.0) -> httpx.Response:
        body, content_type = uploads.multipart(upload)
        headers = {"Content-Type": content_type, "Authorization": f"Bearer {self.token}"}
        response = self.client.post(self.path, content=body, headers=headers, timeout=timeout)
        if response.status_code in (401, 403, *answers.ABSENT):
            raise answers.unexpected(response, "an upload stored or refused", UPLOAD_API)
        return response

    def stored_name(self, response: httpx.Response) -> str:
        return answers.field(response, "name", str, UPLOAD_API)

    def fetch(self, name: str) -> httpx.Response:
        url = f"{self.path.rstrip('/')}/{quote(name, safe='')}"
        return self.client.get(url, headers={"Authorization": f"Bearer {self.token}"})


@pytest.fixture
def uploader(
    target: Target, upload_token: str, params: dict[str, Any], evidence: Evidence
) -> Iterator[Uploader]:
    source = next_loopback_address() if target.has(Capability.CLIENT_ADDRESSES) else None
    with client_for(target.url, on_response=evidence.exchange, local_address=source) as client:
        yield Uploader(client, params["upload_path"], upload_token)


def _served_inert(uploader: Uploader, name: str, expected_type: str) -> str | None:
    """Why the stored file would not be served inert, or None (also when it cannot be read
    back: the claim is about the upload)."""
    served = uploader.fetch(name)
    if served.status_code != 200:
        return None
    media_type = answers.media_type(served)
    if media_type != expected_type:
        return f"served as {media_type or 'no type'}, not {expected_type}"
    if served.headers.get("x-content-type-options", "").lower() != "nosniff":
        return "served without X-Content-Type-Options: nosniff"
    return None


@requirement("INP-UPLOAD-TYPE")
def test_content_decides_the_type(
    uploader: Uploader, params: dict[str, Any], evidence: Evidence
) -> None:
    allowed = [ext.lower() for ext in params["upload_allowed_extensions"]]
    outcome: dict[str, int] = {}
    problems = []
    for ext in allowed:
        upload = uploads.sample(ext)
        response = uploader.post(upload)
        outcome[upload.label] = response.status_code
        if not 200 <= response.status_code < 300:
            problems.append(f"{upload.label} (allowed) was refused with {response.status_code}")
    png = uploads.sample(".png") if ".png" in allowed else None
    if png is not None:  # the declared Content-Type is the client's word, not the file's
        lying = Upload("a PNG declared text/html", png.filename, png.content, "text/html")
        response = uploader.post(lying)
        outcome[lying.label] = response.status_code
        if 200 <= response.status_code < 300:
            why = _served_inert(uploader, uploader.stored_name(response), "image/png")
            if why:
                problems.append(f"{lying.label}: {why}")
    for upload in uploads.disallowed_uploads(allowed):
        response = uploader.post(upload)
        outcome[upload.label] = response.status_code
        if response.status_code not in REFUSED:
            problems.append(f"{upload.label} ({upload.filename}) got {response.status_code}")
    polyglot = uploads.polyglot(allowed)
    if polyglot is not None:
        response = uploader.post(polyglot)
        outcome[polyglot.label] = response.status_code
        if 200 <= response.status_code < 300:
            why = _served_inert(uploader, uploader.stored_name(response), "image/gif")
            if why:
                problems.append(f"{polyglot.label}: stored and {why}")
    evidence.note("statuses", outcome)
    assert not problems, "uploads judged by name, not content: " + "; ".join(problems)


@requirement("INP-UPLOAD-SIZE")
def test_oversize_upload_is_refused(
    uploader: Uploader, params: dict[str, Any], evidence: Evidence
) -> None:
    limit = params["upload_max_bytes"]
    allowed = params["upload_allowed_extensions"]
    response = uploader.post(uploads.padded(limit + 1, allowed), timeout=SLOW_UPLOAD_S)
    at_limit = uploader.post(uploads.padded(limit, allowed), timeout=SLOW_UPLOAD_S)
    evidence.note(
        "statuses", {"limit + 1 bytes": response.status_code, "limit": at_limit.status_code}
    )
    status = response.status_code
    assert status == 413, f"an upload of {limit + 1} bytes (limit {limit}) got {status}, not 413"


@requirement("INP-UPLOAD-FILENAME")
def test_stored_name_is_never_the_hostile_one(
    target: Target, uploader: Uploader, params: dict[str, Any], evidence: Evidence
) -> None:
    allowed = [ext.lower() for ext in params["upload_allowed_extensions"]]
    seen: dict[int, int] = {}
    source = next_loopback_address() if target.has(Capability.CLIENT_ADDRESSES) else None
    # the generated requests are not recorded one by one (they would crowd the evidence
    # out): their statuses are counted, and the minimal failing one is sent again, recorded
    quiet = Uploader(client_for(target.url, local_address=source), uploader.path, uploader.token)

    def stored_safely(upload: Upload, sender: Uploader = quiet) -> None:
        response = sender.post(upload)
        seen[response.status_code] = seen.get(response.status_code, 0) + 1
        status = response.status_code
        assert status < 500, f"the name {upload.filename!r} got {status}"
        if status in REFUSED or status == 413:
            return
        assert 200 <= status < 300, f"the name {upload.filename!r} got {status}"
        stored = sender.stored_name(response)
        problems = uploads.name_problems(stored)
        assert not problems, f"{upload.filename!r} was stored as {stored!r}: {'; '.join(problems)}"

    with quiet.client:
        run = falsify(
            uploads.hostile_filenames(allowed),
            stored_safely,
            seed=params["hypothesis_seed"],
            max_examples=params["hypothesis_max_examples"],
            explicit=uploads.explicit_hostile(allowed[0]),
        )
    described = run.to_json(lambda upload: repr(upload.filename))
    evidence.note("generated names", {**described, "statuses": seen})
    if run.falsified is not None:
        with contextlib.suppress(AssertionError):
            stored_safely(run.falsified.example, uploader)  # its exchange, in the evidence
        pytest.fail(
            f"{run.falsified.message} (hypothesis seed {run.seed}; replay with "
            f"--param hypothesis_seed={run.seed})"
        )
