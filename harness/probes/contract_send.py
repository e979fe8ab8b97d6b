"""Where the contract's cases come from and how they reach the target: the OpenAPI document
(a route of the target or a file) and ``requests`` sessions bound to the harness's own source
addresses, so the contract spends rate-limit budgets no other check uses."""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
import yaml
from requests.adapters import HTTPAdapter
from schemathesis import Case as _Case
from schemathesis.core.result import Ok
from schemathesis.core.transport import Response
from schemathesis.schemas import APIOperation as _APIOperation
from schemathesis.schemas import BaseSchema

from harness.probes.forwarding import forwards_sources
from harness.probes.http import MAX_429_WAIT_S, USER_AGENT

Case = _Case[Any]
APIOperation = _APIOperation[Any, Any, Any, Any]
TIMEOUT_S = 10.0
_RETRIES_429 = 2


class ContractSourceError(Exception):
    """The OpenAPI document cannot be had; the message is one line for the user."""


def load_document(base_url: str, path: str | None, file: str | None) -> tuple[BaseSchema, str]:
    """The schema from ``file`` when given, else from ``path`` on the target; and where it came
    from. Cases are always sent to ``base_url``."""
    import schemathesis
    from schemathesis.core.errors import LoaderError

    source = file or f"{base_url}{path}"
    try:
        if file:
            if not Path(file).is_file():
                raise ContractSourceError(f"openapi_file {file}: no such file")
            schema = schemathesis.openapi.from_path(file)
        else:
            schema = schemathesis.openapi.from_dict(_fetch(base_url, path or "/openapi.json"))
    except LoaderError as exc:
        first = next((line for line in str(exc).splitlines() if line.strip()), "unreadable")
        raise ContractSourceError(f"{source}: not a usable OpenAPI document ({first})") from None
    schema.config.update(base_url=base_for(schema, base_url))
    return schema, source


def base_for(schema: BaseSchema, target_url: str) -> str:
    """Where the operations' paths start on the target: its URL, plus the path of the
    document's first server (``/api`` of ``servers: [{url: /api}]``); the server's host is
    never used, so cases reach the target whatever the document names."""
    servers = schema.raw_schema.get("servers") or ()
    first = servers[0] if servers and isinstance(servers[0], dict) else {}
    prefix = urlsplit(str(first.get("url", ""))).path.rstrip("/")
    return target_url.rstrip("/") + prefix


def _fetch(base_url: str, path: str) -> dict[str, Any]:
    """The document the target serves at ``path`` (JSON or YAML)."""
    try:
        # throwaway certificates are common; the TLS checks judge them
        answer = requests.get(
            base_url + path,
            timeout=TIMEOUT_S,
            verify=False,  # noqa: S501
            headers={"User-Agent": USER_AGENT},
        )
    except requests.RequestException:
        raise ContractSourceError(f"GET {path}: no answer from the target") from None
    if answer.status_code != 200:
        raise ContractSourceError(
            f"GET {path} answered {answer.status_code}: the target publishes no OpenAPI "
            "document there"
        )
    try:
        document = yaml.safe_load(answer.text)  # JSON is YAML too
    except yaml.YAMLError:
        document = None
    if not isinstance(document, dict) or not {"openapi", "swagger"} & set(document):
        kind = answer.headers.get("content-type", "no content type").split(";")[0]
        raise ContractSourceError(f"GET {path} answered 200 {kind}, not an OpenAPI document")
    return document


class _SourceAdapter(HTTPAdapter):
    """Connections from one local address."""

    def __init__(self, source: str) -> None:
        self.source = source
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kwargs)


def _session(source: str | None) -> requests.Session:
    session = requests.Session()
    session.verify = False  # throwaway certificates are common; TLS checks judge them
    if source is not None:
        adapter = _SourceAdapter(source)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
    return session


def _retry_after_s(response: Response) -> float:
    value = (response.headers.get("retry-after") or [""])[0].strip()
    return min(float(value) if value.isdigit() else 1.0, MAX_429_WAIT_S) + 0.2


