"""Query parameters that every read of a read model shares."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from web.schemas import IsoDate, IsoInstant

WaitFor = Annotated[
    int | None,
    Query(ge=0, description="A log position (from a write) to wait for, briefly."),
]
AsOf = Annotated[
    IsoInstant | None,
    Query(description="Show the record as it stood at this instant (UTC if no zone is given)."),
]
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
