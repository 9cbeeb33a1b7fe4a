"""Dependencies shared by routes: the container, the actor, the expected version."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Header, Request

from domain.errors import InvalidValue
from services.container import Waymark

ACTOR_HEADER = "X-Waymark-Actor"
ACTOR_PATTERN = re.compile(r"^[\w.@+ -]{1,100}$")


def get_waymark(request: Request) -> Waymark:
    waymark: Waymark = request.app.state.waymark
    return waymark


def current_actor(
    x_waymark_actor: Annotated[str | None, Header(description="Who is acting.")] = None,
) -> str:
    """Who is acting. The one place that will change when sign-in arrives."""
    if not x_waymark_actor:
        return "anonymous"
    actor = x_waymark_actor.strip()
    if not ACTOR_PATTERN.match(actor):
        raise InvalidValue(ACTOR_HEADER, "must be 1-100 letters, digits, spaces or . @ + - _")
    return actor


def expected_version(
    if_match: Annotated[
        str | None, Header(description="The version the change is based on (its ETag).")
    ] = None,
) -> int | None:
    if if_match is None or if_match.strip() == "*":
        return None
    tag = if_match.strip()
    if tag.startswith("W/"):
        tag = tag[2:]
    tag = tag.strip('"')
    if not tag.isdigit():
        raise InvalidValue("If-Match", "must be a version number as given in the ETag")
    return int(tag)


def idempotency_key(
    idempotency_key: Annotated[
        str | None,
        Header(
            max_length=200,
            description="Send the same key when retrying: the first result comes back "
            "and nothing is recorded twice.",
        ),
    ] = None,
) -> str | None:
    return idempotency_key


def etag(version: int) -> str:
    return f'"{version}"'


WaymarkDep = Annotated[Waymark, Depends(get_waymark)]
ActorDep = Annotated[str, Depends(current_actor)]
ExpectedVersionDep = Annotated[int | None, Depends(expected_version)]
IdempotencyKeyDep = Annotated[str | None, Depends(idempotency_key)]


def as_utc(moment: datetime | None) -> datetime | None:
    """Instants without a zone are taken as UTC, as the API documents."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)
