"""Councils: profiles, assessments, the declaration and reorganisation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Request, Response, status

from domain.council import Council
from services.access import Permission, Principal
from services.container import Waymark
from services.records import Written
from web.api import presenters
from web.api.created import write_headers
from web.deps import (
    ActorDep,
    ExpectedVersionDep,
    IdempotencyKeyDep,
    PrincipalDep,
    WaymarkDep,
    allow,
    etag,
    get_waymark,
)
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


def allow_change(request: Request, code: CodePath, principal: PrincipalDep) -> None:
    """Admins, and managers of a programme the council is enrolled in, change a council."""
    waymark = get_waymark(request)
    scope = waymark.access.scope(council_code=code.strip().upper())
    waymark.access.require(principal, Permission.CHANGE_COUNCIL, scope)


MayChange = Depends(allow_change)

#: What a council's peers do not see of its assessments (docs/DOMAIN.md, "Who sees what").
IN_FULL_ONLY = {
    "financial_contexts": ("demand_pressure", "financial_pressure", "note"),
    "maturity": ("note",),
}


def council_as_shown(
    waymark: Waymark, principal: Principal, council: dict[str, Any]
) -> dict[str, Any]:
    """The council (``Queries.council_record``) as ``principal`` may see it: in full,
    or its assessments summarised.

    ``assessments`` says which: ``in_full``, or ``summary`` (for peers: each
    assessment's date with its segment or its levels, and no notes).
    """
    shown = dict(council)
    scope = waymark.access.scope(council_code=council["code"])
    if waymark.access.allows(principal, Permission.READ_COUNCIL_IN_FULL, scope):
        return {**shown, "assessments": "in_full"}
    for key, hidden in IN_FULL_ONLY.items():
        shown[key] = [{k: v for k, v in a.items() if k not in hidden} for a in shown[key]]
    return {**shown, "assessments": "summary"}


def shares_as_shown(waymark: Waymark, principal: Principal, code: str) -> list[dict[str, Any]]:
    """What the council shares and with whom, both ways (``Queries.shares_of``), from the
    share decisions of cohorts ``principal`` may read."""
    readable: dict[str, bool] = {}
    found = []
    for share in waymark.queries.shares_of(code):
        cohort_id = share.pop("cohort_id")
        if cohort_id not in readable:
            scope = waymark.access.scope(cohort_id=UUID(cohort_id))
            readable[cohort_id] = waymark.access.allows(principal, Permission.READ_COHORT, scope)
        if readable[cohort_id]:
            found.append(share)
    return found


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
    return {"items": waymark.queries.councils()}


@router.get("/{code}", dependencies=[allow(Permission.READ)])
def get_council(
    code: CodePath, waymark: WaymarkDep, principal: PrincipalDep, response: Response
) -> dict[str, Any]:
    """The council's profile and assessments; to peers, assessments without notes.

    Admins, programme managers, reviewers and the council's own participants see
    every assessment in full; other participants see each financial context as
    its segment and each maturity assessment as its levels (``assessments`` is
    ``summary``).
    """
    assert principal is not None  # allow() refused anonymous requests
    council = waymark.queries.council_record(code)
    response.headers["ETag"] = etag(council["version"])
    shown = council_as_shown(waymark, principal, council)
    return {**shown, "shares": shares_as_shown(waymark, principal, council["code"])}


def _record(code: str, response: Response, command: Callable[[], Written]) -> dict[str, Any]:
    written = command()
    response.headers["ETag"] = etag(written.version)
    return {"code": code.upper(), **presenters.written(written)}


@router.patch("/{code}", dependencies=[MayChange])
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


@router.post("/{code}/gss-code", dependencies=[MayChange])
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


@router.post("/{code}/financial-context", dependencies=[MayChange])
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


@router.post("/{code}/maturity", dependencies=[MayChange])
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


@router.post("/{code}/declaration", dependencies=[MayChange])
def sign_declaration(
    code: CodePath, body: DeclarationIn, waymark: WaymarkDep, actor: ActorDep, response: Response
) -> dict[str, Any]:
    """The council has signed the Local Digital Declaration."""
    return _record(
        code,
        response,
        lambda: waymark.records.sign_declaration(code=code, signed_on=body.signed_on, actor=actor),
    )


@router.post("/{code}/succession", dependencies=[MayChange])
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
