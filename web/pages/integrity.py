"""Record integrity (admins and reviewers): the hash chain's head, its signatures, and a check."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from services.access import Permission
from web.deps import WaymarkDep, allow
from web.pages.routing import PageRoute, PagesDep

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/ledger", dependencies=[allow(Permission.AUDIT)])
def ledger(
    request: Request,
    waymark: WaymarkDep,
    pages: PagesDep,
    check: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    """What the record's chain and signatures say now; with ``check``, every event checked."""
    ledger = waymark.ledger
    return pages.render(
        request,
        "ledger.html",
        head=ledger.head(),
        latest=ledger.latest_checkpoint(),
        confirmation=ledger.last_confirmation(),
        key_id=ledger.key_id,
        interval=ledger.checkpoint_interval,
        verdict=ledger.verify() if check == "every-event" else None,
    )
