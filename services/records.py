"""The decision record: one eventsourcing application for every aggregate.

One application means one event log, so read models see programmes,
cohorts, councils and projects in the order they were recorded.
"""

from __future__ import annotations

import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
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
from domain.project import ENTRY_KINDS, Project
from domain.user import Grant, User
from services.chained_recorders import ChainedRecorder
from storage.codec import FastMapper

A = TypeVar("A", bound=Aggregate)

#: How often a command is re-applied when another writer got in first.
MAX_ATTEMPTS = 20
#: Projects kept in memory after a write, for the next write to them (about 300 KB each).
WRITTEN_KEPT = 64
#: Cohorts whose facts are kept for the next write to one of their projects (a few
#: hundred bytes each).
COHORT_FACTS_KEPT = 1024
IDEMPOTENCY_NAMESPACE = uuid5(NAMESPACE_URL, "https://waymark.example/idempotency")
#: The instant commands record at, where a caller fixes it (``DecisionRecords.recording_at``).
_RECORDING_AT: ContextVar[datetime | None] = ContextVar("recording_at", default=None)


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


class _AlreadyStarted(Exception):
    """A retried start found the project its first try started."""

    def __init__(self, project_id: UUID) -> None:
        super().__init__(str(project_id))
        self.project_id = project_id


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


