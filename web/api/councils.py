"""Councils: profiles, assessments, the declaration and reorganisation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Response, status

from domain.council import Council
from services.access import Permission
from services.records import Written
from web.api import presenters
from web.api.created import write_headers
from web.deps import ActorDep, ExpectedVersionDep, IdempotencyKeyDep, WaymarkDep, allow, etag
from web.schemas import (
    COUNCIL_CODE_PATTERN,
    PROBLEM_RESPONSES,
    CouncilIn,
    CouncilProfileIn,
    DeclarationIn,
    FinancialContextIn,
    GssCodeIn,
    MaturityIn,
    SuccessionIn,
)

CodePath = Annotated[str, Path(pattern=COUNCIL_CODE_PATTERN, max_length=64)]

router = APIRouter(prefix="/api/councils", tags=["councils"], responses=PROBLEM_RESPONSES)


@router.post(
    "", status_code=status.HTTP_201_CREATED, dependencies=[allow(Permission.MANAGE_COUNCILS)]
)
def register_council(
    body: CouncilIn,
    waymark: WaymarkDep,
    actor: ActorDep,
    key: IdempotencyKeyDep,
    response: Response,
) -> dict[str, Any]:
    written = waymark.records.register_council(
        code=body.code,
        name=body.name,
        council_type=body.council_type.value,
        region=body.region.value,
        population=body.population,
        gss_code=body.gss_code,
        political_control=body.political_control,
        actor=actor,
        idempotency_key=key,
    )
    code = Council.check_code(body.code)
    write_headers(response, written, f"/api/councils/{code}")
    return {"code": code, **presenters.written(written)}


@router.get("", dependencies=[allow(Permission.READ)])
def list_councils(waymark: WaymarkDep) -> dict[str, Any]:
    return {"items": waymark.councils()}


@router.get("/{code}", dependencies=[allow(Permission.READ)])
def get_council(code: CodePath, waymark: WaymarkDep, response: Response) -> dict[str, Any]:
    council = waymark.records.get_council(code)
    response.headers["ETag"] = etag(council.version)
    return presenters.council(council)


def _record(code: str, response: Response, command: Callable[[], Written]) -> dict[str, Any]:
    written = command()
    response.headers["ETag"] = etag(written.version)
    return {"code": code.upper(), **presenters.written(written)}


@router.patch("/{code}", dependencies=[allow(Permission.MANAGE_COUNCILS)])
def update_profile(
    code: CodePath,
    body: CouncilProfileIn,
    waymark: WaymarkDep,
    actor: ActorDep,
    expected: ExpectedVersionDep,
    response: Response,
) -> dict[str, Any]:
    """Change the profile fields given (type, scale, region, politics, legacies)."""
    changes = body.model_dump(mode="json", exclude_unset=True)
    return _record(
        code,
        response,
        lambda: waymark.records.update_council_profile(
            code=code, changes=changes, actor=actor, expected_version=expected
        ),
    )


@router.post("/{code}/gss-code", dependencies=[allow(Permission.MANAGE_COUNCILS)])
def change_gss_code(
    code: CodePath, body: GssCodeIn, waymark: WaymarkDep, actor: ActorDep, response: Response
) -> dict[str, Any]:
    """A new ONS GSS code, from a date (codes change when councils reorganise)."""
    return _record(
        code,
        response,
        lambda: waymark.records.change_gss_code(
            code=code, gss_code=body.gss_code, effective_from=body.effective_from, actor=actor
        ),
    )


@router.post("/{code}/financial-context", dependencies=[allow(Permission.MANAGE_COUNCILS)])
def assess_financial_context(
    code: CodePath,
    body: FinancialContextIn,
    waymark: WaymarkDep,
    actor: ActorDep,
    response: Response,
) -> dict[str, Any]:
    return _record(
        code,
        response,
        lambda: waymark.records.assess_financial_context(
            code=code,
            assessed_on=body.assessed_on,
            demand_pressure=body.demand_pressure.value,
            financial_pressure=body.financial_pressure.value,
            note=body.note,
            actor=actor,
        ),
    )


@router.post("/{code}/maturity", dependencies=[allow(Permission.MANAGE_COUNCILS)])
def assess_maturity(
    code: CodePath, body: MaturityIn, waymark: WaymarkDep, actor: ActorDep, response: Response
) -> dict[str, Any]:
    return _record(
        code,
        response,
        lambda: waymark.records.assess_maturity(
            code=code,
            assessed_on=body.assessed_on,
            levels=body.levels.model_dump(),
            note=body.note,
            actor=actor,
        ),
    )


@router.post("/{code}/declaration", dependencies=[allow(Permission.MANAGE_COUNCILS)])
def sign_declaration(
    code: CodePath, body: DeclarationIn, waymark: WaymarkDep, actor: ActorDep, response: Response
) -> dict[str, Any]:
    """The council has signed the Local Digital Declaration."""
    return _record(
        code,
        response,
        lambda: waymark.records.sign_declaration(code=code, signed_on=body.signed_on, actor=actor),
    )


@router.post("/{code}/succession", dependencies=[allow(Permission.MANAGE_COUNCILS)])
def record_succession(
    code: CodePath, body: SuccessionIn, waymark: WaymarkDep, actor: ActorDep, response: Response
) -> dict[str, Any]:
    """Reorganisation: the council is succeeded by others; its history stays."""
    return _record(
        code,
        response,
        lambda: waymark.records.record_succession(
            code=code,
            successor_codes=body.successor_codes,
            effective_from=body.effective_from,
            actor=actor,
        ),
    )
