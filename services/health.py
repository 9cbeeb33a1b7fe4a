"""Is this process fit to serve? The database answers and the read models keep up.

A check never takes longer than its timeout: the database is asked in a
background thread, and a caller that has waited long enough is told "not
ready" while the thread finishes on its own. At most one question is in
flight per process, so a hung database cannot pile up threads however often
an orchestrator asks.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

from eventsourcing.postgres import PostgresDatastore

from projections.database import Database, PostgresDatabase
from projections.projector import Projector, Status


@dataclass(frozen=True)
class Readiness:
    ready: bool
    #: Why not ready, in words an operator can act on ("" when ready).
    reason: str
    max_lag: int
    #: Each read model's position and lag; empty when the database did not answer.
    read_models: tuple[Status, ...] = ()

    @property
    def head(self) -> int | None:
        return self.read_models[0].head if self.read_models else None

    @property
    def lag(self) -> int | None:
        return max(status.lag for status in self.read_models) if self.read_models else None


class ReadinessCheck:
    def __init__(self, projector: Projector, *, max_lag: int, timeout: float) -> None:
        self.projector = projector
        self.max_lag = max_lag
        self.timeout = timeout
        self._lock = threading.Lock()
        self._in_flight: Future[list[Status]] | None = None

    def check(self) -> Readiness:
        try:
            statuses = tuple(self._ask().result(timeout=self.timeout))
        except FutureTimeout:
            return self._not_ready(f"the database did not answer within {self.timeout:g} s")
        except Exception as error:  # noqa: BLE001 - any failure to answer means "not ready"
            return self._not_ready(f"the database is unreachable ({type(error).__name__})")
        behind = [s for s in statuses if s.lag > self.max_lag]
        if behind:
            worst = max(behind, key=lambda s: s.lag)
            reason = (
                f"read model {worst.name} is {worst.lag} events behind the log "
                f"(more than {self.max_lag})"
            )
            return Readiness(False, reason, self.max_lag, statuses)
        return Readiness(True, "", self.max_lag, statuses)

    def _not_ready(self, reason: str) -> Readiness:
        return Readiness(False, reason, self.max_lag)

    def _ask(self) -> Future[list[Status]]:
        """The question in flight, or a new one if none is."""
        with self._lock:
            if self._in_flight is None or self._in_flight.done():
                future: Future[list[Status]] = Future()
                threading.Thread(
                    target=self._answer, args=(future,), name="waymark-readiness", daemon=True
                ).start()
                self._in_flight = future
            return self._in_flight

    def _answer(self, future: Future[list[Status]]) -> None:
        try:
            future.set_result(self.projector.status())
        except BaseException as error:  # noqa: BLE001 - handed to the caller
            future.set_exception(error)


def pool_use(recorder: Any, database: Database) -> dict[str, dict[str, int]]:
    """Connection-pool figures on PostgreSQL, by pool: ``events`` and ``read_models``.

    Each is psycopg_pool's ``get_stats()``; SQLite has no pools and gives ``{}``.
    """
    pools: dict[str, dict[str, int]] = {}
    datastore = getattr(recorder, "datastore", None)
    if isinstance(datastore, PostgresDatastore):
        pools["events"] = datastore.pool.get_stats()
    if isinstance(database, PostgresDatabase):
        pools["read_models"] = database.pool.get_stats()
    return pools
