"""Issue 3: events stored by an older version of the code still load.

An event class that gains a field gets ``class_version = N`` and a static
``upcast_v{N-1}_v{N}(state)``; the library applies the chain when it loads a
stored event of an older version. Shown here on both backends with an event
stored exactly as version 1 of the code would have stored it.
"""

from __future__ import annotations

import inspect
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

import domain.cohort
import domain.council
import domain.programme
import domain.project
from services.container import Waymark


class Survey(Aggregate):
    """A stand-in aggregate whose ``Answered`` event gained ``confidence`` in version 2."""

    class Started(Aggregate.Created):
        title: str

    class Answered(Aggregate.Event):
        class_version = 2
        answer: str
        confidence: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["confidence"] = "not recorded"

        def apply(self, aggregate: Survey) -> None:
            aggregate.answers.append((self.answer, self.confidence))

    def __init__(self, title: str) -> None:
        self.title = title
        self.answers: list[tuple[str, str]] = []


def test_a_version_1_event_is_upcast_when_loaded(waymark: Waymark) -> None:
    records = waymark.records
    survey = Survey._create(Survey.Started, id=uuid4(), title="Readiness")
    records.save(survey)

    version_1_state = {
        "originator_id": survey.id,
        "originator_version": 2,
        "timestamp": datetime.now(UTC),
        "answer": "yes",
    }
    records.recorder.insert_events(
        [
            StoredEvent(
                originator_id=survey.id,
                originator_version=2,
                topic=get_topic(Survey.Answered),
                state=records.mapper.transcoder.encode(version_1_state),
            )
        ]
    )

    loaded = records.repository.get(survey.id)
    assert loaded.answers == [("yes", "not recorded")]
    loaded.trigger_event(Survey.Answered, answer="no", confidence="high")
    records.save(loaded)
    assert records.repository.get(survey.id).answers == [
        ("yes", "not recorded"),
        ("no", "high"),
    ]


def _event_classes() -> list[type]:
    found = []
    for module in (domain.programme, domain.cohort, domain.council, domain.project):
        for _, aggregate in inspect.getmembers(module, inspect.isclass):
            if issubclass(aggregate, Aggregate) and aggregate is not Aggregate:
                for _, member in inspect.getmembers(aggregate, inspect.isclass):
                    if issubclass(member, Aggregate.Event) and member.__module__ == module.__name__:
                        found.append(member)
    return found


def test_every_domain_event_class_can_upcast_from_each_earlier_version() -> None:
    classes = _event_classes()
    assert len(classes) > 20
    for cls in classes:
        version = getattr(cls, "class_version", 1)
        assert isinstance(version, int) and version >= 1, cls
        for n in range(1, version):
            assert callable(getattr(cls, f"upcast_v{n}_v{n + 1}", None)), (cls, n)
