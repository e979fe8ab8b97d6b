"""Request and response bodies of the formulas API."""

from __future__ import annotations

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
Description = Annotated[
    str, StringConstraints(max_length=DESCRIPTION_MAX), AfterValidator(storable)
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
