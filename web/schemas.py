"""Request bodies: the shapes clients send, checked at the edge.

The domain checks every rule again; these models give clients precise
errors early and document each shape, with an example, in OpenAPI.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, create_model

from domain.vocabulary import (
    Architecture,
    CapacityArea,
    CapacityChoice,
    ConcernCategory,
    CorrectionReason,
    CouncilType,
    NeedSegmentation,
    Phase,
    Pressure,
    ProjectMethod,
    Region,
    Segment,
    StanceTopic,
    SupportSource,
    TeamHealth,
)

Money = Annotated[
    str,
    Field(
        pattern=r"^\d{1,12}(\.\d{1,2})?$",
        description="Pounds sterling as a decimal string, at most two decimal places.",
        examples=["48000.00"],
    ),
]
Text = Annotated[str, Field(max_length=20_000)]
COUNCIL_CODE_PATTERN = r"^\s*[A-Za-z0-9][A-Za-z0-9._-]{0,63}\s*$"
CouncilCode = Annotated[
    str,
    Field(
        pattern=COUNCIL_CODE_PATTERN,
        max_length=64,
        description="A stable code of the programme's choosing, e.g. an org-id.",
        examples=["GB-LAE-EXE"],
    ),
]
ShortText = Annotated[str, Field(max_length=500)]
NameList = Annotated[list[ShortText], Field(max_length=100)]


ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_date_only(value: Any) -> Any:
    """Dates are ISO text (2026-03-31); pydantic would also take numbers as timestamps."""
    if isinstance(value, dt.date) or (isinstance(value, str) and ISO_DATE.match(value)):
        return value
    raise ValueError("must be a date such as 2026-03-31")


def _iso_instant_only(value: Any) -> Any:
    if isinstance(value, dt.datetime) or (isinstance(value, str) and ISO_DATE.match(value[:10])):
        return value
    raise ValueError("must be an ISO 8601 instant such as 2026-03-31T12:00:00Z")


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date_only)]
IsoInstant = Annotated[dt.datetime, BeforeValidator(_iso_instant_only)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProgrammeIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=300)]
    description: Text = ""
    sponsor_body: ShortText = ""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Local Digital Accelerator 2027",
                    "description": "Senior leaders creating the conditions for digital.",
                    "sponsor_body": "Ministry of Housing, Communities and Local Government",
                }
            ]
        },
    )


class CohortIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=300)]
    starts_on: IsoDate
    ends_on: IsoDate


class CouncilIn(Strict):
    code: CouncilCode
    name: Annotated[str, Field(min_length=1, max_length=300)]
    council_type: CouncilType
    region: Region
    population: Annotated[int, Field(ge=0, le=100_000_000, strict=True)] | None = None
    gss_code: Annotated[str, Field(max_length=20)] = ""
    political_control: ShortText = ""


class ProjectIn(Strict):
    council_code: CouncilCode
    title: Annotated[str, Field(min_length=1, max_length=300)]


class EntryBase(Strict):
    decided_on: IsoDate | None = Field(
        default=None, description="When it happened in the world; today if not given."
    )


def _example(**values: Any) -> ConfigDict:
    return ConfigDict(extra="forbid", json_schema_extra={"examples": [values]})


class ProblemStatementIterated(EntryBase):
    model_config = _example(
        kind="problem_statement_iterated",
        statement="Residents cannot find out when their bin will be collected.",
        what_changed="Narrowed from all waste services to collections.",
        why="User research showed collections drive 70% of calls.",
    )
    kind: Literal["problem_statement_iterated"]
    statement: Text
    what_changed: Text = ""
    why: Text = ""


class CapacityDecided(EntryBase):
    model_config = _example(
        kind="capacity_decided",
        capability="Online booking",
        choice="share",
        rationale="Two neighbours already run the same platform.",
        estimated_cost="48000.00",
        decision_makers=["Chief Executive"],
    )
    kind: Literal["capacity_decided"]
    capability: ShortText
    choice: CapacityChoice
    rationale: Text = ""
    alternatives_considered: NameList = []
    partner: ShortText = ""
    estimated_cost: Money | None = None
    decision_makers: NameList = []
    consulted: NameList = []
    informed: NameList = []


class SponsorCheckIn(EntryBase):
    model_config = _example(
        kind="sponsor_check_in",
        problem_statement="Residents cannot find out when their bin will be collected.",
        surprising_finding="Most calls come from people who already use the app.",
        need_segmentation="mostly_universal",
        team_health="amber",
        team_health_note="Two people off sick.",
    )
    kind: Literal["sponsor_check_in"]
    problem_statement: Text = ""
    surprising_finding: Text = ""
    need_segmentation: NeedSegmentation | None = None
    team_health: TeamHealth
    team_health_note: Text = ""
    scope_of_implementation: Text = ""
    decisions_ahead: Text = ""
    member_engagement: Text = ""


class CaseForChange(EntryBase):
    model_config = _example(
        kind="case_for_change",
        narrative_fit="Part of the council plan's 'digital first' promise.",
        standard_of_proof="A working prototype tested with twenty residents.",
    )
    kind: Literal["case_for_change"]
    narrative_fit: Text
    standard_of_proof: Text = ""
    coalition: Text = ""
    performance_regime: Text = ""


class CapacityBuilt(EntryBase):
    model_config = _example(
        kind="capacity_built", area="skills", what_was_done="Service design training for 12."
    )
    kind: Literal["capacity_built"]
    area: CapacityArea
    what_was_done: Text


class WayOfWorkingChosen(EntryBase):
    model_config = _example(
        kind="way_of_working_chosen",
        project_method="agile",
        product_ownership="Head of Waste owns the service.",
        collaboration_tools=["Trello", "Slack"],
        architecture="platform",
    )
    kind: Literal["way_of_working_chosen"]
    project_method: ProjectMethod
    product_ownership: Text = ""
    collaboration_tools: NameList = []
    architecture: Architecture | None = None


class StanceTaken(EntryBase):
    model_config = _example(
        kind="stance_taken",
        topic="open_source_or_commercial",
        position="Open source by default.",
    )
    kind: Literal["stance_taken"]
    topic: StanceTopic
    position: Text
    rationale: Text = ""


class PhaseChanged(EntryBase):
    model_config = _example(kind="phase_changed", phase="alpha", reason="Discovery complete.")
    kind: Literal["phase_changed"]
    phase: Phase
    reason: Text = ""


class MembersEngaged(EntryBase):
    model_config = _example(
        kind="members_engaged",
        how="Briefing at the scrutiny committee.",
        response="Supportive; asked about digital exclusion.",
    )
    kind: Literal["members_engaged"]
    how: Text
    response: Text = ""
    members: NameList = []


class ConcernRaised(EntryBase):
    model_config = _example(
        kind="concern_raised",
        category="digital_exclusion_rurality",
        description="Broadband coverage in the north of the district is poor.",
    )
    kind: Literal["concern_raised"]
    category: ConcernCategory
    description: Text


class ConcernResolved(EntryBase):
    model_config = _example(
        kind="concern_resolved",
        concern_entry_id="9f1c6a52-3c1e-4f57-9b8e-0c7d2b8f4e11",
        resolution="Telephone booking kept alongside the online service.",
    )
    kind: Literal["concern_resolved"]
    concern_entry_id: UUID
    resolution: Text


class SupportRequested(EntryBase):
    model_config = _example(
        kind="support_requested",
        wish="A peer council that has already replaced this supplier.",
        from_whom="localgov_digital",
    )
    kind: Literal["support_requested"]
    wish: Text
    from_whom: SupportSource


class EntryCorrected(EntryBase):
    model_config = _example(
        kind="entry_corrected",
        corrects="9f1c6a52-3c1e-4f57-9b8e-0c7d2b8f4e11",
        reason_kind="recording_error",
        reason="The cost was typed without its last digit.",
        replacement={"estimated_cost": "48000.00"},
    )
    kind: Literal["entry_corrected"]
    corrects: UUID
    reason_kind: CorrectionReason
    reason: Text
    replacement: dict[str, Any] = Field(
        description="The corrected entry's fields that change, with their new values "
        "(and `decided_on` if the date was wrong)."
    )


EntryIn = Annotated[
    ProblemStatementIterated
    | CapacityDecided
    | SponsorCheckIn
    | CaseForChange
    | CapacityBuilt
    | WayOfWorkingChosen
    | StanceTaken
    | PhaseChanged
    | MembersEngaged
    | ConcernRaised
    | ConcernResolved
    | SupportRequested
    | EntryCorrected,
    Field(discriminator="kind"),
]

ENTRY_TAGS = frozenset(
    model.model_fields["kind"].annotation.__args__[0]  # type: ignore[union-attr]
    for model in (
        ProblemStatementIterated,
        CapacityDecided,
        SponsorCheckIn,
        CaseForChange,
        CapacityBuilt,
        WayOfWorkingChosen,
        StanceTaken,
        PhaseChanged,
        MembersEngaged,
        ConcernRaised,
        ConcernResolved,
        SupportRequested,
        EntryCorrected,
    )
)


PRESSURES = ("low", "medium", "high")
SegmentMapping = create_model(  # type: ignore[call-overload]
    "SegmentMapping",
    __config__=ConfigDict(extra="forbid"),
    __doc__='Every "demand/financial" pressure pair (low, medium, high) to a segment.',
    **{
        key.replace("/", "_"): (Segment, Field(alias=key))
        for key in (
            f"{d}/{f}" for d in ("low", "medium", "high") for f in ("low", "medium", "high")
        )
    },
)


class SegmentMappingIn(Strict):
    mapping: SegmentMapping  # type: ignore[valid-type]


class WithdrawalIn(Strict):
    council_code: CouncilCode
    reason: Annotated[str, Field(min_length=1, max_length=20_000)]


class CouncilProfileIn(Strict):
    """Only the fields given change."""

    name: Annotated[str, Field(min_length=1, max_length=300)] | None = None
    council_type: CouncilType | None = None
    region: Region | None = None
    population: Annotated[int, Field(ge=0, le=100_000_000, strict=True)] | None = None
    political_control: ShortText | None = None
    suppliers: NameList | None = None
    tried_before: NameList | None = None
    innovation_history: Text | None = None


class GssCodeIn(Strict):
    gss_code: Annotated[str, Field(min_length=1, max_length=20, examples=["E06000064"])]
    effective_from: IsoDate


class FinancialContextIn(Strict):
    assessed_on: IsoDate
    demand_pressure: Pressure
    financial_pressure: Pressure
    note: Text = ""


Level = Annotated[int, Field(ge=1, le=5, strict=True)]


class MaturityLevels(Strict):
    """Level 1-5 on each of the talk's five meanings of digital."""

    working_in_the_open: Level
    agile_methods: Level
    collaborative_tools: Level
    user_centred_design: Level
    new_technology: Level


