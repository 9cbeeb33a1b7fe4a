"""The composition root: settings in, a running application and its read models out."""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.utils import get_topic

from domain.errors import DomainError, InvalidValue, NotFound
from domain.fields import CONTROL
from domain.project import ENTRY_KINDS
from domain.vocabulary import Phase
from projections.audit_log import AuditLog, AuditQuery, audit_log
from projections.base import BadCursor, ReadModel, instant
from projections.cohort_timeline import CohortTimeline, TimelineQuery, timeline
from projections.comparison import GROUPINGS, Comparison, ComparisonQuery, comparison, group
from projections.database import Database, PostgresDatabase, SQLiteDatabase, postgres_conninfo
from projections.directory import (
    Directory,
    cohorts_of_programmes_or_councils,
    list_cohorts,
    list_councils,
    list_programmes,
)
from projections.directory import list_projects as directory_projects
from projections.log import EventLog
from projections.project_history import ProjectHistory, project_history
from projections.projector import Projector
from projections.search import Search, SearchQuery, search
from services.access import Access, Facts, Principal, cached, sees_everything
from services.chained_recorders import (
    ChainedPostgresApplicationRecorder,
    ChainedRecorder,
    ChainedSQLiteApplicationRecorder,
)
from services.credentials import Credentials, SignInLimiter
from services.health import ReadinessCheck
from services.ledger import Ledger
from services.records import DecisionRecords
from services.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")


def read_models() -> list[ReadModel]:
    """Every read model, in the order a batch is applied to them."""
    return [Directory(), CohortTimeline(), ProjectHistory(), Comparison(), AuditLog(), Search()]


#: Events in the log from which a rebuild is shared between processes.
PARALLEL_REBUILD_FROM = 50_000
#: Processes a long rebuild is shared between unless configured: two, which on two
#: cores beside PostgreSQL rebuilt 100,000 and 1,000,000 events 37-61% faster than one
#: (docs/PERFORMANCE.md). More were not measured, so more cores take no more by default.
DEFAULT_REBUILD_WORKERS = 2


def rebuild_processes(head: int, configured: int | None, cores: int) -> int:
    """How many processes share a rebuild of a log whose last position is ``head``.

    A short log is rebuilt before processes would have started; a long one by
    ``configured`` processes, or by default two where this process may use two
    cores or more.
    """
    if head < PARALLEL_REBUILD_FROM:
        return 1
    if configured is not None:
        return configured
    return min(DEFAULT_REBUILD_WORKERS, max(1, cores))


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity, where the system tells it)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def rebuild_read_models(
    settings: Settings,
    names: Sequence[str] | None = None,
    progress: Callable[[int], None] | None = None,
    *,
    workers: int | None = None,
) -> int:
    """Drop the named read models (all by default) and build them again from the log.

    On PostgreSQL the read models are shared among ``workers`` processes
    (by default, once the log holds 50,000 events, ``WAYMARK_REBUILD_WORKERS``
    or else two where two cores are free to use): each has its own position, so
    each process catches up its own share, exactly once. Returns how many
    events were read.
    """
    waymark = Waymark(settings.model_copy(update={"in_process_projections": False}))
    try:
        projector = waymark.projector
        if workers is None:
            workers = rebuild_processes(
                projector.log.head(), settings.rebuild_workers, usable_cores()
            )
        if not settings.uses_postgres:
            workers = 1  # SQLite takes one writer at a time
        chosen = projector.start_rebuild(names)
        groups = _share(chosen, workers)
        if len(groups) < 2:
            return projector.finish_rebuild(progress)
        context = multiprocessing.get_context("spawn")
        with context.Pool(len(groups)) as pool:
            results = [pool.apply_async(_finish_rebuild, (settings, group)) for group in groups]
            reported = 0
            while not all(result.ready() for result in results):
                time.sleep(0.2)
                reported = _report(projector, chosen, reported, progress)
            counts = [result.get() for result in results]
        _report(projector, chosen, reported, progress)
        return max(counts)
    finally:
        waymark.close()


def _share(names: Sequence[str], workers: int) -> list[list[str]]:
    """The read models split into at most ``workers`` groups of about equal work."""
    weights = {model.name: model.rebuild_weight for model in read_models()}
    groups: list[list[str]] = [[] for _ in range(max(1, min(workers, len(names))))]
    loads = [0] * len(groups)
    for name in sorted(names, key=lambda n: -weights.get(n, 1)):
        lightest = loads.index(min(loads))
        groups[lightest].append(name)
        loads[lightest] += weights.get(name, 1)
    return [group for group in groups if group]


def _finish_rebuild(settings: Settings, names: list[str]) -> int:
    """One process's share of a rebuild (run in a child process)."""
    # The parent made the tables; creating them from two processes at once races on
    # PostgreSQL's catalog ("tuple concurrently updated").
    records = DecisionRecords(env={**application_env(settings), "CREATE_TABLE": "n"})
    database = read_model_database(settings)
    try:
        projector = Projector(
            database,
            EventLog(records.recorder, records.mapper),
            [model for model in read_models() if model.name in names],
            batch_size=settings.projection_batch_size,
        )
        return projector.finish_rebuild()
    finally:
        database.close()
        records.close()


