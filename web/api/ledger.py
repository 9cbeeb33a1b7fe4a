"""Tamper evidence: verify the record against its hash chain and signed checkpoints."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse

from services.access import Permission
from services.ledger import as_json
from web.deps import WaymarkDep, allow
from web.schemas import PROBLEM_RESPONSES

router = APIRouter(prefix="/api/ledger", tags=["ledger"], responses=PROBLEM_RESPONSES)


@router.get("/verify", dependencies=[allow(Permission.AUDIT)])
def verify(waymark: WaymarkDep) -> dict[str, Any]:
    """Recompute the chain over every stored event; `ok`, or the first bad position and why."""
    return as_json(waymark.ledger.verify())


@router.get("/checkpoints", dependencies=[allow(Permission.AUDIT)])
def checkpoints(
    waymark: WaymarkDep,
    after: Annotated[int, Query(ge=0, description="Only checkpoints after this position.")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Signed checkpoints in log order, with the key that verifies them."""
    items = waymark.ledger.checkpoints(after, limit + 1)
    more = len(items) > limit
    items = items[:limit]
    return {
        "key_id": waymark.ledger.key_id,
        "public_key": waymark.ledger.public_key_pem(),
        "items": [c.to_json() for c in items],
        "next_after": items[-1].position if more else None,
    }


@router.get(
    "/public-key",
    response_class=PlainTextResponse,
    responses={200: {"content": {"application/x-pem-file": {"schema": {"type": "string"}}}}},
)
def public_key(waymark: WaymarkDep) -> PlainTextResponse:
    """The PEM public key (Ed25519) that verifies this server's checkpoints."""
    return PlainTextResponse(waymark.ledger.public_key_pem(), media_type="application/x-pem-file")