class Sender:
    """Sends cases in turn from each of ``sources`` (None: the default address). On a stack
    that trusts the harness as its proxy hop the source travels as X-Forwarded-For. A 429 is
    repeated after its Retry-After: the contract is about the API, not its limiter."""

    def __init__(
        self,
        base_url: str,
        sources: Sequence[str | None],
        token: str | None = None,
        token_note: str = "",
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.sessions = [(source, _session(source)) for source in sources or (None,)]
        self._turn = itertools.cycle(self.sessions)
        self.forwarded = forwards_sources(self.base_url)
        self.token = token
        self.token_note = token_note
        self.last: tuple[str | None, requests.Session] = self.sessions[0]
        self.sent = 0

    def cannot_send(self, operation: APIOperation) -> str | None:
        """Why the operation cannot be tried (it needs a token the harness has not got)."""
        if needs_token(operation) and self.token is None:
            return self.token_note or "needs a bearer token"
        return None

    def _headers(self, case: Case, source: str | None) -> dict[str, str]:
        headers = {"User-Agent": USER_AGENT}
        if self.forwarded and source is not None:
            headers["X-Forwarded-For"] = source
        if self.token is not None and needs_token(case.operation):
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def send(self, case: Case) -> Response:
        self.last = source, session = next(self._turn)
        headers = self._headers(case, source)
        response = case.call(
            base_url=self.base_url, session=session, headers=headers, timeout=TIMEOUT_S
        )
        for _ in range(_RETRIES_429):
            if response.status_code != 429:
                break
            time.sleep(_retry_after_s(response))
            response = case.call(
                base_url=self.base_url, session=session, headers=headers, timeout=TIMEOUT_S
            )
        self.sent += 1
        return response

    def transport_kwargs(self) -> dict[str, Any]:
        """What a check that sends again (use-after-free) needs to reach the same target."""
        session = self.last[1]
        return {"base_url": self.base_url, "session": session, "timeout": TIMEOUT_S}

    def curl(self, case: Case) -> str:
        """The case as one curl line, from the address it was sent from; a token is shown as
        ``$TOKEN``, never its value."""
        source, _ = self.last
        headers = {k: v for k, v in self._headers(case, source).items() if k != "Authorization"}
        if self.token is not None and needs_token(case.operation):
            headers["Authorization"] = "Bearer $TOKEN"
        line = case.as_curl_command(headers=headers, verify=False, base_url=self.base_url)
        line = line.split("\n\n", 1)[0]  # schemathesis appends warnings after a blank line
        # schemathesis filters credentials out; say where the replaying user's token goes
        line = line.replace("'Authorization: [Filtered]'", "'Authorization: Bearer $TOKEN'")
        if source is not None and not self.forwarded:
            line += f" --interface {source}"
        return line

    def close(self) -> None:
        for _, session in self.sessions:
            session.close()


def operations(schema: BaseSchema) -> tuple[list[APIOperation], dict[str, str]]:
    """The document's operations, and those it describes in a way no case can be made of."""
    usable: list[APIOperation] = []
    broken: dict[str, str] = {}
    for result in schema.get_all_operations():
        if isinstance(result, Ok):
            usable.append(result.ok())
        else:
            error = result.err()
            label = f"{(error.method or '').upper()} {error.path or ''}".strip() or "?"
            broken[label] = f"unusable in the document: {str(error).splitlines()[0]}"
    return usable, broken


def needs_token(operation: APIOperation) -> bool:
    """The operation names a security requirement (its own, or the document's default), or
    takes the Authorization header as a parameter of its own (as FastAPI documents a
    ``Header()`` dependency)."""
    raw = operation.definition.raw
    security = raw.get("security", operation.schema.raw_schema.get("security"))
    if security and {} not in security:
        return True
    return any(
        isinstance(item, dict)
        and item.get("in") == "header"
        and str(item.get("name", "")).lower() == "authorization"
        for item in raw.get("parameters") or ()
    )
