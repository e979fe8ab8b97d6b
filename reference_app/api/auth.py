"""POST /api/v1/auth/login: user name and password for a signed bearer token.

Every outcome is handed to the audit layer (``audit.note``): a failed login is recorded
with the attempted user name and the client's address, never with the password.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import JSONResponse

from reference_app.core.database import get_session
from reference_app.core.middleware import audit
from reference_app.core.security import MAX_PASSWORD_LENGTH, hash_password, verify_password
from reference_app.core.tokens import TOKEN_TTL_S, bearer_subject, issue_token
from reference_app.models import User

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])

Session = Annotated[AsyncSession, Depends(get_session)]
# verified when the user does not exist, so both failures take as long
_DUMMY_HASH = hash_password("not a password of anyone")


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=50)
    password: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)


class UserBody(BaseModel):
    username: str


class TokenBody(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105  (the OAuth 2 token type, not a secret)
    expires_in: int


def _failed() -> JSONResponse:
    return JSONResponse(
        {"detail": "invalid username or password"},
        status_code=401,
        headers={"WWW-Authenticate": "Bearer"},
    )


@router.post("/login", response_model=TokenBody, responses={401: {"description": "refused"}})
async def login(body: LoginRequest, request: Request, session: Session) -> TokenBody | JSONResponse:
    user = await session.scalar(select(User).where(User.username == body.username))
    if user is None:
        verify_password(_DUMMY_HASH, body.password)
        audit.note(request.scope, event="login", outcome="failure", username=body.username)
        return _failed()
    if not verify_password(user.hashed_password, body.password) or not user.is_active:
        audit.note(request.scope, event="login", outcome="failure", username=body.username)
        return _failed()
    audit.note(request.scope, event="login", outcome="success", username=user.username)
    secret = request.app.state.settings.secret_key.get_secret_value()
    return TokenBody(access_token=issue_token(secret, user.username), expires_in=TOKEN_TTL_S)


@router.get("/me", response_model=UserBody, responses={401: {"description": "no valid token"}})
async def me(
    request: Request, authorization: Annotated[str | None, Header()] = None
) -> UserBody | JSONResponse:
    """The user of the bearer token: the smallest authenticated call of the API."""
    secret = request.app.state.settings.secret_key.get_secret_value()
    username = bearer_subject(secret, authorization)
    if username is None:
        return JSONResponse(
            {"detail": "a valid bearer token is required"},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    return UserBody(username=username)
