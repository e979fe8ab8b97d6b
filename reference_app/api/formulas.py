"""CRUD, search and pagination of formulas under /api/v1/formulas."""

from __future__ import annotations

from math import ceil
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from reference_app.core.cache import FormulaCache, formula_cache
from reference_app.core.database import get_session
from reference_app.models import Formula
from reference_app.schemas import (
    NAME_MAX,
    PAGE_SIZE_DEFAULT,
    PAGE_SIZE_MAX,
    ErrorBody,
    FormulaCreate,
    FormulaPage,
    FormulaRead,
    FormulaUpdate,
    StorableText,
)

router = APIRouter(prefix="/api/v1/formulas", tags=["formulas"])

Session = Annotated[AsyncSession, Depends(get_session)]


def _cache(request: Request) -> FormulaCache:
    return formula_cache(request.app)


Cache = Annotated[FormulaCache, Depends(_cache)]
# Bounded so an absurd id or page is a 422, not an integer overflow inside the database.
FormulaId = Annotated[int, Path(ge=1, le=2**31 - 1)]
SearchText = Annotated[StorableText | None, Query(max_length=NAME_MAX)]
PageNumber = Annotated[int, Query(ge=1, le=1_000_000)]
PageSize = Annotated[int, Query(ge=1, le=PAGE_SIZE_MAX)]

_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorBody}}
_CONFLICT: dict[int | str, dict[str, Any]] = {409: {"model": ErrorBody}}


def _links(source: str, *operations: str) -> dict[str, Any]:
    """OpenAPI links to the operations on one formula, its id taken from ``source`` (a runtime
    expression): a contract tester follows them, create -> read -> update -> delete."""
    return {
        "links": {
            op[0].upper() + op[1:]: {"operationId": op, "parameters": {"formula_id": source}}
            for op in operations
        }
    }


_BY_ID = ("getFormula", "updateFormula", "replaceFormula", "deleteFormula")
_Responses = dict[int | str, dict[str, Any]]
_CREATED: _Responses = {201: _links("$response.body#/id", *_BY_ID)}
_FOUND: _Responses = {200: _links("$response.body#/id", *_BY_ID)}
# after a delete, reading the formula again must say it is gone
_DELETED: _Responses = {204: _links("$request.path.formula_id", "getFormula")}


async def _get_or_404(session: AsyncSession, formula_id: int) -> Formula:
    formula = await session.get(Formula, formula_id)
    if formula is None:
        raise HTTPException(status_code=404, detail=f"formula {formula_id} not found")
    return formula


async def _commit_unique(session: AsyncSession, name: str) -> None:
    # The unique index is the only constraint a valid body can violate, and relying on it
    # (rather than a prior SELECT) stays correct when two clients race for one name.
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise HTTPException(
            status_code=409, detail=f"a formula named {name!r} already exists"
        ) from None


def _search_filter(q: str | None) -> ColumnElement[bool] | None:
    text = (q or "").strip()
    if not text:
        return None
    # Bound parameters with LIKE wildcards escaped: `%` and `_` in q match literally.
    return or_(
        Formula.name.icontains(text, autoescape=True),
        Formula.description.icontains(text, autoescape=True),
    )


@router.post(
    "",
    status_code=201,
    response_model=FormulaRead,
    responses={**_CREATED, **_CONFLICT},
    operation_id="createFormula",
)
async def create_formula(body: FormulaCreate, session: Session) -> FormulaRead:
    formula = Formula(**body.model_dump())
    session.add(formula)
    await _commit_unique(session, body.name)
    return FormulaRead.model_validate(formula)


@router.get("", response_model=FormulaPage, operation_id="listFormulas")
async def list_formulas(
    session: Session,
    q: SearchText = None,
    page: PageNumber = 1,
    size: PageSize = PAGE_SIZE_DEFAULT,
) -> FormulaPage:
    condition = _search_filter(q)
    count_query = select(func.count()).select_from(Formula)
    items_query = select(Formula).order_by(Formula.id).offset((page - 1) * size).limit(size)
    if condition is not None:
        count_query = count_query.where(condition)
        items_query = items_query.where(condition)
    total = (await session.execute(count_query)).scalar_one()
    formulas = (await session.scalars(items_query)).all()
    return FormulaPage(
        items=[FormulaRead.model_validate(formula) for formula in formulas],
        total=total,
        page=page,
        size=size,
        pages=ceil(total / size),
    )


@router.get(
    "/{formula_id}",
    response_model=FormulaRead,
    responses={**_FOUND, **_NOT_FOUND},
    operation_id="getFormula",
)
async def get_formula(formula_id: FormulaId, session: Session, cache: Cache) -> FormulaRead:
    cached = await cache.get(formula_id)
    if cached is not None:
        return FormulaRead.model_validate_json(cached)
    found = FormulaRead.model_validate(await _get_or_404(session, formula_id))
    await cache.put(formula_id, found.model_dump_json())
    return found


@router.patch(
    "/{formula_id}",
    response_model=FormulaRead,
    responses={**_FOUND, **_NOT_FOUND, **_CONFLICT},
    operation_id="updateFormula",
)
async def update_formula(
    formula_id: FormulaId, body: FormulaUpdate, session: Session, cache: Cache
) -> FormulaRead:
    formula = await _get_or_404(session, formula_id)
    for field, value in body.changes().items():
        setattr(formula, field, value)
    await _commit_unique(session, formula.name)
    await cache.forget(formula_id)
    return FormulaRead.model_validate(formula)


@router.put(
    "/{formula_id}",
    response_model=FormulaRead,
    responses={**_FOUND, **_NOT_FOUND, **_CONFLICT},
    operation_id="replaceFormula",
)
async def replace_formula(
    formula_id: FormulaId, body: FormulaCreate, session: Session, cache: Cache
) -> FormulaRead:
    formula = await _get_or_404(session, formula_id)
    formula.name = body.name
    formula.expression = body.expression
    formula.description = body.description
    await _commit_unique(session, body.name)
    await cache.forget(formula_id)
    return FormulaRead.model_validate(formula)


@router.delete(
    "/{formula_id}",
    status_code=204,
    response_class=Response,
    responses={**_DELETED, **_NOT_FOUND},
    operation_id="deleteFormula",
)
async def delete_formula(formula_id: FormulaId, session: Session, cache: Cache) -> Response:
    await session.delete(await _get_or_404(session, formula_id))
    await session.commit()
    await cache.forget(formula_id)
    return Response(status_code=204)
