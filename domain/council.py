"""A council: a local authority, identified by a stable code of the programme's choosing."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.errors import Conflict, InvalidValue
from domain.fields import Choice, Day, Field, Integer, Names, Text, clean_fields
from domain.vocabulary import CouncilType, DigitalMeaning, Pressure, Region

#: What a profile update may change; the GSS code changes with a date of effect.
PROFILE_FIELDS: dict[str, Field] = {
    "name": Text(max_length=300),
    "council_type": Choice(choices=CouncilType),
    "region": Choice(choices=Region),
    "population": Integer(required=False, minimum=0, maximum=100_000_000),
    "political_control": Text(required=False, max_length=200),
    "suppliers": Names(required=False),
    "tried_before": Names(required=False),
    "innovation_history": Text(required=False),
}


@dataclass(frozen=True)
class FinancialContext:
    assessed_on: date
    demand_pressure: str
    financial_pressure: str
    note: str


@dataclass(frozen=True)
class Maturity:
    assessed_on: date
    levels: dict[str, int]
    note: str


@dataclass(frozen=True)
class GssCode:
    code: str
    effective_from: date | None


COUNCIL_NAMESPACE = uuid5(NAMESPACE_URL, "https://waymark.example/councils")
CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class Council(Aggregate):
    class Registered(Aggregate.Created):
        code: str
        name: str
        council_type: str
        region: str
        population: int | None
        gss_code: str
        political_control: str
        actor: str

    class ProfileUpdated(Aggregate.Event):
        changes: dict[str, Any]
        actor: str

        def apply(self, aggregate: Council) -> None:
            for name, value in self.changes.items():
                setattr(aggregate, name, value)

    class GssCodeChanged(Aggregate.Event):
        gss_code: str
        effective_from: date
        actor: str

        def apply(self, aggregate: Council) -> None:
            aggregate.gss_codes.append(GssCode(self.gss_code, self.effective_from))
            aggregate.gss_code = self.gss_code

    class FinancialContextAssessed(Aggregate.Event):
        assessed_on: date
        demand_pressure: str
        financial_pressure: str
        note: str
        actor: str

        def apply(self, aggregate: Council) -> None:
            aggregate.financial_contexts.append(
                FinancialContext(
                    self.assessed_on, self.demand_pressure, self.financial_pressure, self.note
                )
            )

    class MaturityAssessed(Aggregate.Event):
        assessed_on: date
        levels: dict[str, int]
        note: str
        actor: str

        def apply(self, aggregate: Council) -> None:
            aggregate.maturity.append(Maturity(self.assessed_on, dict(self.levels), self.note))

    class DeclarationSigned(Aggregate.Event):
        signed_on: date
        actor: str

        def apply(self, aggregate: Council) -> None:
            aggregate.declaration_signed_on = self.signed_on

    class SucceededBy(Aggregate.Event):
        """Reorganisation: the council's work continues in its successors."""

        successor_codes: list[str]
        effective_from: date
        actor: str

        def apply(self, aggregate: Council) -> None:
            aggregate.successor_codes = list(self.successor_codes)
            aggregate.succeeded_on = self.effective_from

    def __init__(
        self,
        code: str,
        name: str,
        council_type: str,
        region: str,
        population: int | None,
        gss_code: str,
        political_control: str,
        actor: str,
    ) -> None:
        self.code = code
        self.name = name
        self.council_type = council_type
        self.region = region
        self.population = population
        self.gss_code = gss_code
        self.political_control = political_control
        self.registered_by = actor
        self.suppliers: list[str] = []
        self.tried_before: list[str] = []
        self.innovation_history = ""
        self.gss_codes: list[GssCode] = [GssCode(gss_code, None)] if gss_code else []
        self.financial_contexts: list[FinancialContext] = []
        self.maturity: list[Maturity] = []
        self.declaration_signed_on: date | None = None
        self.successor_codes: list[str] = []
        self.succeeded_on: date | None = None

    @staticmethod
    def create_id(code: str) -> UUID:
        return uuid5(COUNCIL_NAMESPACE, code.upper())

    @staticmethod
    def check_code(code: str) -> str:
        if not isinstance(code, str) or not CODE_PATTERN.match(code.strip()):
            raise InvalidValue("code", "must be 1-64 letters, digits, dots, dashes or underscores")
        return code.strip().upper()

    @classmethod
    def register(
        cls,
        *,
        code: str,
        name: str,
        council_type: str,
        region: str,
        population: int | None,
        gss_code: str | None,
        political_control: str | None,
        actor: str,
        now: datetime,
    ) -> Council:
        code = cls.check_code(code)
        return cls._create(
            cls.Registered,
            id=cls.create_id(code),
            timestamp=now,
            code=code,
            name=Text(max_length=300).clean("name", name),
            council_type=Choice(choices=CouncilType).clean("council_type", council_type),
            region=Choice(choices=Region).clean("region", region),
            population=Integer(required=False, minimum=0, maximum=100_000_000).clean(
                "population", population
            ),
            gss_code=Text(required=False, max_length=20).clean("gss_code", gss_code),
            political_control=Text(required=False, max_length=200).clean(
                "political_control", political_control
            ),
            actor=actor,
        )

    # -- commands -------------------------------------------------------------

    def update_profile(self, *, changes: Mapping[str, Any], actor: str, now: datetime) -> None:
        cleaned = clean_fields(PROFILE_FIELDS, changes, partial=True)
        changed = {k: v for k, v in cleaned.items() if getattr(self, k) != v}
        if changed:
            self.trigger_event(self.ProfileUpdated, timestamp=now, changes=changed, actor=actor)

    def change_gss_code(
        self, *, gss_code: str, effective_from: date, actor: str, now: datetime
    ) -> None:
        code = Text(max_length=20).clean("gss_code", gss_code)
        self._check_day("effective_from", effective_from, now)
        if code == self.gss_code:
            raise Conflict(f"the GSS code is already {code}")
        self.trigger_event(
            self.GssCodeChanged,
            timestamp=now,
            gss_code=code,
            effective_from=effective_from,
            actor=actor,
        )

    def assess_financial_context(
        self,
        *,
        assessed_on: date,
        demand_pressure: str,
        financial_pressure: str,
        note: str | None,
        actor: str,
        now: datetime,
    ) -> None:
        self._check_day("assessed_on", assessed_on, now)
        self.trigger_event(
            self.FinancialContextAssessed,
            timestamp=now,
            assessed_on=assessed_on,
            demand_pressure=Choice(choices=Pressure).clean("demand_pressure", demand_pressure),
            financial_pressure=Choice(choices=Pressure).clean(
                "financial_pressure", financial_pressure
            ),
            note=Text(required=False).clean("note", note),
            actor=actor,
        )

    def assess_maturity(
        self,
        *,
        assessed_on: date,
        levels: Mapping[str, int],
        note: str | None,
        actor: str,
        now: datetime,
    ) -> None:
        self._check_day("assessed_on", assessed_on, now)
        spec = {m.value: Integer(minimum=1, maximum=5) for m in DigitalMeaning}
        try:
            checked = clean_fields(spec, dict(levels))
        except InvalidValue as error:
            raise InvalidValue(f"levels.{error.field}", error.message) from None
        self.trigger_event(
            self.MaturityAssessed,
            timestamp=now,
            assessed_on=assessed_on,
            levels=checked,
            note=Text(required=False).clean("note", note),
            actor=actor,
        )

    def sign_declaration(self, *, signed_on: date, actor: str, now: datetime) -> None:
        self._check_day("signed_on", signed_on, now)
        if self.declaration_signed_on is not None:
            raise Conflict(f"the declaration was signed on {self.declaration_signed_on}")
        self.trigger_event(self.DeclarationSigned, timestamp=now, signed_on=signed_on, actor=actor)

    def be_succeeded_by(
        self, *, successor_codes: list[str], effective_from: date, actor: str, now: datetime
    ) -> None:
        if self.successor_codes:
            raise Conflict(f"already succeeded by {', '.join(self.successor_codes)}")
        codes = [self.check_code(c) for c in Names().clean("successor_codes", successor_codes)]
        if self.code in codes:
            raise InvalidValue("successor_codes", "a council cannot succeed itself")
        self.trigger_event(
            self.SucceededBy,
            timestamp=now,
            successor_codes=codes,
            effective_from=Day().clean("effective_from", effective_from),
            actor=actor,
        )

    @property
    def latest_financial_context(self) -> FinancialContext | None:
        return max(self.financial_contexts, key=lambda a: a.assessed_on, default=None)

    @property
    def latest_maturity(self) -> Maturity | None:
        return max(self.maturity, key=lambda a: a.assessed_on, default=None)

    @staticmethod
    def _check_day(field: str, day: date, now: datetime) -> None:
        if day > now.date():
            raise InvalidValue(field, f"must not be later than today ({now.date()})")
