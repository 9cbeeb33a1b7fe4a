"""A bound on the reads waiting at once for the read models to catch up."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from domain.errors import DomainError


class TooManyWaiting(DomainError):
    """As many reads as allowed are already waiting for the read models."""


class WaitingReads:
    """At most ``limit`` reads wait at once; one more is refused, not queued.

    A waiting read holds one of the server's worker threads for up to the read
    wait timeout, so without a bound a burst of reads asking for a position the
    read models have not reached could hold every thread.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.waiting = 0
        self._slots = threading.BoundedSemaphore(limit)
        self._count = threading.Lock()

    @contextmanager
    def slot(self) -> Iterator[None]:
        if not self._slots.acquire(blocking=False):
            raise TooManyWaiting(
                f"{self.limit} reads are already waiting for the read models: try again shortly"
            )
        with self._count:
            self.waiting += 1
        try:
            yield
        finally:
            with self._count:
                self.waiting -= 1
            self._slots.release()
