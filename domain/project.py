"""A council's project in one cohort, and every entry recorded against it.

Each entry kind is an event class made from its entry in the catalogue
(domain/entry_kinds.py), where its fields are declared once; the command
method ``record`` checks a client's values against them before the event is
triggered, so that replaying an event never fails.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, ClassVar, cast
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.entry_kinds import CATALOGUE, EARLIER_DECISION, LINKS, PUBLIC, EntryKind
from domain.errors import Conflict, DateTooEarly, DateTooLate, InvalidValue
from domain.fields import Day, Field, Reference, Replacement, Text, clean_fields
from domain.vocabulary import Phase

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
#: A support request answered so takes no further answer.
FINAL_SUPPORT_STATUSES = frozenset({"fulfilled", "declined"})
#: Kinds whose ``grant_entry_id`` names a grant awarded to the same project.
GRANT_REFERENCES = frozenset({"payment_made", "grant_closed"})
#: Kinds that change the project's partner councils; a correction keeps their council.
PARTNER_KINDS = frozenset({"partner_joined", "partner_left"})


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
    #: The person confirmed that a date before its cohort (or the version it replaces) is meant.
    earlier_decision_confirmed: bool = False
    #: Shown on the project's public page: recorded public, or made public later
    #: (an ``entry_made_public``); a correction is public only if it says so.
    public: bool = False


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
        """Base of every entry kind: the fields every entry carries.

        A kind's own fields are attributes of its event class, one per field of
        its catalogue entry (``SPEC``), in the catalogue's order.
        """

        KIND: ClassVar[str] = ""
        FIELDS: ClassVar[Mapping[str, Field]] = {}
        SPEC: ClassVar[EntryKind]

        entry_id: UUID
        decided_on: date
        actor: str

        if TYPE_CHECKING:  # a kind's own fields, as the catalogue declares them
            #: Last of every kind's fields, with a default (False): events recorded
            #: before it existed decode with it unset, as the class's False.
            earlier_decision_confirmed: bool
            #: Likewise every entry's, with defaults (none; False).
            links: list[dict[str, str]]
            public: bool

            def __getattr__(self, name: str) -> Any: ...

        def values(self) -> dict[str, Any]:
            """The kind's own fields, in the catalogue's order (mappings copied), and
            ``earlier_decision_confirmed`` where it was confirmed, ``links`` where any
            were given and ``public`` where the entry was recorded public."""
            found = {}
            for name in self.FIELDS:
                value = getattr(self, name)
                found[name] = dict(value) if isinstance(value, dict) else value
            if self.earlier_decision_confirmed:
                found["earlier_decision_confirmed"] = True
            if self.links:
                found["links"] = [dict(link) for link in self.links]
            if self.public:
                found["public"] = True
            return found

        def apply(self, aggregate: Project) -> None:
            aggregate._add(self)

    # Each kind's event class, ``Project.<EventName>``, is made from the catalogue
    # (domain/entry_kinds.py) by ``register_entry_kind`` below. These are the ones
    # the rules here and the read models name.
    if TYPE_CHECKING:
        ProblemStatementIterated: ClassVar[type[EntryRecorded]]
        CapacityDecided: ClassVar[type[EntryRecorded]]
        SponsorCheckedIn: ClassVar[type[EntryRecorded]]
        PhaseChanged: ClassVar[type[EntryRecorded]]
        ConcernResolved: ClassVar[type[EntryRecorded]]
        SupportAnswered: ClassVar[type[EntryRecorded]]
        BenefitMeasured: ClassVar[type[EntryRecorded]]
        BenefitClosed: ClassVar[type[EntryRecorded]]
        EntryCorrected: ClassVar[type[EntryRecorded]]
        EntryMadePublic: ClassVar[type[EntryRecorded]]
        PartnerJoined: ClassVar[type[EntryRecorded]]
        PartnerLeft: ClassVar[type[EntryRecorded]]

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
        #: The partner councils in force (codes): joined and not left since.
        self.partners: set[str] = set()

    # -- creating -----------------------------------------------------------

    @staticmethod
    def create_id(cohort_id: UUID, council_code: str, title: str | None = None) -> UUID:
        """The id of the project a council was enrolled with (no ``title``), or of another
        project it started in the cohort under that title: the same start gives the same id."""
        if title is None:
            return uuid5(PROJECT_NAMESPACE, f"{cohort_id}/{council_code}")
        return uuid5(PROJECT_NAMESPACE, f"{cohort_id}/{council_code}/{title}")

    @staticmethod
    def clean_title(title: Any) -> str:
        return str(Text(max_length=300).clean("title", title))

    @classmethod
    def start(
        cls,
        *,
        cohort_id: UUID,
        council_code: str,
        title: str,
        actor: str,
        now: datetime,
        project_id: UUID | None = None,
    ) -> Project:
        """A project led by ``council_code``; ``project_id`` defaults to the id of the
        project the council is enrolled with."""
        title = cls.clean_title(title)
        return cls._create(
            cls.Started,
            id=project_id or cls.create_id(cohort_id, council_code),
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
        cohort_starts_on: date | None = None,
        publishing_allowed: bool = False,
    ) -> None:
        """Record one entry of the given kind, after checking every rule.

        ``values`` may carry ``earlier_decision_confirmed``: without it, a
        ``decided_on`` before ``cohort_starts_on`` (or, for a problem statement,
        before the version it replaces) is refused. They may carry ``links`` and
        ``public``; an entry is public (or made public) only where
        ``publishing_allowed`` (the programme allows it).
        """
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
            raise DateTooLate("decided_on", f"must not be later than today ({today})", today)
        given = dict(values)
        confirmed = EARLIER_DECISION.clean(
            "earlier_decision_confirmed", given.pop("earlier_decision_confirmed", None)
        )
        if not confirmed:
            self._check_not_earlier(event_class, day, cohort_starts_on)
        links = LINKS.clean("links", given.pop("links", None))
        public = PUBLIC.clean("public", given.pop("public", None))
        if public and not publishing_allowed:
            raise InvalidValue("public", "cannot be true: the programme does not allow publishing")
        replacement = None
        if event_class is self.EntryCorrected:
            replacement = self._check_correction(given, today)
            if not confirmed and "decided_on" in replacement:
                self._check_corrected_date(given, replacement["decided_on"], cohort_starts_on)
        cleaned = clean_fields(event_class.FIELDS, given)
        if replacement is not None:
            cleaned["replacement"] = replacement
        if event_class is self.PhaseChanged:
            self._check_phase_change(cleaned["phase"], cleaned["reason"])
        elif event_class is self.ConcernResolved:
            self._check_concern_resolution(cleaned["concern_entry_id"])
        elif event_class is self.SupportAnswered:
            self._check_support_answer(cleaned["request_entry_id"], cleaned["status"], cleaned)
        elif kind in GRANT_REFERENCES:
            self._check_grant(cleaned["grant_entry_id"], "grant_entry_id")
            if kind == "grant_closed" and cleaned["grant_entry_id"] in self.closed_grants():
                raise Conflict(f"grant {cleaned['grant_entry_id']} is already closed")
        elif event_class is self.BenefitMeasured:
            self._check_benefit("benefit_entry_id", cleaned["benefit_entry_id"])
        elif event_class is self.BenefitClosed:
            self._check_benefit("benefit_entry_id", cleaned["benefit_entry_id"])
            if cleaned["benefit_entry_id"] in self.closed_benefits():
                raise Conflict(f"benefit {cleaned['benefit_entry_id']} is already closed")
        elif event_class is self.EntryMadePublic:
            self._check_made_public(cleaned["made_public_entry_id"], publishing_allowed)
        elif event_class is self.CapacityDecided:
            check_shared_with(cleaned)
        elif event_class is self.PartnerJoined or event_class is self.PartnerLeft:
            self._check_partner_change(kind, cleaned["council_code"])
        self.trigger_event(
            event_class,
            timestamp=now,
            entry_id=entry_id,
            decided_on=day,
            actor=actor,
            **cleaned,
            earlier_decision_confirmed=confirmed,
            links=links,
            public=public,
        )

    # -- rules --------------------------------------------------------------

    def _check_not_earlier(
        self, event_class: type[EntryRecorded], day: date, cohort_starts_on: date | None
    ) -> None:
        """A date before the cohort started, or before the version a problem statement
        replaces, is more likely mistyped than meant: it needs the person's confirmation."""
        replaced = None
        if event_class is self.ProblemStatementIterated and self.statements():
            replaced = self.statements()[-1]
        self._check_day("decided_on", day, cohort_starts_on, replaced)

    def _check_corrected_date(
        self, values: Mapping[str, Any], day: date, cohort_starts_on: date | None
    ) -> None:
        """A correction that moves an entry's date decided is held to the rule the entry
        was recorded under: not before the cohort started, nor (a problem statement)
        before the version it replaces, unless the person confirms it is meant."""
        target = self.entries[Reference().clean("corrects", values.get("corrects"))]
        while target.corrects is not None:
            target = self.entries[target.corrects]
        replaced = None
        if target.statement_version is not None and target.statement_version > 1:
            replaced = self.statements()[target.statement_version - 2]
        self._check_day("replacement.decided_on", day, cohort_starts_on, replaced)

    def _check_day(
        self, field: str, day: date, cohort_starts_on: date | None, replaced: Entry | None
    ) -> None:
        """``day`` is not before the cohort's start, nor before the date in force of the
        problem statement ``replaced``, or it is refused on ``field``."""
        limits: list[tuple[date, str]] = []
        if cohort_starts_on is not None:
            limits.append((cohort_starts_on, "the cohort started"))
        if replaced is not None:
            latest = self.current(replaced.entry_id)
            values = latest.effective if latest.corrects is not None else {}
            replaced_on = values.get("decided_on") or replaced.decided_on
            limits.append((replaced_on, "the version it replaces was decided"))
        for earliest, because in limits:
            if day < earliest:
                raise DateTooEarly(
                    field,
                    f"is before {because} ({earliest.isoformat()}): if you are recording an "
                    "earlier decision, send earlier_decision_confirmed: true",
                    earliest,
                    because,
                )

    def _check_correction(self, values: Mapping[str, Any], today: date) -> dict[str, Any]:
        """The replacement values, checked against the corrected entry's own kind."""
        corrects = Reference().clean("corrects", values.get("corrects"))
        target = self.entries.get(corrects)
        if target is None:
            raise InvalidValue("corrects", f"no entry {corrects} is recorded on this project")
        if target.superseded_by is not None:
            raise Conflict(
                f"entry {corrects} was already corrected by {target.superseded_by}: "
                "correct the latest version instead"
            )
        replacement = Replacement().clean("replacement", values.get("replacement"))
        kind = self.corrected_kind(target)
        if kind == "entry_made_public":
            raise InvalidValue(
                "corrects",
                "an entry made public is not corrected: correct the entry it made public "
                "(without public) to take it off the public page",
            )
        day = replacement.pop("decided_on", None)
        if "public" in replacement:
            raise InvalidValue(
                "replacement.public", "a correction is public by its own public, not a replacement"
            )
        links = replacement.pop("links", None)
        try:
            cleaned = clean_fields(ENTRY_KINDS[kind].FIELDS, replacement, partial=True)
            if "links" in values.get("replacement", {}):
                cleaned["links"] = LINKS.clean("links", links)
        except InvalidValue as error:
            raise InvalidValue(f"replacement.{error.field}", error.message) from None
        if kind in GRANT_REFERENCES and "grant_entry_id" in cleaned:
            self._check_grant(cleaned["grant_entry_id"], "replacement.grant_entry_id")
        if kind == "capacity_decided":
            base = target.effective if target.corrects is not None else target.fields
            try:
                check_shared_with(checked := {**base, **cleaned})
                if "shared_with" in cleaned:
                    cleaned["shared_with"] = checked["shared_with"]
            except InvalidValue as error:
                raise InvalidValue(f"replacement.{error.field}", error.message) from None
        if kind in PARTNER_KINDS and "council_code" in cleaned:
            raise InvalidValue(
                "replacement.council_code",
                "a partner is changed by a new partner joined or left, not a correction",
            )
        if kind == "phase_changed" and "phase" in cleaned:
            raise InvalidValue(
                "replacement.phase", "a phase is changed by a new phase change, not a correction"
            )
        if "benefit_entry_id" in cleaned:
            self._check_benefit("replacement.benefit_entry_id", cleaned["benefit_entry_id"])
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
        if not self._is_forward(current, new):
            if not reason:
                raise InvalidValue("reason", "is required to go back, pause or stop")
            return
        failed = self._failed_assessment_passed(current, new)
        if failed is not None and not reason:
            raise InvalidValue(
                "reason",
                f"is required to move past {failed.replace('_', ' ')}: its latest "
                "assessment was not met",
            )

    def _failed_assessment_passed(self, current: Phase | None, new: Phase) -> str | None:
        """The assessed phase this forward move goes past whose latest assessment was not
        met (None if there is none): from at or before that phase to after it."""
        at = current
        if current == Phase.PAUSED:
            at = Phase(self.phase_before_pause) if self.phase_before_pause else None
        start = PHASE_ORDER.index(at) if at in PHASE_ORDER else -1
        end = PHASE_ORDER.index(new)
        for phase, assessment in self.latest_assessments().items():
            index = PHASE_ORDER.index(Phase(phase))
            if assessment["result"] == "not_met" and start <= index < end:
                return phase
        return None

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

    def _check_partner_change(self, kind: str, council_code: str) -> None:
        """A council joins once, never the lead council, and leaves only as a partner."""
        if kind == "partner_joined":
            if council_code == self.council_code:
                raise InvalidValue("council_code", "names the project's lead council")
            if council_code in self.partners:
                raise InvalidValue("council_code", f"{council_code} is a partner already")
        elif council_code not in self.partners:
            raise InvalidValue("council_code", f"{council_code} is not a partner of the project")

    def _check_benefit(self, field: str, benefit_entry_id: UUID) -> None:
        benefit = self.entries.get(benefit_entry_id)
        if benefit is None or benefit.kind != "benefit_defined":
            raise InvalidValue(field, "must name a benefit defined on this project")

    def _check_concern_resolution(self, concern_entry_id: UUID) -> None:
        concern = self.entries.get(concern_entry_id)
        if concern is None or concern.kind != "concern_raised":
            raise InvalidValue("concern_entry_id", "must name a concern raised on this project")
        if concern_entry_id not in self.open_concerns():
            raise Conflict(f"concern {concern_entry_id} is already resolved")

    def _check_support_answer(
        self, request_entry_id: UUID, status: str, values: Mapping[str, Any]
    ) -> None:
        request = self.entries.get(request_entry_id)
        if request is None or request.kind != "support_requested":
            raise InvalidValue(
                "request_entry_id", "must name a support request recorded on this project"
            )
        if status in ("offered", "declined") and not values.get("detail"):
            why = "what is offered, and by whom" if status == "offered" else "the reason"
            raise InvalidValue("detail", f"is required when the answer is {status}: give {why}")
        answered = self.support_status(request_entry_id)
        if answered in FINAL_SUPPORT_STATUSES:
            raise Conflict(f"support request {request_entry_id} was already {answered}")

    def support_status(self, request_entry_id: UUID) -> str | None:
        """The latest answer's status to a support request (None if unanswered)."""
        status = None
        for entry in self.entries.values():
            if (
                entry.kind == "support_answered"
                and entry.fields["request_entry_id"] == request_entry_id
            ):
                status = entry.fields["status"]
        return status

    def _check_grant(self, grant_entry_id: UUID, field: str) -> None:
        grant = self.entries.get(grant_entry_id)
        if grant is None or grant.kind != "grant_awarded":
            raise InvalidValue(field, "must name a grant awarded to this project")

    def _check_made_public(self, entry_id: UUID, publishing_allowed: bool) -> None:
        entry = self.entries.get(entry_id)
        if entry is None or self.corrected_kind(entry) == "entry_made_public":
            raise InvalidValue("made_public_entry_id", "must name an entry of this project")
        if not publishing_allowed:
            raise Conflict("the programme does not allow publishing")
        if self.is_public(entry_id):
            raise Conflict(f"entry {entry_id} is public already")

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
            earlier_decision_confirmed=event.earlier_decision_confirmed,
            public=event.public,
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
        elif isinstance(event, Project.EntryMadePublic):
            self.current(event.made_public_entry_id).public = True
        elif isinstance(event, Project.PartnerJoined):
            self.partners.add(event.council_code)
        elif isinstance(event, Project.PartnerLeft):
            self.partners.discard(event.council_code)
        self.entries[entry.entry_id] = entry

    def is_public(self, entry_id: UUID) -> bool:
        """Whether the entry's latest version shows on the project's public page."""
        return self.current(entry_id).public

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

    def grants(self) -> list[Entry]:
        """The grants awarded to the project, as first recorded, in the order recorded."""
        return [e for e in self.entries.values() if e.kind == "grant_awarded"]

    def closed_grants(self) -> set[UUID]:
        return {
            e.fields["grant_entry_id"] for e in self.entries.values() if e.kind == "grant_closed"
        }

    def in_force(self, entry: Entry) -> dict[str, Any]:
        """An entry's values in force (after its corrections), with its ``decided_on``."""
        latest = self.current(entry.entry_id)
        values = latest.effective if latest.corrects is not None else latest.fields
        return {"decided_on": entry.decided_on, **values}

    def closed_benefits(self) -> set[UUID]:
        return {
            self.in_force(e)["benefit_entry_id"]
            for e in self.entries.values()
            if e.kind == "benefit_closed"
        }

    def latest_assessments(self) -> dict[str, dict[str, Any]]:
        """Each assessed phase's latest assessment (by date decided, then as recorded),
        by its values in force."""
        latest: dict[str, dict[str, Any]] = {}
        for entry in self.entries.values():
            if entry.kind == "assessment_held":
                values = self.in_force(entry)
                found = latest.get(values["phase"])
                if found is None or values["decided_on"] >= found["decided_on"]:
                    latest[values["phase"]] = values
        return latest

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


