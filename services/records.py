"""The decision record: one eventsourcing application for every aggregate.

One application means one event log, so read models see programmes,
cohorts, councils and projects in the order they were recorded.
"""

from __future__ import annotations

import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypeVar
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import (
    IntegrityError,
    JSONTranscoder,
    Mapper,
    Recording,
    Transcoding,
)

from domain.cohort import Cohort
from domain.council import Council
from domain.errors import Conflict, InvalidValue, NotFound, StaleVersion
from domain.programme import Programme
from domain.project import Project
from domain.user import Grant, User
from projections.log import FastMapper

A = TypeVar("A", bound=Aggregate)

#: How often a command is re-applied when another writer got in first.
MAX_ATTEMPTS = 20
#: Projects kept in memory after a write, for the next write to them (about 300 KB each).
WRITTEN_KEPT = 64
IDEMPOTENCY_NAMESPACE = uuid5(NAMESPACE_URL, "https://waymark.example/idempotency")


def idempotent_id(scope: str, key: str | None) -> UUID | None:
    """The id a retried request with the same ``Idempotency-Key`` will find again."""
    if key is None:
        return None
    if not 1 <= len(key) <= 200:
        raise InvalidValue("Idempotency-Key", "must be 1-200 characters")
    return uuid5(IDEMPOTENCY_NAMESPACE, f"{scope}/{key}")


