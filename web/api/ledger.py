"""Tamper evidence: verify the record against its hash chain and signed checkpoints."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from domain.errors import Conflict, InvalidValue
from services.access import Permission
from services.ledger import as_json
from web.deps import ActorDep, WaymarkDep, allow
from web.schemas import PROBLEM_RESPONSES

#: The most positions one request may ask the chain hashes of: with the query's limit
#: (21 characters a position), even a query of percent-encoded multi-byte text stays
#: under the 80 KB request line uvicorn's parser takes (past it, uvicorn answers a plain
#: 400 of its own, before the app can answer problem+json).
MOST_POSITIONS = 200

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


@router.get("/chain", dependencies=[allow(Permission.AUDIT)])
def chain(
    waymark: WaymarkDep,
    positions: Annotated[
        str,
        Query(
            max_length=MOST_POSITIONS * 21,
            pattern=r"^([0-9]+(,[0-9]+)*)?$",
            description=f"Comma-separated log positions, at most {MOST_POSITIONS}.",
        ),
    ] = "",
) -> dict[str, Any]:
    """The chain hash at each position asked for (null where the chain has none), and the
    chain's head: what `waymark witness` checks its kept checkpoints against."""
    wanted = _positions(positions)
    found = waymark.ledger.chain_at(wanted)
    head = waymark.ledger.head()
    return {
        "head": None
        if head is None
        else {"position": head.position, "chain_hash": head.chain_hash.hex()},
        "items": [
            {"position": p, "chain_hash": found[p].hex() if p in found else None} for p in wanted
        ],
    }


def _positions(text: str) -> list[int]:
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if len(parts) > MOST_POSITIONS:
        raise InvalidValue("positions", f"at most {MOST_POSITIONS} positions at a time")
    try:
        wanted = sorted({int(p) for p in parts})
    except ValueError:
        raise InvalidValue("positions", "must be whole numbers separated by commas") from None
    if any(not 0 < p < 2**63 for p in wanted):
        raise InvalidValue("positions", "must be log positions (1 or more)")
    return wanted


class WitnessConfirmation(BaseModel):
    position: int = Field(ge=1, lt=2**63, description="The chain head the witness now holds.")
    chain_hash: str = Field(
        pattern=r"^[0-9a-f]{64}$", description="The chain hash there, 64 lower-case hex digits."
    )


@router.post(
    "/witnessed",
    dependencies=[allow(Permission.AUDIT)],
    responses={409: {"description": "The chain there differs from what the witness holds."}},
)
def witnessed(body: WitnessConfirmation, waymark: WaymarkDep, actor: ActorDep) -> dict[str, Any]:
    """A witness (`waymark witness`) confirms it holds the record up to `position`; the
    server notes it in its checkpoint log and shows it on the ledger page."""
    confirmation = waymark.ledger.confirm(body.position, bytes.fromhex(body.chain_hash), actor)
    if confirmation is None:
        raise Conflict(
            f"position {body.position}: the record's chain hash here is not the one the "
            "witness holds"
        )
    return {
        "position": confirmation.position,
        "chain_hash": confirmation.chain_hash.hex(),
        "confirmed_at": confirmation.confirmed_at,
        "by": confirmation.by,
    }


@router.get(
    "/public-key",
    response_class=PlainTextResponse,
    responses={200: {"content": {"application/x-pem-file": {"schema": {"type": "string"}}}}},
)
def public_key(waymark: WaymarkDep) -> PlainTextResponse:
    """The PEM public key (Ed25519) that verifies this server's checkpoints."""
    return PlainTextResponse(waymark.ledger.public_key_pem(), media_type="application/x-pem-file")
