"""A cohort: councils that go through a programme together."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.errors import Conflict, InvalidValue
from domain.fields import Text


class Cohort(Aggregate):
    class Formed(Aggregate.Created):
        programme_id: UUID
        name: str
        starts_on: date
        ends_on: date
        actor: str

    class CouncilEnrolled(Aggregate.Event):
        council_code: str
        project_id: UUID
        actor: str

        def apply(self, aggregate: Cohort) -> None:
            aggregate.projects[self.council_code] = self.project_id

    class CouncilWithdrew(Aggregate.Event):
        council_code: str
        reason: str
        actor: str

        def apply(self, aggregate: Cohort) -> None:
            aggregate.withdrawn.add(self.council_code)

    class Closed(Aggregate.Event):
        actor: str

        def apply(self, aggregate: Cohort) -> None:
            aggregate.closed = True

    def __init__(
        self, programme_id: UUID, name: str, starts_on: date, ends_on: date, actor: str
    ) -> None:
        self.programme_id = programme_id
        self.name = name
        self.starts_on = starts_on
        self.ends_on = ends_on
        self.formed_by = actor
        self.projects: dict[str, UUID] = {}
        self.withdrawn: set[str] = set()
        self.closed = False

    @classmethod
    def form(
        cls,
        *,
        cohort_id: UUID,
        programme_id: UUID,
        name: str,
        starts_on: date,
        ends_on: date,
        actor: str,
        now: datetime,
    ) -> Cohort:
        if ends_on < starts_on:
            raise InvalidValue("ends_on", "must not be before starts_on")
        return cls._create(
            cls.Formed,
            id=cohort_id,
            timestamp=now,
            programme_id=programme_id,
            name=Text(max_length=300).clean("name", name),
            starts_on=starts_on,
            ends_on=ends_on,
            actor=actor,
        )

    def enrol(self, *, council_code: str, project_id: UUID, actor: str, now: datetime) -> None:
        self._refuse_if_closed()
        if council_code in self.projects:
            raise Conflict(f"council {council_code} is already enrolled in this cohort")
        self.trigger_event(
            self.CouncilEnrolled,
            timestamp=now,
            council_code=council_code,
            project_id=project_id,
            actor=actor,
        )

    def withdraw(self, *, council_code: str, reason: str, actor: str, now: datetime) -> None:
        self._refuse_if_closed()
        if council_code not in self.projects:
            raise InvalidValue("council_code", f"council {council_code} is not in this cohort")
        if council_code in self.withdrawn:
            raise Conflict(f"council {council_code} has already withdrawn")
        reason = Text().clean("reason", reason)
        self.trigger_event(
            self.CouncilWithdrew,
            timestamp=now,
            council_code=council_code,
            reason=reason,
            actor=actor,
        )

    def close(self, *, actor: str, now: datetime) -> None:
        self._refuse_if_closed()
        self.trigger_event(self.Closed, timestamp=now, actor=actor)

    def _refuse_if_closed(self) -> None:
        if self.closed:
            raise Conflict("the cohort is closed: nothing more is recorded in it")
