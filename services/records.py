"""The decision record: one eventsourcing application for every aggregate.

One application means one event log, so read models see programmes,
cohorts, councils and projects in the order they were recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypeVar
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Recording, Transcoding

from domain.cohort import Cohort
from domain.council import Council
from domain.errors import Conflict, NotFound, StaleVersion
from domain.programme import Programme
from domain.project import Project

A = TypeVar("A", bound=Aggregate)

#: How often a command is re-applied when another writer got in first.
MAX_ATTEMPTS = 20


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


@dataclass(frozen=True)
class Written:
    """What a command changed: the aggregate, its new version and the log position."""

    id: UUID
    version: int
    position: int


class DecisionRecords(Application[UUID]):
    name = "waymark"

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        super().__init__(env)
        self.listeners: list[Callable[[int], None]] = []

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    def _notify(self, recordings: list[Recording[UUID]]) -> None:
        if recordings:
            position = recordings[-1].notification.id
            for listener in self.listeners:
                listener(position)

    @staticmethod
    def now() -> datetime:
        return datetime.now(UTC)

    # -- loading --------------------------------------------------------------

    def _load(self, cls: type[A], aggregate_id: UUID, what: str, key: object) -> A:
        try:
            aggregate: Aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise NotFound(what, key) from None
        if not isinstance(aggregate, cls):
            raise NotFound(what, key)
        return aggregate

    def get_programme(self, programme_id: UUID) -> Programme:
        return self._load(Programme, programme_id, "programme", programme_id)

    def get_cohort(self, cohort_id: UUID) -> Cohort:
        return self._load(Cohort, cohort_id, "cohort", cohort_id)

    def get_council(self, code: str) -> Council:
        code = Council.check_code(code)
        return self._load(Council, Council.create_id(code), "council", code)

    def get_project(self, project_id: UUID) -> Project:
        return self._load(Project, project_id, "project", project_id)

    # -- saving ---------------------------------------------------------------

    def _save(self, *aggregates: Aggregate) -> int:
        recordings = self.save(*aggregates)
        return recordings[-1].notification.id if recordings else 0

    def _create(self, aggregate: Aggregate, what: str, key: object) -> Written:
        try:
            position = self._save(aggregate)
        except IntegrityError:
            raise Conflict(f"{what} {key} already exists") from None
        return Written(aggregate.id, aggregate.version, position)

    def _change(
        self,
        load: Callable[[], A],
        change: Callable[[A], list[Aggregate] | None],
        expected_version: int | None,
    ) -> Written:
        """Load, check the expected version, apply, save; retry if another writer won.

        With ``expected_version`` (from ``If-Match``) a lost race is the caller's
        to resolve, so it is refused with ``StaleVersion`` instead of retried.
        """
        for _ in range(MAX_ATTEMPTS):
            aggregate = load()
            if expected_version is not None and aggregate.version != expected_version:
                raise StaleVersion(expected_version, aggregate.version)
            others = change(aggregate) or []
            try:
                position = self._save(aggregate, *others)
            except IntegrityError:
                if expected_version is not None:
                    raise StaleVersion(expected_version, aggregate.version + 1) from None
                continue
            return Written(aggregate.id, aggregate.version, position)
        raise Conflict("too many concurrent changes to the same record; try again")

    # -- commands -------------------------------------------------------------

    def launch_programme(
        self, *, name: str, description: str | None, sponsor_body: str | None, actor: str
    ) -> Written:
        programme = Programme.launch(
            programme_id=uuid4(),
            name=name,
            description=description,
            sponsor_body=sponsor_body,
            actor=actor,
            now=self.now(),
        )
        return self._create(programme, "programme", programme.id)

    def form_cohort(
        self, *, programme_id: UUID, name: str, starts_on: date, ends_on: date, actor: str
    ) -> Written:
        self.get_programme(programme_id)
        cohort = Cohort.form(
            cohort_id=uuid4(),
            programme_id=programme_id,
            name=name,
            starts_on=starts_on,
            ends_on=ends_on,
            actor=actor,
            now=self.now(),
        )
        return self._create(cohort, "cohort", cohort.id)

    def register_council(
        self,
        *,
        code: str,
        name: str,
        council_type: str,
        region: str,
        population: int | None,
        gss_code: str | None,
        political_control: str | None,
        actor: str,
    ) -> Written:
        council = Council.register(
            code=code,
            name=name,
            council_type=council_type,
            region=region,
            population=population,
            gss_code=gss_code,
            political_control=political_control,
            actor=actor,
            now=self.now(),
        )
        return self._create(council, "council", council.code)

    def enrol_council(
        self, *, cohort_id: UUID, council_code: str, title: str, actor: str
    ) -> Written:
        council = self.get_council(council_code)
        project_holder: list[Project] = []

        def enrol(cohort: Cohort) -> list[Aggregate]:
            now = self.now()
            project = Project.start(
                cohort_id=cohort.id,
                council_code=council.code,
                title=title,
                actor=actor,
                now=now,
            )
            cohort.enrol(council_code=council.code, project_id=project.id, actor=actor, now=now)
            project_holder[:] = [project]
            return [project]

        written = self._change(lambda: self.get_cohort(cohort_id), enrol, None)
        project = project_holder[0]
        return Written(project.id, project.version, written.position)

    def record_entry(
        self,
        *,
        project_id: UUID,
        kind: str,
        decided_on: date | None,
        values: Mapping[str, Any],
        actor: str,
        expected_version: int | None = None,
        entry_id: UUID | None = None,
    ) -> Written:
        new_entry_id = entry_id or uuid4()

        def record(project: Project) -> None:
            cohort = self.get_cohort(project.cohort_id)
            if cohort.closed:
                raise Conflict("the cohort is closed: nothing more is recorded in it")
            project.record(
                kind=kind,
                entry_id=new_entry_id,
                decided_on=decided_on,
                actor=actor,
                now=self.now(),
                values=values,
            )

        written = self._change(lambda: self.get_project(project_id), record, expected_version)
        return Written(new_entry_id, written.version, written.position)
