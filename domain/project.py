"""A council's project in one cohort, and every entry recorded against it.

Each entry kind is an event class that states its fields once (``FIELDS``);
the command method ``record`` checks a client's values against them before
the event is triggered, so that replaying an event never fails.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.errors import Conflict, InvalidValue
from domain.fields import (
    Choice,
    Day,
    Field,
    Money,
    Names,
    Reference,
    Text,
    clean_fields,
)
from domain.vocabulary import (
    Architecture,
    CapacityArea,
    CapacityChoice,
    ConcernCategory,
    CorrectionReason,
    NeedSegmentation,
    Phase,
    ProjectMethod,
    StanceTopic,
    SupportSource,
    TeamHealth,
)

PROJECT_NAMESPACE = uuid5(NAMESPACE_URL, "https://waymark.example/projects")

#: Moves forward along this line need no reason; anything else does.
PHASE_ORDER: tuple[Phase, ...] = (
    Phase.DISCOVERY,
    Phase.ALPHA,
    Phase.PRIVATE_BETA,
    Phase.PUBLIC_BETA,
    Phase.LIVE,
    Phase.RETIRED,
)
TERMINAL_PHASES = frozenset({Phase.RETIRED, Phase.STOPPED})


@dataclass
class Entry:
    """One recorded decision or happening, as the record holds it."""

    entry_id: UUID
    kind: str
    decided_on: date
    recorded_at: datetime
    actor: str
    fields: dict[str, Any]
    superseded_by: UUID | None = None
    corrects: UUID | None = None
    #: For a correction, the values it puts in force for the entry it corrects.
    effective: dict[str, Any] = field(default_factory=dict)
    #: For a problem-statement iteration, its number in the project's lineage.
    statement_version: int | None = None


class Project(Aggregate):
    """One council's work in one cohort."""

    class Started(Aggregate.Created):
        cohort_id: UUID
        council_code: str
        title: str
        actor: str

    class Withdrawn(Aggregate.Event):
        reason: str
        actor: str

        def apply(self, aggregate: Project) -> None:
            aggregate.withdrawn = True

    class EntryRecorded(Aggregate.Event):
        """Base of every entry kind: the fields every entry carries."""

        KIND: ClassVar[str] = ""
        FIELDS: ClassVar[Mapping[str, Field]] = {}

        entry_id: UUID
        decided_on: date
        actor: str

        def values(self) -> dict[str, Any]:
            return {name: getattr(self, name) for name in self.FIELDS}

        def apply(self, aggregate: Project) -> None:
            aggregate._add(self)

    class ProblemStatementIterated(EntryRecorded):
        KIND = "problem_statement_iterated"
        FIELDS = {
            "statement": Text(),
            "what_changed": Text(required=False),
            "why": Text(required=False),
        }
        statement: str
        what_changed: str
        why: str

    class CapacityDecided(EntryRecorded):
        KIND = "capacity_decided"
        FIELDS = {
            "capability": Text(max_length=500),
            "choice": Choice(choices=CapacityChoice),
            "rationale": Text(required=False),
            "alternatives_considered": Names(required=False),
            "partner": Text(required=False, max_length=500),
            "estimated_cost": Money(required=False),
            "decision_makers": Names(required=False),
            "consulted": Names(required=False),
            "informed": Names(required=False),
        }
        capability: str
        choice: str
        rationale: str
        alternatives_considered: list[str]
        partner: str
        estimated_cost: Any  # Decimal | None: exact pounds and pence
        decision_makers: list[str]
        consulted: list[str]
        informed: list[str]

    class SponsorCheckedIn(EntryRecorded):
        KIND = "sponsor_check_in"
        FIELDS = {
            "problem_statement": Text(required=False),
            "surprising_finding": Text(required=False),
            "need_segmentation": Choice(required=False, choices=NeedSegmentation),
            "team_health": Choice(choices=TeamHealth),
            "team_health_note": Text(required=False),
            "scope_of_implementation": Text(required=False),
            "decisions_ahead": Text(required=False),
            "member_engagement": Text(required=False),
        }
        problem_statement: str
        surprising_finding: str
        need_segmentation: str
        team_health: str
        team_health_note: str
        scope_of_implementation: str
        decisions_ahead: str
        member_engagement: str

    class CaseForChangeMade(EntryRecorded):
        KIND = "case_for_change"
        FIELDS = {
            "narrative_fit": Text(),
            "standard_of_proof": Text(required=False),
            "coalition": Text(required=False),
            "performance_regime": Text(required=False),
        }
        narrative_fit: str
        standard_of_proof: str
        coalition: str
        performance_regime: str

    class CapacityBuilt(EntryRecorded):
        KIND = "capacity_built"
        FIELDS = {
            "area": Choice(choices=CapacityArea),
            "what_was_done": Text(),
        }
        area: str
        what_was_done: str

    class WayOfWorkingChosen(EntryRecorded):
        KIND = "way_of_working_chosen"
        FIELDS = {
            "project_method": Choice(choices=ProjectMethod),
            "product_ownership": Text(required=False),
            "collaboration_tools": Names(required=False),
            "architecture": Choice(required=False, choices=Architecture),
        }
        project_method: str
        product_ownership: str
        collaboration_tools: list[str]
        architecture: str

    class StanceTaken(EntryRecorded):
        KIND = "stance_taken"
        FIELDS = {
            "topic": Choice(choices=StanceTopic),
            "position": Text(),
            "rationale": Text(required=False),
        }
        topic: str
        position: str
        rationale: str

    class PhaseChanged(EntryRecorded):
        KIND = "phase_changed"
        FIELDS = {
            "phase": Choice(choices=Phase),
            "reason": Text(required=False),
        }
        phase: str
        reason: str

    class MembersEngaged(EntryRecorded):
        KIND = "members_engaged"
        FIELDS = {
            "how": Text(),
            "response": Text(required=False),
            "members": Names(required=False),
        }
        how: str
        response: str
        members: list[str]

    class ConcernRaised(EntryRecorded):
        KIND = "concern_raised"
        FIELDS = {
            "category": Choice(choices=ConcernCategory),
            "description": Text(),
        }
        category: str
        description: str

    class ConcernResolved(EntryRecorded):
        KIND = "concern_resolved"
        FIELDS = {
            "concern_entry_id": Reference(),
            "resolution": Text(),
        }
        concern_entry_id: UUID
        resolution: str

    class SupportRequested(EntryRecorded):
        KIND = "support_requested"
        FIELDS = {
            "wish": Text(),
            "from_whom": Choice(choices=SupportSource),
        }
        wish: str
        from_whom: str

    class EntryCorrected(EntryRecorded):
        KIND = "entry_corrected"
        FIELDS = {
            "corrects": Reference(),
            "reason_kind": Choice(choices=CorrectionReason),
            "reason": Text(),
        }
        corrects: UUID
        reason_kind: str
        reason: str
        #: The corrected kind's fields that this correction replaces.
        replacement: dict[str, Any]

        def values(self) -> dict[str, Any]:
            return {**super().values(), "replacement": dict(self.replacement)}

    def __init__(self, cohort_id: UUID, council_code: str, title: str, actor: str) -> None:
        self.cohort_id = cohort_id
        self.council_code = council_code
        self.title = title
        self.started_by = actor
        self.withdrawn = False
        self.entries: dict[UUID, Entry] = {}
        self.phase: str | None = None
        self.phase_since: date | None = None
        self.phase_before_pause: str | None = None
        self.statement_count = 0

    # -- creating -----------------------------------------------------------

    @staticmethod
    def create_id(cohort_id: UUID, council_code: str) -> UUID:
        return uuid5(PROJECT_NAMESPACE, f"{cohort_id}/{council_code}")

    @classmethod
    def start(
        cls, *, cohort_id: UUID, council_code: str, title: str, actor: str, now: datetime
    ) -> Project:
        title = Text(max_length=300).clean("title", title)
        return cls._create(
            cls.Started,
            id=cls.create_id(cohort_id, council_code),
            timestamp=now,
            cohort_id=cohort_id,
            council_code=council_code,
            title=title,
            actor=actor,
        )

    # -- commands -----------------------------------------------------------

    def withdraw(self, *, reason: str, actor: str, now: datetime) -> None:
        if self.withdrawn:
            raise Conflict("the project has already withdrawn from its cohort")
        reason = Text().clean("reason", reason)
        self.trigger_event(self.Withdrawn, timestamp=now, reason=reason, actor=actor)

    def record(
        self,
        *,
        kind: str,
        entry_id: UUID,
        decided_on: date | None,
        actor: str,
        now: datetime,
        values: Mapping[str, Any],
    ) -> None:
        """Record one entry of the given kind, after checking every rule."""
        event_class = ENTRY_KINDS.get(kind)
        if event_class is None:
            raise InvalidValue("kind", f"must be one of: {', '.join(ENTRY_KINDS)}")
        if self.withdrawn:
            raise Conflict("the project has withdrawn from its cohort: nothing more is recorded")
        if entry_id in self.entries:
            raise Conflict(f"entry {entry_id} is already recorded")
        today = now.date()
        day = decided_on if decided_on is not None else today
        if day > today:
            raise InvalidValue("decided_on", f"must not be later than today ({today})")
        values = dict(values)
        extra: dict[str, Any] = {}
        if event_class is self.EntryCorrected:
            extra["replacement"] = self._check_correction(values, today)
        cleaned = clean_fields(event_class.FIELDS, values)
        if event_class is self.PhaseChanged:
            self._check_phase_change(cleaned["phase"], cleaned["reason"])
        elif event_class is self.ConcernResolved:
            self._check_concern_resolution(cleaned["concern_entry_id"])
        self.trigger_event(
            event_class,
            timestamp=now,
            entry_id=entry_id,
            decided_on=day,
            actor=actor,
            **cleaned,
            **extra,
        )

    # -- rules --------------------------------------------------------------

    def _check_correction(self, values: dict[str, Any], today: date) -> dict[str, Any]:
        corrects = Reference().clean("corrects", values.get("corrects"))
        target = self.entries.get(corrects)
        if target is None:
            raise InvalidValue("corrects", f"no entry {corrects} is recorded on this project")
        if target.superseded_by is not None:
            raise Conflict(
                f"entry {corrects} was already corrected by {target.superseded_by}: "
                "correct the latest version instead"
            )
        replacement = values.pop("replacement", None)
        if not isinstance(replacement, Mapping) or not replacement:
            raise InvalidValue("replacement", "must give at least one replacement value")
        kind = self.corrected_kind(target)
        replacement = dict(replacement)
        day = replacement.pop("decided_on", None)
        try:
            cleaned = clean_fields(ENTRY_KINDS[kind].FIELDS, replacement, partial=True)
        except InvalidValue as error:
            raise InvalidValue(f"replacement.{error.field}", error.message) from None
        if kind == "phase_changed" and "phase" in cleaned:
            raise InvalidValue(
                "replacement.phase", "a phase is changed by a new phase change, not a correction"
            )
        if day is not None:
            cleaned["decided_on"] = Day().clean("replacement.decided_on", day)
            if cleaned["decided_on"] > today:
                raise InvalidValue("replacement.decided_on", "must not be later than today")
        return cleaned

    def corrected_kind(self, entry: Entry) -> str:
        """The kind of the original entry at the root of a chain of corrections."""
        while entry.corrects is not None:
            entry = self.entries[entry.corrects]
        return entry.kind

    def _check_phase_change(self, phase: str, reason: str) -> None:
        new = Phase(phase)
        current = Phase(self.phase) if self.phase else None
        if current == new:
            raise Conflict(f"the project is already in {new.value}")
        if current in TERMINAL_PHASES:
            raise Conflict(f"the project has {current.value if current else ''}: no phase follows")
        if self._is_forward(current, new):
            return
        if not reason:
            raise InvalidValue("reason", "is required to go back, pause or stop")

    def _is_forward(self, current: Phase | None, new: Phase) -> bool:
        if new not in PHASE_ORDER:
            return False  # paused and stopped always need a reason
        if current is None:
            return True
        if current == Phase.PAUSED:
            resumed = Phase(self.phase_before_pause) if self.phase_before_pause else None
            return resumed is None or PHASE_ORDER.index(new) >= PHASE_ORDER.index(resumed)
        if current not in PHASE_ORDER:
            return False
        if new == Phase.RETIRED:
            return current == Phase.LIVE
        return PHASE_ORDER.index(new) > PHASE_ORDER.index(current)

    def _check_concern_resolution(self, concern_entry_id: UUID) -> None:
        concern = self.entries.get(concern_entry_id)
        if concern is None or concern.kind != "concern_raised":
            raise InvalidValue("concern_entry_id", "must name a concern raised on this project")
        if concern_entry_id not in self.open_concerns():
            raise Conflict(f"concern {concern_entry_id} is already resolved")

    # -- state --------------------------------------------------------------

    def _add(self, event: Project.EntryRecorded) -> None:
        values = event.values()
        entry = Entry(
            entry_id=event.entry_id,
            kind=event.KIND,
            decided_on=event.decided_on,
            recorded_at=event.timestamp,
            actor=event.actor,
            fields=values,
        )
        if isinstance(event, Project.ProblemStatementIterated):
            self.statement_count += 1
            entry.statement_version = self.statement_count
        elif isinstance(event, Project.PhaseChanged):
            if event.phase == Phase.PAUSED:
                self.phase_before_pause = self.phase
            self.phase = event.phase
            self.phase_since = event.decided_on
        elif isinstance(event, Project.EntryCorrected):
            target = self.entries[event.corrects]
            target.superseded_by = event.entry_id
            entry.corrects = event.corrects
            base = target.effective if target.corrects is not None else target.fields
            entry.effective = {**base, **event.replacement}
        self.entries[entry.entry_id] = entry

    def open_concerns(self) -> list[UUID]:
        resolved = {
            e.fields["concern_entry_id"]
            for e in self.entries.values()
            if e.kind == "concern_resolved"
        }
        return [
            e.entry_id
            for e in self.entries.values()
            if e.kind == "concern_raised" and e.entry_id not in resolved
        ]

    def current(self, entry_id: UUID) -> Entry:
        """The latest version of an entry, following corrections."""
        entry = self.entries[entry_id]
        while entry.superseded_by is not None:
            entry = self.entries[entry.superseded_by]
        return entry

    def statements(self) -> list[Entry]:
        return [e for e in self.entries.values() if e.statement_version is not None]

    def statement_text(self, version: int, field: str = "version") -> str:
        """The text of one iteration of the problem statement, as currently corrected."""
        for entry in self.statements():
            if entry.statement_version == version:
                latest = self.current(entry.entry_id)
                values = latest.effective if latest.corrects is not None else latest.fields
                return str(values["statement"])
        raise InvalidValue(field, f"there is no problem statement version {version}")

    def statement_diff(self, from_version: int, to_version: int) -> list[str]:
        """A unified line diff between two iterations of the problem statement."""
        before = self.statement_text(from_version, "from").splitlines()
        after = self.statement_text(to_version, "to").splitlines()
        return list(
            difflib.unified_diff(
                before, after, f"version {from_version}", f"version {to_version}", lineterm=""
            )
        )


ENTRY_KINDS: dict[str, type[Project.EntryRecorded]] = {
    cls.KIND: cls
    for cls in (
        Project.ProblemStatementIterated,
        Project.CapacityDecided,
        Project.SponsorCheckedIn,
        Project.CaseForChangeMade,
        Project.CapacityBuilt,
        Project.WayOfWorkingChosen,
        Project.StanceTaken,
        Project.PhaseChanged,
        Project.MembersEngaged,
        Project.ConcernRaised,
        Project.ConcernResolved,
        Project.SupportRequested,
        Project.EntryCorrected,
    )
}
