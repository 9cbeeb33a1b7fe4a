"""A programme: an accelerator run by a national body."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.fields import Flag, Text
from domain.segments import check_mapping, default_mapping


class Programme(Aggregate):
    class Launched(Aggregate.Created):
        name: str
        description: str
        sponsor_body: str
        actor: str

    class Renamed(Aggregate.Event):
        name: str
        actor: str

        def apply(self, aggregate: Programme) -> None:
            aggregate.name = self.name

    class SegmentMappingConfigured(Aggregate.Event):
        mapping: dict[str, str]
        actor: str

        def apply(self, aggregate: Programme) -> None:
            aggregate.segment_mapping = dict(self.mapping)

    class PublishingChanged(Aggregate.Event):
        """The programme allows its projects' public pages, or stops allowing them."""

        allowed: bool
        actor: str

        def apply(self, aggregate: Programme) -> None:
            aggregate.publishing_allowed = self.allowed

    def __init__(self, name: str, description: str, sponsor_body: str, actor: str) -> None:
        self.name = name
        self.description = description
        self.sponsor_body = sponsor_body
        self.launched_by = actor
        self.segment_mapping: dict[str, str] = default_mapping()
        #: Whether entries may be public (on ``/open/projects/{id}``); no, until allowed.
        self.publishing_allowed = False

    @classmethod
    def launch(
        cls,
        *,
        programme_id: UUID,
        name: str,
        description: str | None,
        sponsor_body: str | None,
        actor: str,
        now: datetime,
    ) -> Programme:
        return cls._create(
            cls.Launched,
            id=programme_id,
            timestamp=now,
            name=Text(max_length=300).clean("name", name),
            description=Text(required=False).clean("description", description),
            sponsor_body=Text(required=False, max_length=300).clean("sponsor_body", sponsor_body),
            actor=actor,
        )

    def rename(self, *, name: str, actor: str, now: datetime) -> None:
        name = Text(max_length=300).clean("name", name)
        if name != self.name:
            self.trigger_event(self.Renamed, timestamp=now, name=name, actor=actor)

    def configure_segments(self, *, mapping: dict[str, str], actor: str, now: datetime) -> None:
        checked = check_mapping(mapping)
        if checked != self.segment_mapping:
            self.trigger_event(
                self.SegmentMappingConfigured, timestamp=now, mapping=checked, actor=actor
            )

    def allow_publishing(self, *, allowed: bool, actor: str, now: datetime) -> None:
        """Allow publishing, or stop allowing it; nothing is recorded when nothing changes."""
        allowed = Flag().clean("allowed", allowed)
        if allowed != self.publishing_allowed:
            self.trigger_event(self.PublishingChanged, timestamp=now, allowed=allowed, actor=actor)