class MaturityIn(Strict):
    model_config = _example(
        assessed_on="2026-03-01",
        levels={
            "working_in_the_open": 2,
            "agile_methods": 3,
            "collaborative_tools": 4,
            "user_centred_design": 2,
            "new_technology": 3,
        },
    )
    assessed_on: IsoDate
    levels: MaturityLevels
    note: Text = ""


class DeclarationIn(Strict):
    signed_on: IsoDate


class SuccessionIn(Strict):
    successor_codes: Annotated[list[CouncilCode], Field(min_length=1, max_length=20)]
    effective_from: IsoDate


class FieldError(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """An error, as RFC 9457 problem details."""

    model_config = ConfigDict(extra="allow")
    type: str = Field(examples=["/problems/invalid"])
    title: str
    status: int
    detail: str
    field: str | None = Field(default=None, description="The field at fault, when one is.")
    errors: list[FieldError] | None = None


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "model": Problem,
        "content": {"application/problem+json": {}},
    }


#: Every route may answer with these; documented so clients (and schema checks) expect them.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _problem("Malformed request"),
    401: _problem("Sign in needed"),
    403: _problem("Not allowed"),
    404: _problem("Not found"),
    409: _problem("Refused by the record's rules"),
    412: _problem("The record changed since the version in If-Match"),
    413: _problem("Request body too large"),
    422: _problem("Invalid request: names the field at fault"),
    429: _problem("Too many attempts"),
    503: _problem("Database unavailable"),
}