def _report(
    projector: Projector, names: list[str], reported: int, progress: Callable[[int], None] | None
) -> int:
    """Tell ``progress`` how far the slowest of ``names`` has moved since last told."""
    if progress is None:
        return reported
    positions = projector.positions()
    reached = min(positions[name] for name in names)
    if reached > reported:
        progress(reached - reported)
    return max(reached, reported)


def application_env(settings: Settings) -> dict[str, str]:
    """The eventsourcing settings that follow from ours."""
    if settings.uses_postgres:
        parts = settings.postgres_parts()
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": parts["dbname"],
            "POSTGRES_HOST": parts["host"],
            "POSTGRES_PORT": parts["port"],
            "POSTGRES_USER": parts["user"],
            "POSTGRES_PASSWORD": parts["password"],
            "POSTGRES_POOL_SIZE": str(settings.postgres_pool_size),
            "POSTGRES_CONNECT_TIMEOUT": str(settings.database_timeout),
            "POSTGRES_CONN_MAX_AGE": "600",
            # No ping before each use (a round trip per query): the library retries its
            # reads and writes on a dead connection, and so do the ledger's (see
            # services.chained_recorders).
            "POSTGRES_PRE_PING": "n",
            "APPLICATION_RECORDER_TOPIC": get_topic(ChainedPostgresApplicationRecorder),
        }
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(settings.data_dir / "events.sqlite3"),
        "SQLITE_LOCK_TIMEOUT": "30",
        "APPLICATION_RECORDER_TOPIC": get_topic(ChainedSQLiteApplicationRecorder),
    }


def read_model_database(settings: Settings) -> Database:
    if settings.uses_postgres:
        return PostgresDatabase(
            postgres_conninfo(settings.postgres_parts()),
            pool_size=settings.postgres_pool_size,
            timeout=settings.database_timeout,
        )
    return SQLiteDatabase(settings.data_dir / "read_models.sqlite3")


class TooManyAttempts(DomainError):
    """Sign-in is throttled for this user or address."""


@dataclass(frozen=True)
class Freshness:
    """How far the read models had got when a query was answered."""

    position: int
    lag: int
    waited_for: int | None
    reached: bool


