"""Reading the application's event log in batches, as domain events."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import ApplicationRecorder, Mapper

from projections.base import Positioned
from storage.codec import FastDecoder


class EventLog:
    """The notification log of one eventsourcing application, read directly.

    The recorder is read in large batches (the library's ``NotificationLog``
    caps a section at ten notifications, far too few for catch-up), and events
    are decoded by ``storage.codec.FastDecoder``: the same domain events as the mapper gives.
    """

    def __init__(self, recorder: ApplicationRecorder, mapper: Mapper[Any]) -> None:
        self.recorder = recorder
        self.mapper = mapper
        self.decode = FastDecoder.for_mapper(mapper)

    def read(self, after: int, limit: int) -> Sequence[Positioned]:
        notifications = self.recorder.select_notifications(
            start=after, limit=limit, inclusive_of_start=False
        )
        decode = self.decode
        return [(n.id, decode(n)) for n in notifications]

    def head(self) -> int:
        return self.recorder.max_notification_id() or 0
