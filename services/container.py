"""The composition root: settings in; the record, its read models, their worker,
credentials, the ledger, access rules and queries out. It wires, and nothing more."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from eventsourcing.utils import get_topic

from domain.errors import NotFound
from projections.catalogue import RETIRED, read_models
from projections.database import Database, PostgresDatabase, SQLiteDatabase, postgres_conninfo
from projections.log import EventLog
from projections.projector import Projector
from services.access import Access, Facts, Principal, cached
from services.chained_recorders import (
    ChainedPostgresApplicationRecorder,
    ChainedRecorder,
    ChainedSQLiteApplicationRecorder,
)
from services.credentials import Credentials
from services.digests import Digests, DigestSchedule
from services.drafts import Drafts
from services.health import ReadinessCheck
from services.ledger import Ledger
from services.people import People
from services.queries import Freshness, Queries
from services.records import DecisionRecords
from services.settings import Settings
from services.sign_in import SignIn, end_sessions_on_revocation
from services.wakeups import Bell
from services.witnesses import CheckpointLog

log = logging.getLogger(__name__)


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
            retired=RETIRED,
        )
        self.projector.prepare()
        self.records.listeners.append(lambda _recordings: self.projector.wake.set())
        #: Rings the read-model worker that `waymark serve` runs beside this process.
        self.bell: Bell | None = None
        if self.settings.projector_socket is not None and not self.settings.in_process_projections:
            bell = self.bell = Bell(self.settings.projector_socket)
            self.records.listeners.append(lambda _recordings: bell.ring())
        self.readiness = ReadinessCheck(
            self.projector,
            max_lag=self.settings.readiness_max_lag,
            timeout=self.settings.readiness_timeout,
        )
        self.credentials = Credentials(self.database, self.settings.secret_key.get_secret_value())
        self.drafts = Drafts(self.database)
        self.sign_ins = SignIn.configured(self.settings, self.credentials, self.database)
        self.records.listeners.append(end_sessions_on_revocation(self.records, self.credentials))
        self.queries = Queries(self.records, self.database, self.projector, self.settings)
        self.records.output_programme = self.queries.output_programme
        self.people = People(
            self.records, self.credentials, self.sign_ins, self.queries, self.database
        )
        self.access = Access(
            Facts(
                cohort_programme=cached(self.queries.cohort_programme),
                enrolled=self.queries.enrolled,
                project_cohort_and_council=cached(self.queries.project_origin),
                council_programmes=self.queries.programmes_enrolling,
                project_partners=self.queries.project_partners,
            )
        )
        assert isinstance(self.records.recorder, ChainedRecorder)
        self.ledger = Ledger(
            self.records.recorder,
            self.records.mapper.transcoder,
            self.settings.signing_key_path,
            self.settings.checkpoint_interval,
            CheckpointLog(self.settings.checkpoint_log_path),
        )
        self.records.listeners.append(
            lambda written: self.ledger.written(written[-1].notification.id)
        )
        self.digests = Digests(self.database, self.settings)
        self.digest_schedule = DigestSchedule(self.digests, self.catch_up)
        self._running = False

    def catch_up(self) -> None:
        """Bring the read models to the log's head: here, unless a worker runs them."""
        if self._running:
            self.wait_for_head()
            return
        while self.projector.catch_up_once():
            pass

    def wait_for_head(self) -> None:
        """Wait (bounded) for the worker running the read models to reach the log's head."""
        self.projector.wait_for(self.projector.log.head(), self.settings.read_wait_timeout)

    # -- life cycle -------------------------------------------------------------

    def start(self) -> None:
        """Start the in-process read-model worker, unless a separate worker runs them."""
        if self.settings.in_process_projections and not self._running:
            self.projector.start(self.settings.projection_poll_interval)
            self._running = True
            self.digest_schedule.start()

    def close(self) -> None:
        self.digest_schedule.stop()
        if self._running:
            self.projector.stop()
            self._running = False
        if self.bell is not None:
            self.bell.close()
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


@contextmanager
def opened(settings: Settings | None = None) -> Iterator[Waymark]:
    """A Waymark for the length of a ``with`` block, closed however the block ends."""
    waymark = Waymark(settings)
    try:
        yield waymark
    finally:
        waymark.close()


__all__ = [
    "Freshness",
    "Waymark",
    "application_env",
    "opened",
    "read_model_database",
    "read_models",
]