def _replay(aggregate: Any, events: Iterable[Any]) -> Any:
    """The library's ``project_aggregate`` without its per-event ``isinstance`` check
    against a runtime Protocol, which costs more than applying the event."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


@dataclass(frozen=True)
class Written:
    """What a command changed: the aggregate, its new version and the log position.

    ``replayed`` is true when an idempotent retry found the first result.
    """

    id: UUID
    version: int
    position: int
    replayed: bool = False


class DecisionRecords(Application[UUID]):
    name = "waymark"

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        super().__init__(env)
        #: Called after every save with what was written (each recording has the
        #: domain event and its notification, whose ``id`` is the log position).
        self.listeners: list[Callable[[Sequence[Recording[UUID]]], None]] = []
        self._stripes = [threading.Lock() for _ in range(64)]
        #: Projects as last saved by this process, for the next write to each (see _change).
        self._written: OrderedDict[UUID, Project] = OrderedDict()
        self._written_lock = threading.Lock()

    def construct_mapper(self) -> Mapper[UUID]:
        """The library's mapper with a faster decoder: the same events, read about 3x faster."""
        mapper = super().construct_mapper()
        if type(mapper) is not Mapper:
            return mapper
        return FastMapper(mapper.transcoder, mapper.compressor, mapper.cipher)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    def _notify(self, recordings: list[Recording[UUID]]) -> None:
        if recordings:
            for listener in self.listeners:
                listener(recordings)

    @staticmethod
    def now() -> datetime:
        return datetime.now(UTC)

    # -- loading --------------------------------------------------------------

    def _load(
        self, cls: type[A], aggregate_id: UUID, what: str, key: object, version: int | None = None
    ) -> A:
        """The aggregate now, or at ``version``; NotFound unless it is a ``cls``."""
        try:
            aggregate: Aggregate = self.repository.get(
                aggregate_id, version=version, projector_func=_replay
            )
        except AggregateNotFoundError:
            raise NotFound(what, key) from None
        if not isinstance(aggregate, cls):
            raise NotFound(what, key)
        return aggregate

    def get_programme(self, programme_id: UUID) -> Programme:
        return self._load(Programme, programme_id, "programme", programme_id)

    def get_cohort(self, cohort_id: UUID) -> Cohort:
        return self._load(Cohort, cohort_id, "cohort", cohort_id)

    def cohort_closed(self, cohort_id: UUID) -> bool:
        """Whether the cohort is closed, from its last event alone: closing is the last
        thing that happens to a cohort (``Cohort`` refuses every change once closed)."""
        last = next(iter(self.repository.event_store.get(cohort_id, desc=True, limit=1)), None)
        return isinstance(last, Cohort.Closed)

    def check_cohort(self, cohort_id: UUID) -> None:
        """Raise ``NotFound`` unless the cohort exists (its first event only, not a replay)."""
        first = next(iter(self.repository.event_store.get(cohort_id, limit=1)), None)
        if not isinstance(first, Cohort.Formed):
            raise NotFound("cohort", cohort_id)

    def get_council(self, code: str) -> Council:
        code = Council.check_code(code)
        return self._load(Council, Council.create_id(code), "council", code)

    def get_project(self, project_id: UUID, as_of: datetime | None = None) -> Project:
        """The project now, or exactly as the record stood at the instant ``as_of``."""
        if as_of is None:
            return self._load(Project, project_id, "project", project_id)
        # One pass: the events recorded by then, applied as they are read.
        project: Any = None
        events: Iterable[Any] = self.repository.event_store.get(project_id)
        for event in events:
            if getattr(event, "timestamp") > as_of:  # noqa: B009 - not on the protocol
                break
            project = event.mutate(project)
        if project is None:
            raise NotFound("project", f"{project_id} as of {as_of.isoformat()}")
        if not isinstance(project, Project):
            raise NotFound("project", project_id)
        return project

    def project_origin(self, project_id: UUID) -> tuple[UUID, str]:
        """The cohort and council a project was started for (never changed), read from
        its first event alone."""
        project = self._load(Project, project_id, "project", project_id, version=1)
        return project.cohort_id, project.council_code

    def exists(self, aggregate_id: UUID) -> bool:
        return aggregate_id in self.repository

    def position_of(self, aggregate_id: UUID, version: int) -> int:
        """The log position of one stored event (for replaying an idempotent result)."""
        datastore: Any = getattr(self.recorder, "datastore", None)
        if self.env.get("PERSISTENCE_MODULE", "").endswith("postgres"):
            table = f"{self.name.lower()}_events"
            sql = (
                f"SELECT notification_id AS position FROM {table}"  # noqa: S608 - fixed name
                " WHERE originator_id = %s AND originator_version = %s"
            )
            with datastore.transaction(commit=False) as cursor:
                cursor.execute(sql, (aggregate_id, version))
                row = cursor.fetchone()
                return int(row["position"]) if row else 0
        with datastore.transaction(commit=False) as cursor:
            cursor.execute(
                "SELECT rowid FROM stored_events"
                " WHERE originator_id = ? AND originator_version = ?",
                (aggregate_id.hex, version),
            )
            row = cursor.fetchone()
            return int(row[0]) if row else 0

    # -- saving ---------------------------------------------------------------

    def _save(self, *aggregates: Aggregate) -> int:
        recordings = self.save(*aggregates)
        return recordings[-1].notification.id if recordings else 0

    def _create(
        self, aggregate: Aggregate, what: str, key: object, *, idempotent: bool = False
    ) -> Written:
        """Save a new aggregate; an idempotent retry gets the first result back."""
        try:
            position = self._save(aggregate)
        except IntegrityError:
            if idempotent:
                return self._replay(aggregate.id, 1)
            raise Conflict(f"{what} {key} already exists") from None
        return Written(aggregate.id, aggregate.version, position)

    def _replay(self, aggregate_id: UUID, version: int) -> Written:
        return Written(aggregate_id, version, self.position_of(aggregate_id, version), True)

    def _change(
        self,
        aggregate_id: UUID,
        load: Callable[[], A],
        change: Callable[[A], list[Aggregate] | None],
        expected_version: int | None,
        *,
        keep: bool = False,
    ) -> Written:
        """Load, check the expected version, apply, save; retry if another writer won.

        Writers in this process take turns per aggregate, so retries are needed
        only against other processes. With ``expected_version`` (from
        ``If-Match``) a lost race is the caller's to resolve, so it is refused
        with ``StaleVersion`` instead of retried.

        With ``keep`` (projects), the aggregate as saved is kept for the next write
        to it, which then reads only the events recorded since (by any process)
        instead of replaying the whole project. A kept aggregate is taken out while
        it is changed and put back only once saved, so no reader ever sees it and
        a failed change never leaves a changed copy behind.
        """
        with self._stripes[aggregate_id.int % len(self._stripes)]:
            for attempt in range(MAX_ATTEMPTS):
                aggregate = self._take_kept(aggregate_id) if keep else None
                if aggregate is None:
                    aggregate = load()
                if expected_version is not None and aggregate.version != expected_version:
                    raise StaleVersion(expected_version, aggregate.version)
                others = change(aggregate) or []
                try:
                    position = self._save(aggregate, *others)
                except IntegrityError:
                    if expected_version is not None:
                        raise StaleVersion(expected_version, aggregate.version + 1) from None
                    time.sleep(random.uniform(0, 0.005 * (attempt + 1)))  # noqa: S311
                    continue
                if keep and isinstance(aggregate, Project):
                    self._keep(aggregate)
                return Written(aggregate.id, aggregate.version, position)
        raise Conflict("too many concurrent changes to the same record; try again")

    def _take_kept(self, aggregate_id: UUID) -> Any:
        """The kept aggregate, brought up to date with events recorded since; None if none."""
        with self._written_lock:
            kept = self._written.pop(aggregate_id, None)
        if kept is None:
            return None
        return _replay(kept, self.repository.event_store.get(aggregate_id, gt=kept.version))

    def _keep(self, project: Project) -> None:
        with self._written_lock:
            self._written[project.id] = project
            while len(self._written) > WRITTEN_KEPT:
                self._written.popitem(last=False)

    # -- commands -------------------------------------------------------------

    def launch_programme(
        self,
        *,
        name: str,
        description: str | None,
        sponsor_body: str | None,
        actor: str,
        idempotency_key: str | None = None,
    ) -> Written:
        programme = Programme.launch(
            programme_id=idempotent_id("programme", idempotency_key) or uuid4(),
            name=name,
            description=description,
            sponsor_body=sponsor_body,
            actor=actor,
            now=self.now(),
        )
        return self._create(
            programme, "programme", programme.id, idempotent=idempotency_key is not None
        )

    def form_cohort(
        self,
        *,
        programme_id: UUID,
        name: str,
        starts_on: date,
        ends_on: date,
        actor: str,
        idempotency_key: str | None = None,
    ) -> Written:
        self.get_programme(programme_id)
        cohort = Cohort.form(
            cohort_id=idempotent_id(f"cohort/{programme_id}", idempotency_key) or uuid4(),
            programme_id=programme_id,
            name=name,
            starts_on=starts_on,
            ends_on=ends_on,
            actor=actor,
            now=self.now(),
        )
        return self._create(cohort, "cohort", cohort.id, idempotent=idempotency_key is not None)

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
        idempotency_key: str | None = None,
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
        return self._create(
            council, "council", council.code, idempotent=idempotency_key is not None
        )

    def enrol_council(
        self,
        *,
        cohort_id: UUID,
        council_code: str,
        title: str,
        actor: str,
        idempotency_key: str | None = None,
    ) -> Written:
        council = self.get_council(council_code)
        project_id = Project.create_id(cohort_id, council.code)
        if idempotency_key is not None and self.exists(project_id):
            return self._replay(project_id, 1)
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

        written = self._change(cohort_id, lambda: self.get_cohort(cohort_id), enrol, None)
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
        idempotency_key: str | None = None,
    ) -> Written:
        new_entry_id = idempotent_id(f"entry/{project_id}", idempotency_key) or uuid4()
        if idempotency_key is not None:
            first = self.get_project(project_id).entries.get(new_entry_id)
            if first is not None:
                if first.kind != kind:
                    raise Conflict("this Idempotency-Key was used for a different request")
                return self._replay_entry(project_id, new_entry_id)

        def record(project: Project) -> None:
            if self.cohort_closed(project.cohort_id):
                raise Conflict("the cohort is closed: nothing more is recorded in it")
            project.record(
                kind=kind,
                entry_id=new_entry_id,
                decided_on=decided_on,
                actor=actor,
                now=self.now(),
                values=values,
            )

        written = self._change(
            project_id, lambda: self.get_project(project_id), record, expected_version, keep=True
        )
        return Written(new_entry_id, written.version, written.position)

    def _replay_entry(self, project_id: UUID, entry_id: UUID) -> Written:
        for event in self.repository.event_store.get(project_id):
            if getattr(event, "entry_id", None) == entry_id:
                replay = self._replay(project_id, event.originator_version)
                return Written(entry_id, replay.version, replay.position, True)
        raise NotFound("entry", entry_id)  # pragma: no cover - the caller saw it

    # -- programmes, cohorts and councils over time ------------------------------

    def configure_segments(
        self,
        *,
        programme_id: UUID,
        mapping: dict[str, str],
        actor: str,
        expected_version: int | None = None,
    ) -> Written:
        return self._change(
            programme_id,
            lambda: self.get_programme(programme_id),
            lambda p: p.configure_segments(mapping=mapping, actor=actor, now=self.now()),
            expected_version,
        )

    def withdraw_council(
        self, *, cohort_id: UUID, council_code: str, reason: str, actor: str
    ) -> Written:
        def withdraw(cohort: Cohort) -> list[Aggregate]:
            now = self.now()
            code = Council.check_code(council_code)
            cohort.withdraw(council_code=code, reason=reason, actor=actor, now=now)
            project = self.get_project(cohort.projects[code])
            project.withdraw(reason=reason, actor=actor, now=now)
            return [project]

        return self._change(cohort_id, lambda: self.get_cohort(cohort_id), withdraw, None)

    def close_cohort(
        self, *, cohort_id: UUID, actor: str, expected_version: int | None = None
    ) -> Written:
        return self._change(
            cohort_id,
            lambda: self.get_cohort(cohort_id),
            lambda c: c.close(actor=actor, now=self.now()),
            expected_version,
        )

    def _change_council(
        self, code: str, change: Callable[[Council], None], expected_version: int | None
    ) -> Written:
        council_id = Council.create_id(Council.check_code(code))
        return self._change(council_id, lambda: self.get_council(code), change, expected_version)

    def update_council_profile(
        self,
        *,
        code: str,
        changes: Mapping[str, Any],
        actor: str,
        expected_version: int | None = None,
    ) -> Written:
        return self._change_council(
            code,
            lambda c: c.update_profile(changes=changes, actor=actor, now=self.now()),
            expected_version,
        )

    def change_gss_code(
        self, *, code: str, gss_code: str, effective_from: date, actor: str
    ) -> Written:
        return self._change_council(
            code,
            lambda c: c.change_gss_code(
                gss_code=gss_code, effective_from=effective_from, actor=actor, now=self.now()
            ),
            None,
        )

    def assess_financial_context(
        self,
        *,
        code: str,
        assessed_on: date,
        demand_pressure: str,
        financial_pressure: str,
        note: str | None,
        actor: str,
    ) -> Written:
        return self._change_council(
            code,
            lambda c: c.assess_financial_context(
                assessed_on=assessed_on,
                demand_pressure=demand_pressure,
                financial_pressure=financial_pressure,
                note=note,
                actor=actor,
                now=self.now(),
            ),
            None,
        )

    def assess_maturity(
        self,
        *,
        code: str,
        assessed_on: date,
        levels: Mapping[str, int],
        note: str | None,
        actor: str,
    ) -> Written:
        return self._change_council(
            code,
            lambda c: c.assess_maturity(
                assessed_on=assessed_on, levels=levels, note=note, actor=actor, now=self.now()
            ),
            None,
        )

    def sign_declaration(self, *, code: str, signed_on: date, actor: str) -> Written:
        return self._change_council(
            code,
            lambda c: c.sign_declaration(signed_on=signed_on, actor=actor, now=self.now()),
            None,
        )

    def record_succession(
        self, *, code: str, successor_codes: list[str], effective_from: date, actor: str
    ) -> Written:
        for successor in successor_codes:
            try:
                self.get_council(successor)
            except NotFound:
                raise InvalidValue(
                    "successor_codes", f"council {successor} is not registered"
                ) from None
        return self._change_council(
            code,
            lambda c: c.be_succeeded_by(
                successor_codes=successor_codes,
                effective_from=effective_from,
                actor=actor,
                now=self.now(),
            ),
            None,
        )

    # -- users and their grants ----------------------------------------------------

    def get_user(self, username: str) -> User:
        name = User.check_username(username)
        return self._load(User, User.create_id(name), "user", name)

    def register_user(self, *, username: str, display_name: str | None, actor: str) -> Written:
        user = User.register(
            username=username, display_name=display_name, actor=actor, now=self.now()
        )
        return self._create(user, "user", user.username)

    def _grant_for(self, role: str, programme_id: UUID | None, council_code: str | None) -> Grant:
        if programme_id is not None:
            self.get_programme(programme_id)
        if council_code is not None:
            council_code = self.get_council(council_code).code
        return User.check_grant(Grant(role, programme_id, council_code))

    def grant_role(
        self,
        *,
        username: str,
        role: str,
        programme_id: UUID | None = None,
        council_code: str | None = None,
        actor: str,
    ) -> Written:
        grant = self._grant_for(role, programme_id, council_code)
        return self._change_user(username, lambda u: u.grant(grant, actor=actor, now=self.now()))

    def revoke_role(
        self,
        *,
        username: str,
        role: str,
        programme_id: UUID | None = None,
        council_code: str | None = None,
        actor: str,
    ) -> Written:
        grant = Grant(role, programme_id, council_code.upper() if council_code else None)
        return self._change_user(username, lambda u: u.revoke(grant, actor=actor, now=self.now()))

    def _change_user(self, username: str, change: Callable[[User], None]) -> Written:
        user_id = User.create_id(User.check_username(username))
        return self._change(user_id, lambda: self.get_user(username), change, None)
