"""Accounts: register, log in (password, per-account lockout, TOTP), and who am I.

Every login outcome is handed to the audit layer (``audit.note``): a failed login is recorded
with the attempted user name and the client's address, never with the password or code.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import JSONResponse

from reference_app.core.activity import active_users
from reference_app.core.database import get_session
from reference_app.core.identity import LoginAttempts, SecondFactor
from reference_app.core.input_validation import password_problem
from reference_app.core.metrics import count_login
from reference_app.core.middleware import audit
from reference_app.core.security import hash_password, verify_password
from reference_app.core.tokens import TOKEN_TTL_S, bearer_subject, issue_token
from reference_app.models import User
from reference_app.schemas import AccountRead, LoginRequest, RegisterRequest, TokenBody

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])

Session = Annotated[AsyncSession, Depends(get_session)]
# verified when the user does not exist, so both failures take as long
_DUMMY_HASH = hash_password("not a password of anyone")
_BEARER = {"WWW-Authenticate": "Bearer"}


class UserBody(BaseModel):
    username: str


def _failed() -> JSONResponse:
    return JSONResponse(
        {"detail": "invalid username or password"}, status_code=401, headers=_BEARER
    )


def _code_required() -> JSONResponse:
    return JSONResponse(
        {"detail": "a one-time code is required", "otp_required": True},
        status_code=401,
        headers=_BEARER,
    )


def _locked(until: datetime, now: datetime) -> JSONResponse:
    retry_after = max(1, math.ceil((until - now).total_seconds()))
    return JSONResponse(
        {"detail": "account locked", "locked_until": until.isoformat()},
        status_code=423,
        headers={"Retry-After": str(retry_after)},
    )


def login_attempts(request: Request) -> LoginAttempts:
    attempts: LoginAttempts = request.app.state.login_attempts
    return attempts


def second_factor(request: Request) -> SecondFactor:
    factor: SecondFactor = request.app.state.second_factor
    return factor


def bearer_user(request: Request, authorization: str | None) -> str | None:
    """The user name of a valid bearer token in ``authorization``."""
    secret = request.app.state.settings.secret_key.get_secret_value()
    return bearer_subject(secret, authorization)


def token_required() -> JSONResponse:
    return JSONResponse(
        {"detail": "a valid bearer token is required"}, status_code=401, headers=_BEARER
    )


@router.post(
    "/register",
    status_code=201,
    response_model=AccountRead,
    responses={409: {"description": "the username or e-mail is taken"}},
)
async def register(
    body: RegisterRequest, request: Request, session: Session
) -> AccountRead | JSONResponse:
    profile = request.app.state.settings.profile
    problem = password_problem(body.password, profile, body.username)
    if problem is not None:  # FastAPI's shape, as for every other field
        error = {"type": "weak_password", "loc": ("body", "password"), "msg": problem}
        raise RequestValidationError([error])
    taken = await session.scalar(
        select(User).where(or_(User.username == body.username, User.email == body.email))
    )
    if taken is not None:
        field = "username" if taken.username == body.username else "e-mail address"
        return JSONResponse({"detail": f"the {field} is already registered"}, status_code=409)
    user = User(
        username=body.username,
        email=body.email,
        hashed_password=hash_password(body.password),
        bio=body.bio,
    )
    session.add(user)
    try:
        await session.commit()
    except IntegrityError:  # registered by another request since the check
        return JSONResponse({"detail": "the username or e-mail is taken"}, status_code=409)
    return AccountRead.model_validate(user)


@router.post(
    "/login",
    response_model=TokenBody,
    responses={401: {"description": "refused"}, 423: {"description": "account locked"}},
)
async def login(body: LoginRequest, request: Request, session: Session) -> TokenBody | JSONResponse:
    attempts, factor = login_attempts(request), second_factor(request)

    def noted(outcome: str, response: JSONResponse) -> JSONResponse:
        audit.note(request.scope, event="login", outcome=outcome, username=body.username)
        count_login("locked" if response.status_code == 423 else outcome)
        return response

    user = await session.scalar(select(User).where(User.username == body.username))
    if user is None:
        verify_password(_DUMMY_HASH, body.password)
        return noted("failure", _failed())  # no account, nothing to lock
    until = await attempts.locked_until(session, user)
    if until is not None:
        return noted("failure", _locked(until, attempts.clock()))
    if not verify_password(user.hashed_password, body.password) or not user.is_active:
        await attempts.failed(session, user)
        return noted("failure", _failed())
    if factor.required(user):
        if body.otp is None:  # the client learns a code is needed: not a guess
            return noted("failure", _code_required())
        if not await factor.accept(session, user, body.otp):
            await attempts.failed(session, user)
            return noted("failure", _code_required())
    await attempts.succeeded(session, user)
    audit.note(request.scope, event="login", outcome="success", username=user.username)
    count_login("success")
    await active_users(request.app).note(user.username)
    secret = request.app.state.settings.secret_key.get_secret_value()
    return TokenBody(access_token=issue_token(secret, user.username), expires_in=TOKEN_TTL_S)


@router.get("/me", response_model=UserBody, responses={401: {"description": "no valid token"}})
async def me(
    request: Request, authorization: Annotated[str | None, Header()] = None
) -> UserBody | JSONResponse:
    """The user of the bearer token: the smallest authenticated call of the API."""
    username = bearer_user(request, authorization)
    if username is None:
        return token_required()
    return UserBody(username=username)