class Waymark:
    """Everything a process needs: the record, the read models, and their worker."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self.records = DecisionRecords(env=application_env(self.settings))
        self.database = read_model_database(self.settings)
        self.projector = Projector(
            self.database,
            EventLog(self.records.recorder, self.records.mapper),
            read_models(),
            batch_size=self.settings.projection_batch_size,
        )
        self.projector.prepare()
        self.records.listeners.append(lambda _recordings: self.projector.wake.set())
        self.readiness = ReadinessCheck(
            self.projector,
            max_lag=self.settings.readiness_max_lag,
            timeout=self.settings.readiness_timeout,
        )
        self.credentials = Credentials(self.database, self.settings.secret_key.get_secret_value())
        self.sign_in_limiter = SignInLimiter()
        self.access = Access(
            Facts(
                cohort_programme=cached(lambda c: self.records.get_cohort(c).programme_id),
                cohort_councils=lambda c: frozenset(self.records.get_cohort(c).projects),
                project_cohort_and_council=cached(self.records.project_origin),
            )
        )
        assert isinstance(self.records.recorder, ChainedRecorder)
        self.ledger = Ledger(
            self.records.recorder,
            self.records.mapper.transcoder,
            self.settings.signing_key_path,
            self.settings.checkpoint_interval,
        )
        self.records.listeners.append(
            lambda written: self.ledger.written(written[-1].notification.id)
        )
        self._running = False

    # -- life cycle -------------------------------------------------------------

    def start(self) -> None:
        """Start the in-process read-model worker, unless a separate worker runs them."""
        if self.settings.in_process_projections and not self._running:
            self.projector.start(self.settings.projection_poll_interval)
            self._running = True

    def close(self) -> None:
        if self._running:
            self.projector.stop()
            self._running = False
        self.database.close()
        self.records.close()

    # -- who is asking ---------------------------------------------------------------

    def principal(self, username: str) -> Principal | None:
        try:
            user = self.records.get_user(username)
        except NotFound:
            return None
        return Principal(user.username, tuple(user.grants))

    def principal_for_token(self, token: str) -> Principal | None:
        username = self.credentials.token_user(token)
        return self.principal(username) if username else None

    def sign_in(self, username: str, password: str, address: str) -> str | None:
        """A new session id for the right password; None otherwise. Raises when throttled."""
        if CONTROL.search(username):  # no user has one (and PostgreSQL text cannot hold NUL)
            raise InvalidValue("username", "must not contain control characters")
        keys = (f"user:{username.lower()}", f"address:{address}")
        if self.sign_in_limiter.blocked(*keys):
            raise TooManyAttempts("too many failed sign-ins: wait 15 minutes and try again")
        if not self.credentials.check_password(username.lower(), password):
            self.sign_in_limiter.failed(*keys)
            return None
        self.sign_in_limiter.succeeded(*keys)
        return self.credentials.start_session(username.lower(), hours=self.settings.session_hours)

    # -- reading ------------------------------------------------------------------

    def fresh(self, wait_for: int | None) -> Freshness:
        """Wait (bounded) until the read models reach ``wait_for``; say how far they are."""
        reached = True
        if wait_for is not None:
            reached = self.projector.wait_for(wait_for, self.settings.read_wait_timeout)
        head = self.projector.log.head()
        position = min(self.projector.positions().values(), default=0)
        return Freshness(
            position=position, lag=max(0, head - position), waited_for=wait_for, reached=reached
        )

    def programmes(self) -> list[dict[str, Any]]:
        return list_programmes(self.database)

    def cohorts_of(self, programme_id: UUID) -> list[dict[str, Any]]:
        return list_cohorts(self.database, str(programme_id))

    def councils(self) -> list[dict[str, Any]]:
        return list_councils(self.database)

    def projects_of(self, cohort_id: UUID) -> list[dict[str, Any]]:
        return directory_projects(self.database, str(cohort_id))

    def timeline(self, query: TimelineQuery) -> tuple[list[dict[str, Any]], str | None]:
        self.records.check_cohort(UUID(query.cohort_id))
        if query.kind is not None and query.kind not in ENTRY_KINDS:
            raise InvalidValue("kind", f"must be one of: {', '.join(ENTRY_KINDS)}")
        if query.phase is not None and query.phase not in set(Phase):
            raise InvalidValue("phase", f"must be one of: {', '.join(Phase)}")
        with _cursor_checked():
            return timeline(self.database, query)

    def history(self, project_id: UUID, as_of: datetime | None = None) -> dict[str, Any]:
        """Every entry of a project, from the read model (not a replay of the project)."""
        found = project_history(self.database, str(project_id), _instant(as_of))
        if found is None:
            raise NotFound("project", project_id)
        return found

    def today(self) -> date:
        return self.records.now().date()

    def comparison_of_cohort(
        self,
        cohort_id: UUID,
        *,
        as_of: datetime | None = None,
        week: int | None = None,
        today: date | None = None,
        follow_successors: bool = False,
    ) -> list[dict[str, Any]]:
        """One row per project of the cohort, as it stands (or stood ``as_of``)."""
        self.records.check_cohort(cohort_id)
        return comparison(
            self.database,
            self._comparison_query(
                as_of, week, today, follow_successors, cohort_ids=(str(cohort_id),)
            ),
        )

    def comparison_of_programme(
        self,
        programme_id: UUID,
        *,
        group_by: str | None = None,
        as_of: datetime | None = None,
        week: int | None = None,
        today: date | None = None,
        follow_successors: bool = False,
    ) -> list[dict[str, Any]]:
        """Every project of the programme's cohorts: rows, or groups of rows with totals."""
        self.records.get_programme(programme_id)
        if group_by is not None and group_by not in GROUPINGS:
            raise InvalidValue("group_by", f"must be one of: {', '.join(GROUPINGS)}")
        rows = comparison(
            self.database,
            self._comparison_query(
                as_of, week, today, follow_successors, programme_id=str(programme_id)
            ),
        )
        return group(rows, group_by) if group_by else rows

    def _comparison_query(
        self,
        as_of: datetime | None,
        week: int | None,
        today: date | None,
        follow_successors: bool,
        **which: Any,
    ) -> ComparisonQuery:
        if week is not None and week < 1:
            raise InvalidValue("week", "must be 1 or more")
        if today is None:
            today = as_of.date() if as_of is not None else self.today()
        return ComparisonQuery(
            today=today,
            as_of=_instant(as_of),
            week=week,
            quiet_after_days=self.settings.quiet_after_days,
            follow_successors=follow_successors,
            **which,
        )

    def audit(self, query: AuditQuery) -> tuple[list[dict[str, Any]], str | None]:
        with _cursor_checked():
            return audit_log(self.database, query)

    def search(
        self, query: SearchQuery, principal: Principal
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Search, limited to the cohorts ``principal`` may read."""
        if not sees_everything(principal):
            query = replace(query, visible_cohorts=self.visible_cohorts(principal))
        with _cursor_checked():
            return search(self.database, query)

    def visible_cohorts(self, principal: Principal) -> frozenset[str]:
        """The cohorts a programme manager or participant may read."""
        return cohorts_of_programmes_or_councils(
            self.database,
            {str(p) for p in principal.managed_programmes()},
            principal.councils(),
        )


def _instant(moment: datetime | None) -> str | None:
    return instant(moment) if moment is not None else None


@contextmanager
def _cursor_checked() -> Iterator[None]:
    try:
        yield
    except BadCursor as error:
        raise InvalidValue("cursor", str(error)) from None
