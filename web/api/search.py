"""Search over the entries' texts."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query

from services.access import Permission
from web.api import presenters
from web.api.reading import Cursor, WaitFor
from web.deps import PrincipalDep, WaymarkDep, allow
from web.schemas import PROBLEM_RESPONSES

router = APIRouter(prefix="/api/search", tags=["search"], responses=PROBLEM_RESPONSES)


@router.get("", dependencies=[allow(Permission.READ)])
def search(
    waymark: WaymarkDep,
    principal: PrincipalDep,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=500,
            description="Words to find. Every word must match a word of the entry, or its "
            "start (`collect` finds `collection`); case and accents are ignored; quotes "
            "and operators are read as plain text.",
        ),
    ],
    cohort: Annotated[UUID | None, Query(description="Only this cohort's entries.")] = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    wait_for: WaitFor = None,
) -> dict[str, Any]:
    """Entries whose texts hold every word asked for, newest first, with project and council."""
    assert principal is not None  # allow() refused anonymous requests
    freshness = waymark.queries.fresh(wait_for)
    items, next_cursor = waymark.queries.search(
        q, principal, cohort_id=cohort, cursor=cursor, limit=limit
    )
    return {
        "items": items,
        "next_cursor": next_cursor,
        "freshness": presenters.freshness(freshness),
    }
