"""Request and response bodies of the formulas and account API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError

from reference_app.core import input_validation
from reference_app.core.input_validation import EMAIL_MAX_LENGTH, MAX_PASSWORD_LENGTH

NAME_MAX = 200
EXPRESSION_MAX = 2000
DESCRIPTION_MAX = 10_000
PAGE_SIZE_DEFAULT = 20
PAGE_SIZE_MAX = 100


def storable(value: str) -> str:
    # PostgreSQL rejects NUL in text and no backend can store lone surrogates; refusing
    # them here turns what would be a 500 into a 422.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


def field_error(check: Callable[[str], str]) -> Callable[[str], str]:
    """``check`` as a field validator: its reason becomes the 422's ``msg`` as it is."""

    def validate(value: str) -> str:
        try:
            return check(value)
        except input_validation.InputValidationError as exc:
            raise PydanticCustomError("invalid_input", str(exc)) from None

    return validate


StorableText = Annotated[str, AfterValidator(storable)]
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_MAX),
    AfterValidator(storable),
]
Expression = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=EXPRESSION_MAX),
    AfterValidator(storable),
]
# rich text: stored with only the allowed markup, so it never runs in a browser
Description = Annotated[
    str,
    StringConstraints(max_length=DESCRIPTION_MAX),
    AfterValidator(storable),
    AfterValidator(field_error(input_validation.sanitize_html)),
]


class FormulaCreate(BaseModel):
    """A new formula; also the body of PUT, which replaces every field."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    expression: Expression
    description: Description | None = None


class FormulaUpdate(BaseModel):
    """A partial update: only the fields present in the body change."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    expression: Expression | None = None
    description: Description | None = None

    @model_validator(mode="after")
    def _required_fields_not_null(self) -> Self:
        # Omitting name/expression keeps them; sending null would violate NOT NULL.
        for field in ("name", "expression"):
            if field in self.model_fields_set and getattr(self, field) is None:
                raise ValueError(f"{field} cannot be null")
        return self

    def changes(self) -> dict[str, str | None]:
        """The fields the client sent, with their new values."""
        return self.model_dump(exclude_unset=True)


class FormulaRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    expression: str
    description: str | None
    created_at: datetime
    updated_at: datetime


class ErrorBody(BaseModel):
    """The JSON body of every 4xx/5xx response other than 422."""

    detail: str


class FormulaPage(BaseModel):
    items: list[FormulaRead]
    total: int = Field(ge=0)
    page: int = Field(ge=1)
    size: int = Field(ge=1, le=PAGE_SIZE_MAX)
    pages: int = Field(ge=0)


# text a hash can take: no NUL, no lone surrogates (which JSON's \ud800 escapes can make)
Password = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_PASSWORD_LENGTH), AfterValidator(storable)
]


class RegisterRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Annotated[str, AfterValidator(field_error(input_validation.validate_username))]
    email: Annotated[
        str,
        StringConstraints(max_length=EMAIL_MAX_LENGTH),
        AfterValidator(storable),
        AfterValidator(field_error(input_validation.validate_email)),
    ]
    # its strength depends on the app's profile: the endpoint judges it
    password: Password
    bio: Description | None = None


class AccountRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    email: str
    bio: str | None


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Annotated[
        str, StringConstraints(min_length=1, max_length=50), AfterValidator(storable)
    ]
    password: Password
    otp: Annotated[str, StringConstraints(max_length=16), AfterValidator(storable)] | None = None


class TokenBody(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105  (the OAuth 2 token type, not a secret)
    expires_in: int


class UploadRead(BaseModel):
    name: str
    media_type: str
    size: int
