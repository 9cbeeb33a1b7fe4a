"""Given / When / Then for aggregates alone.

*Given* builds an aggregate by its public commands, *when* is one command,
*then* reads the aggregate's state, or ``refused`` checks that the command was
refused, naming the field at fault, and that the aggregate recorded nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import Aggregate

from domain.errors import DomainError
from domain.project import Project

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
TODAY = NOW.date()
ACTOR = "pm.jones"


def days_ago(n: int) -> date:
    return TODAY - timedelta(days=n)


def a_project(*, council_code: str = "GB-EXE", cohort_id: UUID | None = None) -> Project:
    """Given: a project just started, with no entries."""
    return Project.start(
        cohort_id=cohort_id or uuid4(),
        council_code=council_code,
        title="Missed bins",
        actor=ACTOR,
        now=NOW,
    )


def record(project: Project, kind: str, *, decided_on: date | None = None, **values: Any) -> UUID:
    """Record one entry of ``kind`` with ``values``; returns the new entry's id."""
    entry_id = uuid4()
    project.record(
        kind=kind, entry_id=entry_id, decided_on=decided_on, actor=ACTOR, now=NOW, values=values
    )
    return entry_id


def a_project_through(*phases: str) -> Project:
    """Given: a project that has moved through ``phases`` in turn, each with a reason."""
    project = a_project()
    for phase in phases:
        record(project, "phase_changed", phase=phase, reason=f"to {phase}")
    return project


def correct(
    project: Project, entry_id: UUID, reason_kind: str = "clarification", **replacement: Any
) -> UUID:
    """Record a correction of ``entry_id`` that replaces ``replacement``; returns its id."""
    return record(
        project,
        "entry_corrected",
        corrects=entry_id,
        reason_kind=reason_kind,
        reason="the record was wrong",
        replacement=replacement,
    )


@contextmanager
def refused(
    aggregate: Aggregate, error: type[DomainError], field: str | None = None
) -> Iterator[None]:
    """Then: the command in the block is refused with ``error`` (naming ``field``, if
    given) and the aggregate is left as it was: no event, no new version."""
    version = aggregate.version
    with pytest.raises(error) as raised:
        yield
    if field is not None:
        assert getattr(raised.value, "field", None) == field, raised.value
    assert aggregate.version == version


@contextmanager
def refused_to_create(error: type[DomainError], field: str | None = None) -> Iterator[None]:
    """Then: the creating command in the block is refused with ``error`` (naming ``field``)."""
    with pytest.raises(error) as raised:
        yield
    if field is not None:
        assert getattr(raised.value, "field", None) == field, raised.value
