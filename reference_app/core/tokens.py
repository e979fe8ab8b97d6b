"""Signed bearer tokens: ``base64url(claims).base64url(HMAC-SHA256)`` with SECRET_KEY.

Small on purpose: the claims are the user name and an expiry, nothing else.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time

TOKEN_TTL_S = 3600
_MAX_TOKEN_LENGTH = 1024


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: str, body: str) -> str:
    return _b64(hmac.new(secret.encode(), body.encode("ascii"), hashlib.sha256).digest())


def issue_token(
    secret: str, username: str, ttl_s: int = TOKEN_TTL_S, now: float | None = None
) -> str:
    """A token naming ``username`` that expires ``ttl_s`` seconds from now."""
    issued = int(time.time() if now is None else now)
    claims = {"sub": username, "exp": issued + ttl_s}
    body = _b64(json.dumps(claims, separators=(",", ":")).encode())
    return f"{body}.{_signature(secret, body)}"


def _claims(secret: str, token: str) -> dict[str, object] | None:
    if not secret or len(token) > _MAX_TOKEN_LENGTH or token.count(".") != 1:
        return None
    body, signature = token.split(".")
    try:
        if not hmac.compare_digest(_signature(secret, body), signature):
            return None
        claims = json.loads(_unb64(body))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return None
    return claims if isinstance(claims, dict) else None


def token_subject(secret: str, token: str, now: float | None = None) -> str | None:
    """The user name of a valid, unexpired token; None for anything else."""
    claims = _claims(secret, token) or {}
    subject, expiry = claims.get("sub"), claims.get("exp")
    if not isinstance(subject, str) or not isinstance(expiry, int):
        return None
    return subject if expiry > (time.time() if now is None else now) else None


def bearer_subject(secret: str, authorization: str | None) -> str | None:
    """The user of an ``Authorization: Bearer <token>`` header value, if the token is valid."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token_subject(secret, token.strip())
