"""Query parameters that every read of a read model shares."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Query, Request

from domain.errors import InvalidValue
from web.deps import as_utc, get_waymark
from web.schemas import IsoDate, IsoInstant

WaitFor = Annotated[
    int | None,
    Query(ge=0, description="A log position (from a write) to wait for, briefly."),
]


def _as_of(
    request: Request,
    as_of: Annotated[
        IsoInstant | None,
        Query(
            description="Show the record as it stood at this instant (UTC if no zone is "
            "given); an instant in the future is refused."
        ),
    ] = None,
) -> datetime | None:
    """The instant a read travels back to, in UTC: never later than now, since the record
    cannot say how it will stand (the pages refuse a future day the same way)."""
    moment = as_utc(as_of)
    if moment is not None and moment > get_waymark(request).records.now():
        raise InvalidValue("as_of", "must be now or in the past, not in the future")
    return moment


#: Every endpoint that reads the record as it stood takes ``as_of`` through this.
AsOf = Annotated[datetime | None, Depends(_as_of)]
Cursor = Annotated[
    str | None, Query(max_length=200, description="The `next_cursor` of the previous page.")
]
Week = Annotated[
    int | None,
    Query(
        ge=1,
        le=520,
        description="Align cohorts by week: what each council had decided by the end of "
        "week N of its cohort (week 1 is the cohort's first seven days).",
    ),
]
Today = Annotated[
    IsoDate | None,
    Query(
        description="The day quiet projects and days in a phase are counted to: today by "
        "default, the as_of day with as_of, at most the week's last day with week."
    ),
]
FollowSuccessors = Annotated[
    bool,
    Query(
        description="Report a reorganised council's projects under its successor (when it "
        "has exactly one; followed down the chain)."
    ),
]