def check_shared_with(values: dict[str, Any]) -> None:
    """Only a ``share`` decision names the councils it is shared with (their codes,
    kept in capitals as councils' codes are, each once)."""
    if values.get("shared_with"):
        values["shared_with"] = list(dict.fromkeys(c.upper() for c in values["shared_with"]))
        if values.get("choice") != "share":
            raise InvalidValue("shared_with", "names councils only where the choice is share")


#: Every kind of entry the record takes, by its ``kind``: the catalogue's, in its order.
ENTRY_KINDS: dict[str, type[Project.EntryRecorded]] = {}
#: Event classes made so far, by name, with the declaration each was made from: a
#: kind registered again as it was gets the same class (its topic resolves to it).
_MADE: dict[str, tuple[EntryKind, type[Project.EntryRecorded]]] = {}


def register_entry_kind(spec: EntryKind) -> type[Project.EntryRecorded]:
    """Take a kind of entry from now on: make its event class ``Project.<EventName>``.

    Its topic is ``domain.project:Project.<EventName>``, so its events decode
    wherever the kind is registered. Register before the application is built.
    """
    problems = spec.problems()
    if spec.kind in ENTRY_KINDS:
        problems.append(f"{spec.kind} is registered already")
    if spec.event_name in vars(Project):
        problems.append(f"Project.{spec.event_name} is taken")
    made = _MADE.get(spec.event_name)
    if made is not None and made[0] != spec:
        # Its topic may already resolve to the class made first, in this process.
        problems.append(f"Project.{spec.event_name} was made from another declaration")
    if problems:
        raise ValueError("; ".join(problems))
    if made is not None:
        event_class = made[1]
    else:
        namespace = {
            "__module__": __name__,
            "__qualname__": f"Project.{spec.event_name}",
            "__doc__": spec.hint,
            "__annotations__": {
                **{name: f.value_type for name, f in spec.fields.items()},
                "earlier_decision_confirmed": bool,
                "links": list[dict[str, str]],
                "public": bool,
            },
            "earlier_decision_confirmed": False,
            "links": (),
            "public": False,
            "KIND": spec.kind,
            "FIELDS": dict(spec.fields),
            "SPEC": spec,
        }
        made_class = type(spec.event_name, (Project.EntryRecorded,), namespace)
        event_class = cast(type[Project.EntryRecorded], made_class)
        _MADE[spec.event_name] = (spec, event_class)
    setattr(Project, spec.event_name, event_class)
    ENTRY_KINDS[spec.kind] = event_class
    return event_class


def unregister_entry_kind(kind: str) -> None:
    """Take no more entries of a kind (for kinds registered by a test)."""
    event_class = ENTRY_KINDS.pop(kind)
    delattr(Project, event_class.SPEC.event_name)


for _spec in CATALOGUE:
    register_entry_kind(_spec)
