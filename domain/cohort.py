"""A cohort: councils that go through a programme together."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.council import Council
from domain.errors import Conflict, InvalidValue
from domain.fields import Choice, Day, Integer, Text, WebAddress
from domain.vocabulary import AttendeeRole, SessionKind

#: Limits of one session's record.
MAX_ATTENDANCE = 500
MAX_LINKS = 20
MAX_PEOPLE = 10_000
SESSION_TEXT = Text(max_length=300)


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
            aggregate.led[self.project_id] = self.council_code

    class ProjectStarted(Aggregate.Event):
        """An enrolled council started another project in the cohort, which it leads."""

        council_code: str
        project_id: UUID
        actor: str

        def apply(self, aggregate: Cohort) -> None:
            aggregate.led[self.project_id] = self.council_code

    class CouncilWithdrew(Aggregate.Event):
        council_code: str
        reason: str
        actor: str

        def apply(self, aggregate: Cohort) -> None:
            aggregate.withdrawn.add(self.council_code)

    class DetailsChanged(Aggregate.Event):
        """The cohort's name or dates were changed (the record keeps what they were)."""

        name: str
        starts_on: date
        ends_on: date
        actor: str

        def apply(self, aggregate: Cohort) -> None:
            aggregate.name = self.name
            aggregate.starts_on = self.starts_on
            aggregate.ends_on = self.ends_on

    class SessionHeld(Aggregate.Event):
        """A session of the cohort (a masterclass, a discussion, ...) and who came to it.

        ``attendance`` is a list of ``{council_code, role, people}``; ``links`` a list
        of ``{title, url}``.
        """

        session_id: UUID
        session_kind: str
        held_on: date
        topic: str
        run_by: str
        attendance: list[dict[str, Any]]
        notes: str
        links: list[dict[str, str]]
        actor: str

        def apply(self, aggregate: Cohort) -> None:
            aggregate.sessions[self.session_id] = self.held_on

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
        #: Each enrolled council and the project it was enrolled with.
        self.projects: dict[str, UUID] = {}
        #: Every project of the cohort and the council leading it (the projects councils
        #: were enrolled with, and those they started later).
        self.led: dict[UUID, str] = {}
        self.withdrawn: set[str] = set()
        self.closed = False
        #: Each session's id and the day it was held.
        self.sessions: dict[UUID, date] = {}

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

    def start_project(
        self, *, council_code: str, project_id: UUID, actor: str, now: datetime
    ) -> None:
        """An enrolled council starts another project, which it leads."""
        self._refuse_if_closed()
        if council_code not in self.projects:
            raise InvalidValue(
                "council_code", f"council {council_code} is not enrolled in this cohort"
            )
        if council_code in self.withdrawn:
            raise Conflict(f"council {council_code} has withdrawn from this cohort")
        if project_id in self.led:
            raise Conflict(f"project {project_id} is already in this cohort")
        self.trigger_event(
            self.ProjectStarted,
            timestamp=now,
            council_code=council_code,
            project_id=project_id,
            actor=actor,
        )

    def projects_led_by(self, council_code: str) -> list[UUID]:
        """The projects in this cohort the council leads, the one it enrolled with first."""
        return [p for p, code in self.led.items() if code == council_code]

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

    def change_details(
        self, *, name: str, starts_on: date, ends_on: date, actor: str, now: datetime
    ) -> None:
        """New name and dates; nothing is recorded if they are the same as now."""
        self._refuse_if_closed()
        if ends_on < starts_on:
            raise InvalidValue("ends_on", "must not be before starts_on")
        name = Text(max_length=300).clean("name", name)
        if (name, starts_on, ends_on) == (self.name, self.starts_on, self.ends_on):
            return
        self.trigger_event(
            self.DetailsChanged,
            timestamp=now,
            name=name,
            starts_on=starts_on,
            ends_on=ends_on,
            actor=actor,
        )

    def hold_session(
        self,
        *,
        session_id: UUID,
        session_kind: Any,
        held_on: Any,
        topic: Any,
        run_by: Any,
        attendance: Any,
        notes: Any,
        links: Any,
        actor: str,
        now: datetime,
    ) -> None:
        """Record a session: its councils in attendance must be enrolled in the cohort."""
        self._refuse_if_closed()
        if session_id in self.sessions:
            raise Conflict(f"session {session_id} is already recorded")
        self.trigger_event(
            self.SessionHeld,
            timestamp=now,
            session_id=session_id,
            session_kind=Choice(choices=SessionKind).clean("session_kind", session_kind),
            held_on=Day().clean("held_on", held_on),
            topic=SESSION_TEXT.clean("topic", topic),
            run_by=SESSION_TEXT.clean("run_by", run_by),
            attendance=self._check_attendance(attendance),
            notes=Text(required=False).clean("notes", notes),
            links=check_links(links),
            actor=actor,
        )

    def _check_attendance(self, attendance: Any) -> list[dict[str, Any]]:
        if attendance is None:
            return []
        if not isinstance(attendance, (list, tuple)):
            raise InvalidValue("attendance", "must be a list of {council_code, role, people}")
        if len(attendance) > MAX_ATTENDANCE:
            raise InvalidValue("attendance", f"must have at most {MAX_ATTENDANCE} items")
        found: list[dict[str, Any]] = []
        seen: set[tuple[str, str]] = set()
        for i, item in enumerate(attendance):
            where = f"attendance.{i}"
            if not isinstance(item, Mapping):
                raise InvalidValue(where, "must be {council_code, role, people}")
            unknown = sorted(set(item) - {"council_code", "role", "people"})
            if unknown:
                raise InvalidValue(f"{where}.{unknown[0]}", "is not a field of attendance")
            try:
                code = Council.check_code(item.get("council_code"))  # type: ignore[arg-type]
            except InvalidValue as error:
                raise InvalidValue(f"{where}.council_code", error.message) from None
            if code not in self.projects:
                raise InvalidValue(
                    f"{where}.council_code", f"council {code} is not enrolled in this cohort"
                )
            role = Choice(choices=AttendeeRole).clean(f"{where}.role", item.get("role"))
            people = Integer(minimum=1, maximum=MAX_PEOPLE).clean(
                f"{where}.people", item.get("people")
            )
            if (code, role) in seen:
                raise InvalidValue(f"{where}.role", f"{code} already has a count for {role}")
            seen.add((code, role))
            found.append({"council_code": code, "role": role, "people": people})
        return found

    def close(self, *, actor: str, now: datetime) -> None:
        self._refuse_if_closed()
        self.trigger_event(self.Closed, timestamp=now, actor=actor)

    def _refuse_if_closed(self) -> None:
        if self.closed:
            raise Conflict("the cohort is closed: nothing more is recorded in it")


def check_links(links: Any, field: str = "links") -> list[dict[str, str]]:
    """Links as ``[{title, url}]``: web addresses (http or https) only, a missing title
    the address; a refusal names the link as an entry's do (``links[0].url``)."""
    if links is None:
        return []
    if not isinstance(links, (list, tuple)):
        raise InvalidValue(field, "must be a list of {title, url}")
    if len(links) > MAX_LINKS:
        raise InvalidValue(field, f"must have at most {MAX_LINKS} items")
    found = []
    for i, link in enumerate(links):
        where = f"{field}[{i}]"
        if not isinstance(link, Mapping):
            raise InvalidValue(where, "must be {title, url}")
        unknown = sorted(set(link) - {"title", "url"})
        if unknown:
            raise InvalidValue(f"{where}.{unknown[0]}", "is not a field of a link")
        url = WebAddress().clean(f"{where}.url", link.get("url"))
        title = SESSION_TEXT.clean(f"{where}.title", link.get("title") or url)
        found.append({"title": title, "url": url})
    return found