@dataclass(frozen=True)
class CohortFacts:
    """What a write to a project needs of its cohort: whether it is closed, and the day
    it starts; as of the cohort's ``version``."""

    version: int
    starts_on: date | None
    closed: bool


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
        #: Each cohort's facts as last read (see cohort_facts).
        self._cohort_facts: OrderedDict[UUID, CohortFacts] = OrderedDict()
        self._cohort_facts_lock = threading.Lock()
        #: Saves that lost a race to another writer on the same store (another process,
        #: or another application instance) and were applied again: write contention.
        self.conflicts_retried = 0
        self._conflicts_lock = threading.Lock()
        #: The programme of a published output (by its entry id), or None if no output
        #: of that id is published: set by the composition root (it reads a read model).
        self.output_programme: Callable[[UUID], UUID | None] = lambda _entry_id: None

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
        """The instant a command records at: the clock's, unless ``recording_at`` fixes it."""
        return _RECORDING_AT.get() or datetime.now(UTC)

    @staticmethod
    @contextmanager
    def recording_at(moment: datetime) -> Iterator[None]:
        """Record what is written inside, in this thread, as of ``moment``.

        For a record made over simulated time (the demo): the aggregates take time
        as an argument, and this is where it comes from.
        """
        if moment.tzinfo is None:
            raise ValueError("a recorded instant needs its time zone")
        token = _RECORDING_AT.set(moment.astimezone(UTC))
        try:
            yield
        finally:
            _RECORDING_AT.reset(token)

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

    def cohort_facts(self, cohort_id: UUID) -> CohortFacts:
        """Whether the cohort is closed and the day it starts, as the record says now.

        Every write to a project asks this of its cohort. The facts last read are kept,
        and only the cohort's events recorded since (by any process) are read and
        decoded: usually none, one short query. Reading every event of a cohort of
        twenty councils instead took a sixth of a write's time (docs/PERFORMANCE.md).
        """
        with self._cohort_facts_lock:
            known = self._cohort_facts.get(cohort_id)
        facts = known or CohortFacts(version=0, starts_on=None, closed=False)
        events = self.repository.event_store.get(cohort_id, gt=known.version if known else None)
        for event in events:
            starts_on = facts.starts_on
            if isinstance(event, (Cohort.Formed, Cohort.DetailsChanged)):
                starts_on = event.starts_on
            facts = CohortFacts(
                version=event.originator_version,
                starts_on=starts_on,
                # Closing is the last thing that happens to a cohort: ``Cohort`` refuses
                # every change once closed.
                closed=facts.closed or isinstance(event, Cohort.Closed),
            )
        if facts.version and facts != known:
            with self._cohort_facts_lock:
                newest = self._cohort_facts.get(cohort_id)
                if newest is None or newest.version < facts.version:
                    self._cohort_facts[cohort_id] = facts
                    self._cohort_facts.move_to_end(cohort_id)
                    while len(self._cohort_facts) > COHORT_FACTS_KEPT:
                        self._cohort_facts.popitem(last=False)
        return facts

    def _open_cohort_starts_on(self, project: Project) -> date | None:
        """The day the project's cohort starts; ``Conflict`` if the cohort is closed."""
        cohort = self.cohort_facts(project.cohort_id)
        if cohort.closed:
            raise Conflict("the cohort is closed: nothing more is recorded in it")
        return cohort.starts_on

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
        recorder = self.recorder
        assert isinstance(recorder, ChainedRecorder), "chosen by services.container"
        return Written(aggregate_id, version, recorder.position_of(aggregate_id, version), True)

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
                    with self._conflicts_lock:
                        self.conflicts_retried += 1
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
        """Start a project led by the council in the cohort, enrolling the council first if
        it is not yet enrolled (that first project keeps the id it always had).

        A council may lead several projects in a cohort, each under its own title: the same
        title again is a conflict. A retry (the same ``Idempotency-Key``) gets the project
        its first try started; the first project is found again by its council and title.
        """
        council = self.get_council(council_code)
        title = Project.clean_title(title)
        first = Project.create_id(cohort_id, council.code)
        if idempotency_key is not None and self.exists(first) and self._title(first) == title:
            return self._replay(first, 1)
        later = idempotent_id(
            f"project/{cohort_id}/{council.code}", idempotency_key
        ) or Project.create_id(cohort_id, council.code, title)
        if idempotency_key is not None and self.exists(later):
            return self._replay(later, 1)
        started: list[Project] = []

        def start(cohort: Cohort) -> list[Aggregate]:
            now = self.now()
            enrolling = council.code not in cohort.projects
            if not enrolling:
                if idempotency_key is not None and later in cohort.led:
                    raise _AlreadyStarted(later)  # another try of this request won the race
                if any(self._title(p) == title for p in cohort.projects_led_by(council.code)):
                    raise Conflict(
                        f"council {council.code} already leads a project called {title!r}"
                        " in this cohort"
                    )
            project = Project.start(
                cohort_id=cohort.id,
                council_code=council.code,
                title=title,
                actor=actor,
                now=now,
                project_id=first if enrolling else later,
            )
            if enrolling:
                cohort.enrol(council_code=council.code, project_id=first, actor=actor, now=now)
            else:
                cohort.start_project(
                    council_code=council.code, project_id=later, actor=actor, now=now
                )
            started[:] = [project]
            return [project]

        try:
            written = self._change(cohort_id, lambda: self.get_cohort(cohort_id), start, None)
        except _AlreadyStarted as retried:
            return self._replay(retried.project_id, 1)
        project = started[0]
        return Written(project.id, project.version, written.position)

    def _title(self, project_id: UUID) -> str:
        """The title a project was started under (it never changes)."""
        return self.get_project(project_id).title

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
            cohort_starts_on = self._open_cohort_starts_on(project)
            self._check_references(project, kind, values)
            self._check_shared_with(project, kind, values)
            self._check_partner_registered(kind, values)
            project.record(
                kind=kind,
                entry_id=new_entry_id,
                decided_on=decided_on,
                actor=actor,
                now=self.now(),
                values=values,
                cohort_starts_on=cohort_starts_on,
                publishing_allowed=self._publishing_allowed(project, kind, values),
            )

        written = self._change(
            project_id, lambda: self.get_project(project_id), record, expected_version, keep=True
        )
        return Written(new_entry_id, written.version, written.position)

    def check_entry(
        self,
        *,
        project_id: UUID,
        kind: str,
        decided_on: date | None,
        values: Mapping[str, Any],
        actor: str,
    ) -> None:
        """Raise what ``record_entry`` would refuse now, recording nothing (for a page
        that shows a person their answers before they record them)."""
        project = self.get_project(project_id)  # a fresh copy, changed and dropped
        cohort_starts_on = self._open_cohort_starts_on(project)
        self._check_references(project, kind, values)
        self._check_shared_with(project, kind, values)
        self._check_partner_registered(kind, values)
        project.record(
            kind=kind,
            entry_id=uuid4(),
            decided_on=decided_on,
            actor=actor,
            now=self.now(),
            values=values,
            cohort_starts_on=cohort_starts_on,
            publishing_allowed=self._publishing_allowed(project, kind, values),
        )

    def corrected_kind(self, project_id: UUID, entry_id: Any) -> str | None:
        """The kind of the entry a correction of ``entry_id`` would correct (the kind at the
        root of its chain of corrections); None if there is no such entry."""
        try:
            project = self.get_project(project_id)
            entry = project.entries.get(UUID(str(entry_id)))
        except (NotFound, ValueError):
            return None
        return None if entry is None else project.corrected_kind(entry)

    def _check_references(self, project: Project, kind: str, values: Mapping[str, Any]) -> None:
        """What an entry names outside its project: a reuse's output must be published in
        the project's programme, and its council registered (also when a correction of
        a reuse changes them)."""
        prefix, given = "", values
        if kind == "entry_corrected":
            try:
                target = project.entries.get(UUID(str(values.get("corrects"))))
            except ValueError:
                return  # the project refuses it, naming the field
            replacement = values.get("replacement")
            if target is None or not isinstance(replacement, Mapping):
                return
            if project.corrected_kind(target) != "output_reused":
                return
            prefix, given = "replacement.", replacement
        elif kind != "output_reused":
            return
        fields = ENTRY_KINDS["output_reused"].FIELDS
        if given.get("council_code") is not None:
            try:
                code = fields["council_code"].clean("council_code", given["council_code"])
            except InvalidValue as error:
                raise InvalidValue(prefix + error.field, error.message) from None
            if not self.exists(Council.create_id(code)):
                raise InvalidValue(prefix + "council_code", f"no council {code} is registered")
        if given.get("output_entry_id") is not None:
            try:
                output_id = fields["output_entry_id"].clean(
                    "output_entry_id", given["output_entry_id"]
                )
            except InvalidValue as error:
                raise InvalidValue(prefix + error.field, error.message) from None
            if self.output_programme(output_id) != self.cohort_programme(project.cohort_id):
                raise InvalidValue(
                    prefix + "output_entry_id",
                    "must name an output published in this project's programme",
                )

    def cohort_programme(self, cohort_id: UUID) -> UUID | None:
        """The programme a cohort belongs to (never changed), from its first event."""
        first = next(iter(self.repository.event_store.get(cohort_id, limit=1)), None)
        return first.programme_id if isinstance(first, Cohort.Formed) else None

    def _publishing_allowed(self, project: Project, kind: str, values: Mapping[str, Any]) -> bool:
        """Whether the project's programme allows publishing, read only where the entry
        would be public (or make one public)."""
        if values.get("public") is not True and kind != "entry_made_public":
            return False
        programme_id = self.cohort_programme(project.cohort_id)
        return programme_id is not None and self.get_programme(programme_id).publishing_allowed

    def _check_shared_with(self, project: Project, kind: str, values: Mapping[str, Any]) -> None:
        """The councils a share decision names (or a correction of one) are registered,
        and other than the project's own."""
        field, codes = "shared_with", values.get("shared_with")
        if kind == "entry_corrected":
            replacement = values.get("replacement")
            field = "replacement.shared_with"
            codes = replacement.get("shared_with") if isinstance(replacement, Mapping) else None
        for index, code in enumerate(codes if isinstance(codes, list) else []):
            name = f"{field}[{index}]"
            if not isinstance(code, str) or not code.strip():
                continue
            try:
                council = self.get_council(code.strip())
            except (NotFound, InvalidValue):
                raise InvalidValue(name, f"no council {code.strip()!r} is registered") from None
            if council.code == project.council_code:
                raise InvalidValue(name, "names the project's own council")

    def _check_partner_registered(self, kind: str, values: Mapping[str, Any]) -> None:
        """The council a partner joins as is registered (that it is not the lead council,
        nor a partner already, is the project's rule)."""
        if kind != "partner_joined" or values.get("council_code") is None:
            return
        code = (
            ENTRY_KINDS[kind].FIELDS["council_code"].clean("council_code", values["council_code"])
        )
        if code and not self.exists(Council.create_id(code)):
            raise InvalidValue("council_code", f"no council {code} is registered")

    def project_partners(self, project_id: UUID) -> frozenset[str]:
        """The project's partner councils in force, from the project itself."""
        return frozenset(self.get_project(project_id).partners)

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

    def allow_publishing(
        self,
        *,
        programme_id: UUID,
        allowed: bool,
        actor: str,
        expected_version: int | None = None,
    ) -> Written:
        """Allow the programme's projects' public pages, or take them down."""
        return self._change(
            programme_id,
            lambda: self.get_programme(programme_id),
            lambda p: p.allow_publishing(allowed=allowed, actor=actor, now=self.now()),
            expected_version,
        )

    def withdraw_council(
        self, *, cohort_id: UUID, council_code: str, reason: str, actor: str
    ) -> Written:
        def withdraw(cohort: Cohort) -> list[Aggregate]:
            now = self.now()
            code = Council.check_code(council_code)
            cohort.withdraw(council_code=code, reason=reason, actor=actor, now=now)
            led = [self.get_project(p) for p in cohort.projects_led_by(code)]
            for project in led:
                if not project.withdrawn:
                    project.withdraw(reason=reason, actor=actor, now=now)
            return list(led)

        return self._change(cohort_id, lambda: self.get_cohort(cohort_id), withdraw, None)

    def change_cohort_details(
        self,
        *,
        cohort_id: UUID,
        name: str,
        starts_on: date,
        ends_on: date,
        actor: str,
        expected_version: int | None = None,
    ) -> Written:
        return self._change(
            cohort_id,
            lambda: self.get_cohort(cohort_id),
            lambda c: c.change_details(
                name=name, starts_on=starts_on, ends_on=ends_on, actor=actor, now=self.now()
            ),
            expected_version,
        )

    SESSION_FIELDS = ("session_kind", "held_on", "topic", "run_by", "attendance", "notes", "links")

    def _session_values(self, values: Mapping[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(values) - set(self.SESSION_FIELDS))
        if unknown:
            raise InvalidValue(unknown[0], "is not a field of a session")
        return {name: values.get(name) for name in self.SESSION_FIELDS}

    def hold_session(
        self,
        *,
        cohort_id: UUID,
        values: Mapping[str, Any],
        actor: str,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Written:
        """Record a session of the cohort; ``values`` are the session's fields
        (``session_kind``, ``held_on``, ``topic``, ``run_by``, ``attendance``, ``notes``,
        ``links``). Returns the new session's id."""
        session_id = idempotent_id(f"session/{cohort_id}", idempotency_key) or uuid4()
        if idempotency_key is not None and session_id in self.get_cohort(cohort_id).sessions:
            for event in self.repository.event_store.get(cohort_id):
                if getattr(event, "session_id", None) == session_id:
                    replay = self._replay(cohort_id, event.originator_version)
                    return Written(session_id, replay.version, replay.position, True)
        given = self._session_values(values)
        written = self._change(
            cohort_id,
            lambda: self.get_cohort(cohort_id),
            lambda c: c.hold_session(session_id=session_id, **given, actor=actor, now=self.now()),
            expected_version,
        )
        return Written(session_id, written.version, written.position)

    def check_session(self, *, cohort_id: UUID, values: Mapping[str, Any], actor: str) -> None:
        """Raise what ``hold_session`` would refuse now, recording nothing."""
        given = self._session_values(values)
        cohort = self.get_cohort(cohort_id)  # a fresh copy, changed and dropped
        cohort.hold_session(session_id=uuid4(), **given, actor=actor, now=self.now())

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

    def check_grant(self, role: str, programme_id: UUID | None, council_code: str | None) -> Grant:
        """The grant, if the role, its scope and the programme or council named are right."""
        return self._grant_for(role, programme_id, council_code)

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

    def record_email(self, *, username: str, email: str, actor: str) -> Written:
        """The address the person's digest goes to (nothing recorded when unchanged)."""
        return self._change_user(
            username, lambda u: u.record_email(email, actor=actor, now=self.now())
        )

    def choose_digest(self, *, username: str, wanted: bool, actor: str) -> Written:
        """The person turns their weekly digest on or off."""
        return self._change_user(
            username, lambda u: u.choose_digest(wanted, actor=actor, now=self.now())
        )

    def _change_user(self, username: str, change: Callable[[User], None]) -> Written:
        user_id = User.create_id(User.check_username(username))
        return self._change(user_id, lambda: self.get_user(username), change, None)
