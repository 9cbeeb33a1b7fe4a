"""Request bodies: the shapes clients send, checked at the edge.

The domain checks every rule again; these models give clients precise
errors early and document each shape, with an example, in OpenAPI. An entry's
body is made from its kind's declaration in the catalogue
(domain/entry_kinds.py): each field's rule gives its type and limits.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal, Union
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    create_model,
)
from pydantic_core import core_schema

from domain import fields
from domain.entry_kinds import DECIDED_ON, EARLIER_DECISION, LINKS, PUBLIC, EntryKind
from domain.project import ENTRY_KINDS
from domain.vocabulary import (
    AttendeeRole,
    CouncilType,
    Pressure,
    Region,
    Segment,
    SessionKind,
)

Money = Annotated[
    str,
    Field(
        pattern=rf"^\d{{1,{fields.Money.WHOLE_DIGITS}}}(\.\d{{1,{fields.Money.PLACES}}})?$",
        description="Pounds sterling as a decimal string, at most two decimal places.",
        examples=["48000.00"],
    ),
]
Quantity = Annotated[
    str,
    Field(
        pattern=rf"^\s*-?\d{{1,{fields.Quantity.WHOLE_DIGITS}}}(\.\d{{1,{fields.Quantity.PLACES}}})?\s*$",
        description="A decimal string, negative allowed, at most six decimal places.",
        examples=["1200"],
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


def _within_utc_range(value: dt.datetime) -> dt.datetime:
    """An instant must stay between years 1 and 9999 in UTC, where the record keeps time."""
    if value.tzinfo is not None:
        try:
            value.astimezone(dt.UTC)
        except OverflowError:
            raise ValueError("must be an instant between years 1 and 9999 in UTC") from None
    return value


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date_only)]
IsoInstant = Annotated[
    dt.datetime, BeforeValidator(_iso_instant_only), AfterValidator(_within_utc_range)
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _example(**values: Any) -> ConfigDict:
    return ConfigDict(extra="forbid", json_schema_extra={"examples": [values]})


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


class LinkIn(BaseModel):
    """A link to evidence. What is missing or more than these is the record's to refuse
    (domain/fields.py), naming the link at fault: ``links[0].url``."""

    model_config = ConfigDict(extra="allow")
    title: str | None = None
    url: str | None = None


class AttendanceIn(Strict):
    council_code: CouncilCode
    role: AttendeeRole
    people: Annotated[int, Field(ge=1, le=10_000, strict=True)]


class SessionIn(Strict):
    """A session of a cohort, and who came to it from each council, by role."""

    model_config = _example(
        session_kind="member_masterclass",
        held_on="2026-03-12",
        topic="Digital leadership for cabinet members",
        run_by="LGA",
        attendance=[
            {"council_code": "GB-LAE-EXE", "role": "leader", "people": 1},
            {"council_code": "GB-LAE-EXE", "role": "cabinet_member", "people": 3},
        ],
        notes="",
        links=[{"title": "Slides", "url": "https://example.org/slides"}],
    )

    session_kind: SessionKind
    held_on: IsoDate
    topic: Annotated[str, Field(min_length=1, max_length=300)]
    run_by: Annotated[str, Field(min_length=1, max_length=300)]
    attendance: Annotated[list[AttendanceIn], Field(max_length=500)] = []
    notes: Text = ""
    #: As an entry's: the record checks each link, naming it (``links[0].url``); a link
    #: without a title is titled by its address.
    links: Annotated[list[LinkIn], Field(max_length=20)] = []


# -- entries: one request model per kind, made from the catalogue (domain/entry_kinds.py) --


def _field(spec: fields.Field) -> tuple[Any, Any]:
    """The pydantic type of a catalogue field, and its default (``...`` when required)."""
    optional = not spec.required
    if isinstance(spec, fields.Text):
        return Annotated[str, Field(max_length=spec.max_length)], ("" if optional else ...)
    if isinstance(spec, fields.Names):
        item = Annotated[str, Field(max_length=spec.max_item_length)]
        names = Annotated[list[item], Field(max_length=spec.max_items)]  # type: ignore[valid-type]
        return names, ([] if optional else ...)
    if isinstance(spec, fields.Replacement):
        return dict[str, Any], ...
    if isinstance(spec, fields.Links):
        # The address's scheme is the record's rule (domain/fields.py), which names the
        # link at fault: links[0].url.
        links = Annotated[list[LinkIn], Field(max_length=spec.max_items)]
        return links, ([] if optional else ...)
    if isinstance(spec, fields.Flag):
        return Annotated[bool, Field(strict=True)], (False if optional else ...)
    base: Any
    if isinstance(spec, fields.Choice):
        base = spec.choices
    elif isinstance(spec, fields.Money):
        base = Money
    elif isinstance(spec, fields.Quantity):
        base = Quantity
    elif isinstance(spec, fields.Reference):
        base = UUID
    elif isinstance(spec, fields.Day):
        base = IsoDate
    elif isinstance(spec, fields.Integer):
        base = Annotated[int, Field(ge=spec.minimum, le=spec.maximum, strict=True)]
    else:
        raise TypeError(f"no request type for {type(spec).__name__}: add one in web/schemas.py")
    return (base | None, None) if optional else (base, ...)


def _model_field(spec: fields.Field) -> tuple[Any, Any]:
    annotation, default = _field(spec)
    if spec.description:
        return annotation, Field(default, description=spec.description)
    return annotation, default


def _entry_model(spec: EntryKind) -> type[BaseModel]:
    model: type[BaseModel] = create_model(  # type: ignore[call-overload]
        spec.model_name,
        __config__=_example(kind=spec.kind, **spec.example()),
        __module__=__name__,
        decided_on=_model_field(DECIDED_ON),  # the same for every kind; only its words differ
        kind=(Literal[spec.kind], ...),
        **{name: _model_field(field_spec) for name, field_spec in spec.fields.items()},
        earlier_decision_confirmed=_model_field(EARLIER_DECISION),  # every kind's
        links=_model_field(LINKS),
        public=_model_field(PUBLIC),
    )
    return model


#: Request models made so far, by kind, with the declaration each was made from.
_MODELS: dict[str, tuple[EntryKind, type[BaseModel]]] = {}


def entry_model(kind: str) -> type[BaseModel]:
    """The request model of one registered kind of entry."""
    spec = ENTRY_KINDS[kind].SPEC
    made = _MODELS.get(kind)
    if made is None or (made[0] is not spec and made[0] != spec):
        made = _MODELS[kind] = (spec, _entry_model(spec))
    return made[1]


def entry_models() -> dict[str, type[BaseModel]]:
    """Every registered kind's request model, in the catalogue's order."""
    return {kind: entry_model(kind) for kind in ENTRY_KINDS}


#: The registered kinds' event classes, and the union of their models made for them.
_UNION: list[Any] = [(), None]


def _entry_union() -> TypeAdapter[Any]:
    """The models as one union told apart by ``kind``, made again when kinds change."""
    registered = tuple(ENTRY_KINDS.values())
    if _UNION[0] != registered:
        models = tuple(entry_models().values())
        union = Annotated[Union[models], Field(discriminator="kind")]  # noqa: UP007
        _UNION[:] = [registered, TypeAdapter(union)]
    adapter: TypeAdapter[Any] = _UNION[1]
    return adapter


class EntryIn:
    """An entry's body: the request model of the kind its ``kind`` names.

    Checked against the kinds registered when the request comes, and documented
    (OpenAPI) as the kinds registered when the schema is made, so that a kind
    registered after this module loaded (docs/DOMAIN.md) is taken too.
    """

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            lambda value: _entry_union().validate_python(value)
        )

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: Any, handler: Any) -> Any:
        return handler(_entry_union().core_schema)


#: The union's tags (every registered ``kind``), which error locations name first.
ENTRY_TAGS = ENTRY_KINDS.keys()
#: The correction's model, which the correction page fills in itself.
EntryCorrected = entry_model("entry_corrected")


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


class PublishingIn(Strict):
    allowed: Annotated[bool, Field(strict=True)]

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"allowed": True}]})


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


def problem_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "model": Problem,
        "content": {"application/problem+json": {}},
    }


#: Every route may answer with these; documented so clients (and schema checks) expect them.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: problem_response("Malformed request"),
    401: problem_response("Sign in needed"),
    403: problem_response("Not allowed"),
    404: problem_response("Not found"),
    409: problem_response("Refused by the record's rules"),
    412: problem_response("The record changed since the version in If-Match"),
    413: problem_response("Request body too large"),
    422: problem_response("Invalid request: names the field at fault"),
    429: problem_response("Too many attempts"),
    503: problem_response(
        "Unavailable for now (the database, or too many reads waiting): see Retry-After"
    ),
}
