"""Councils: the local authorities taking part."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response, status

from web.api import presenters
from web.deps import ActorDep, WaymarkDep, etag
from web.schemas import CouncilIn

router = APIRouter(prefix="/api/councils", tags=["councils"])


@router.post("", status_code=status.HTTP_201_CREATED)
def register_council(
    body: CouncilIn, waymark: WaymarkDep, actor: ActorDep, response: Response
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
    )
    council = waymark.records.get_council(body.code)
    response.headers["Location"] = f"/api/councils/{council.code}"
    response.headers["ETag"] = etag(written.version)
    return {"code": council.code, "version": written.version, "position": written.position}


@router.get("")
def list_councils(waymark: WaymarkDep) -> dict[str, Any]:
    return {"items": waymark.councils()}


@router.get("/{code}")
def get_council(code: str, waymark: WaymarkDep, response: Response) -> dict[str, Any]:
    council = waymark.records.get_council(code)
    response.headers["ETag"] = etag(council.version)
    return presenters.council(council)
