"""Questions about the record, answered from the read models: one query service.

Callers pass plain values (ids, dates, instants, filters, cursors as text) and
get plain dicts and lists back, ready for JSON. Pages and reads of the current
state come from the read models; an aggregate is loaded only where the read
models cannot answer: a past state (``as_of``) of a project, and a record
written so recently that the read models have not caught up with it (they are
waited for, briefly, first).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.capabilities import SLUG_PATTERN
from domain.cohort import Cohort
from domain.council import Council
from domain.errors import InvalidValue, NotFound
from domain.programme import Programme
from domain.project import ENTRY_KINDS, Entry, Project
from domain.segments import segment_for
from domain.vocabulary import OutputKind, Phase
from projections.database import Database
from projections.projector import Projector
from projections.queries import (
    GROUPINGS,
    AuditQuery,
    BadCursor,
    ComparisonQuery,
    DatabaseUnavailable,
    FundingQuery,
    SearchQuery,
    TimelineQuery,
    attendance_by_council,
    audit_log,
    capability_decisions,
    cohort_record,
    cohorts_of_programmes_or_councils,
    comparison,
    corrections_at,
    council_record,
    councils_enrolled,
    find_cohort,
    find_council,
    find_output,
    find_programme,
    find_project,
    first_enrolled,
    first_entry_recorded,
    first_recorded,
    funding,
    group,
    in_words,
    instant,
    latest_assessments,
    list_capabilities,
    list_cohorts,
    list_councils,
    list_outputs,
    list_programmes,
    list_projects,
    list_projects_of_councils,
    medians,
    names_of,
    outcomes_of,
    outputs_of_council,
    outputs_of_project,
    partners_of,
    pounds,
    programme_record,
    programmes_of_council,
    project_entries,
    project_history,
    project_outcomes,
    projects_partnered_by,
    public_entries,
    public_project,
    search,
    sessions_of_cohort,
    sessions_of_council,
    share_decisions,
    support_requests,
    timeline,
    totals,
)
from services import giving360
from services.access import Principal, sees_everything
from services.ledger import waymark_topics
from services.records import DecisionRecords
from services.settings import Settings
from services.waiting import WaitingReads

#: Seconds a read of the current state waits for the read models to hold everything
#: recorded before it reads the record itself instead: a running worker applies a
#: write within milliseconds, and one that is down costs a reader no more than this.
CATCH_UP_WAIT = 0.5
#: A page of rows and the cursor of the next page (None on the last page).
Page = tuple[list[dict[str, Any]], str | None]


@dataclass(frozen=True)
class Freshness:
    """How far the read models had got when a query was answered."""

    position: int
    lag: int
    waited_for: int | None
    reached: bool


class Queries:
    """Every question the pages and the API ask of the record."""

    def __init__(
        self,
        records: DecisionRecords,
        database: Database,
        projector: Projector,
        settings: Settings,
    ) -> None:
        self.records = records
        self.database = database
        self.projector = projector
        self.settings = settings
        self.waiting_reads = WaitingReads(settings.max_waiting_reads)

    # -- how fresh ------------------------------------------------------------------

    def fresh(self, wait_for: int | None) -> Freshness:
        """Wait (bounded) until the read models reach ``wait_for``; say how far they are.

        A position beyond the log's head is refused at once: no wait can reach it.
        Reads that must wait take one of ``max_waiting_reads`` slots, or are refused.
        """
        reached = True
        if wait_for is not None:
            head = self.projector.log.head()
            if wait_for > head:
                raise InvalidValue(
                    "wait_for", f"is beyond the log's head ({head}): no write has that position"
                )
            reached = self.projector.wait_for(wait_for, 0)
            if not reached:
                with self.waiting_reads.slot():
                    reached = self.projector.wait_for(wait_for, self.settings.read_wait_timeout)
        head = self.projector.log.head()
        position = min(self.projector.positions().values(), default=0)
        return Freshness(
            position=position, lag=max(0, head - position), waited_for=wait_for, reached=reached
        )

    def today(self) -> date:
        return self.records.now().date()

    def programmes_enrolling(self, council_code: str) -> frozenset[UUID]:
        """The programmes the council is enrolled in, counting every write so far.

        Read from the directory once it has caught up with the log's head (bounded
        by the read wait timeout), so that a council enrolled a moment ago counts.
        """
        self.projector.wait_for(self.projector.log.head(), self.settings.read_wait_timeout)
        return frozenset(UUID(p) for p in programmes_of_council(self.database, council_code))

    def _caught_up(self) -> bool:
        """Wait, briefly, until the read models hold everything recorded so far."""
        wait = min(CATCH_UP_WAIT, self.settings.read_wait_timeout)
        return self.projector.wait_for(self.projector.log.head(), wait)

    def _directory_lags(self) -> bool:
        return self.projector.positions().get("directory", 0) < self.projector.log.head()

    # -- programmes, cohorts, councils and projects by name ---------------------------

    def programmes(self) -> list[dict[str, Any]]:
        return list_programmes(self.database)

    def programme(self, programme_id: UUID) -> dict[str, Any]:
        """A programme's name and description (for a page's header)."""
        found = find_programme(self.database, str(programme_id))
        if found is not None:
            return found
        p = self.records.get_programme(programme_id)  # launched moments ago
        return _programme_row(p)

    def programme_record(self, programme_id: UUID) -> dict[str, Any]:
        """A programme as it stands, whole (``version`` included), as the API shows it:
        from the directory once it holds every write so far (waited for briefly), else
        from the programme itself."""
        if self._caught_up():
            found = programme_record(self.database, str(programme_id))
            if found is not None:
                return _stored_programme(found)
        return programme_view(self.records.get_programme(programme_id))

    def cohorts_of(self, programme_id: UUID) -> list[dict[str, Any]]:
        return list_cohorts(self.database, str(programme_id))

    def cohort(self, cohort_id: UUID) -> dict[str, Any]:
        """A cohort's name, programme, dates and whether it is closed (for a page's header)."""
        found = find_cohort(self.database, str(cohort_id))
        if found is not None:
            return {**found, "closed": bool(found["closed"])}
        return _cohort_row(self.records.get_cohort(cohort_id))

    def cohort_record(self, cohort_id: UUID) -> dict[str, Any]:
        """A cohort as it stands, whole (``version`` included), as the API shows it: from
        the directory once it holds every write so far, else from the cohort itself."""
        if self._caught_up():
            found = cohort_record(self.database, str(cohort_id))
            if found is not None:
                return _stored_cohort(found)
        return cohort_view(self.records.get_cohort(cohort_id))

    def councils(self) -> list[dict[str, Any]]:
        return list_councils(self.database)

    def find_councils(self, typed: str) -> list[dict[str, Any]]:
        """Councils whose name or code holds every word typed, in any case (none when
        nothing is typed); read once the directory holds every write so far, so a council
        registered a moment ago is found."""
        words = typed.casefold().split()
        if not words:
            return []
        self._caught_up()
        return [
            c
            for c in list_councils(self.database)
            if all(w in f"{c['name']} {c['code']}".casefold() for w in words)
        ]

    def council(self, code: str) -> dict[str, Any]:
        """A council's name and profile (for a page's header)."""
        code = Council.check_code(code)
        found = find_council(self.database, code)
        if found is not None:
            return found
        return _council_row(self.records.get_council(code))

    def council_record(self, code: str) -> dict[str, Any]:
        """A council as it stands, whole: its profile, every assessment in full, and its
        ``version``, as the API shows it; from the directory once it holds every write so
        far, else from the council itself."""
        code = Council.check_code(code)
        if self._caught_up():
            found = council_record(self.database, code)
            if found is not None:
                return _stored_council(found)
        return council_view(self.records.get_council(code))

    def projects_of(self, cohort_id: UUID) -> list[dict[str, Any]]:
        """The cohort's projects, each with its lead council and its partners in force."""
        rows = list_projects(self.database, str(cohort_id))
        partners = partners_of(self.database, [r["project_id"] for r in rows])
        return [
            {
                **r,
                "lead_council_code": r["council_code"],
                "partner_council_codes": partners.get(r["project_id"], []),
            }
            for r in rows
        ]

    def projects_of_councils(self, council_codes: set[str]) -> list[dict[str, Any]]:
        """The projects the councils take part in (``role``: lead or partner; the council
        taking part is ``member_code``), in every cohort, with the cohort's and
        programme's names, the latest cohort first (a participant's start, a council's
        page); read once the directory holds every write so far (waited for briefly),
        so that a project started or joined a moment ago is listed."""
        if council_codes:
            self._caught_up()
        rows = list_projects_of_councils(self.database, sorted(council_codes))
        return [{**r, "withdrawn": bool(r["withdrawn"]), "closed": bool(r["closed"])} for r in rows]

    # -- facts the access rules need ---------------------------------------------------

    def cohort_programme(self, cohort_id: UUID) -> UUID:
        """The programme a cohort belongs to (never changes)."""
        found = find_cohort(self.database, str(cohort_id))
        if found is not None:
            return UUID(found["programme_id"])
        return self.records.get_cohort(cohort_id).programme_id

    def enrolled(self, cohort_id: UUID, council_codes: frozenset[str]) -> frozenset[str]:
        """Which of ``council_codes`` are (or were) enrolled in the cohort.

        An enrolment is never undone, so what the directory holds is right; one it
        does not hold yet is looked for in the cohort itself while the directory lags.
        """
        lagging = self._directory_lags()  # asked first: it may catch up during the query
        found = councils_enrolled(self.database, str(cohort_id), sorted(council_codes))
        if len(found) == len(council_codes) or not lagging:
            return frozenset(found)
        return council_codes & frozenset(self.records.get_cohort(cohort_id).projects)

    def project_origin(self, project_id: UUID) -> tuple[UUID, str]:
        """The cohort and council a project was started for (never changes)."""
        found = find_project(self.database, str(project_id))
        if found is not None:
            return UUID(found["cohort_id"]), found["council_code"]
        return self.records.project_origin(project_id)

    def project_partners(self, project_id: UUID) -> frozenset[str]:
        """The project's partner councils in force now.

        A partner may leave, so the directory's answer is taken only once it holds
        every write so far; while it lags, the project itself is asked.
        """
        lagging = self._directory_lags()  # asked first: it may catch up during the query
        if not lagging:
            found = partners_of(self.database, [str(project_id)])
            return frozenset(found.get(str(project_id), ()))
        return self.records.project_partners(project_id)

    # -- a project -------------------------------------------------------------------------

    def project(self, project_id: UUID, as_of: datetime | None = None) -> dict[str, Any]:
        """A project's state and every entry, as it stands now (from the read models) or
        stood at the instant ``as_of`` (from its events)."""
        if as_of is not None:
            return project_view(self.records.get_project(project_id, as_of=as_of))
        if self._caught_up():
            found = self._project_now(str(project_id))
            if found is not None:
                return found
        return project_view(self.records.get_project(project_id))

    def _project_now(self, project_id: str) -> dict[str, Any] | None:
        """The project from the directory and its history; None if they do not agree
        (one of them is being rebuilt) or do not hold it."""
        row = find_project(self.database, project_id)
        if row is None:
            return None
        entries = project_entries(self.database, project_id)
        # Every event of a project after its start is an entry, or its withdrawal.
        if row["version"] != 1 + len(entries) + int(row["withdrawn"]):
            return None
        phases = [e for e in entries if e["kind"] == "phase_changed"]
        resolved = {
            e["values"]["concern_entry_id"] for e in entries if e["kind"] == "concern_resolved"
        }
        return {
            "project_id": row["project_id"],
            "cohort_id": row["cohort_id"],
            "council_code": row["council_code"],
            "lead_council_code": row["council_code"],
            "partner_council_codes": partners_of(self.database, [project_id]).get(project_id, []),
            "title": row["title"],
            "phase": phases[-1]["values"]["phase"] if phases else None,
            "withdrawn": bool(row["withdrawn"]),
            "phase_since": phases[-1]["decided_on"] if phases else None,
            "open_concerns": [
                e["entry_id"]
                for e in entries
                if e["kind"] == "concern_raised" and e["entry_id"] not in resolved
            ],
            "problem_statements": [
                {"version": e["statement_version"], "entry_id": e["entry_id"]}
                for e in entries
                if e["statement_version"] is not None
            ],
            "as_of": row["modified_at"],
            "version": row["version"],
            "entries": [_stored_entry(e) for e in sorted(entries, key=_recorded_at)],
            "funding": self._funding_totals(project_id),
        }

    def _funding_totals(self, project_id: str) -> dict[str, str]:
        found = funding(self.database, FundingQuery(project_ids=(project_id,)))
        none = totals([])
        return {k: found[0][k] for k in none} if found else none

    def history(self, project_id: UUID, as_of: datetime | None = None) -> dict[str, Any]:
        """Every entry of a project, from the read model (not a replay of the project)."""
        found = project_history(self.database, str(project_id), _instant(as_of))
        if found is None:
            raise NotFound("project", project_id)
        return found

    def shares_of(self, council_code: str) -> list[dict[str, Any]]:
        """What a council shares, and with whom, both ways: its own share decisions
        (each council or organisation it names) and other councils' decisions naming
        it. Each is ``{capability, council_code, council_name, partner_code,
        partner_name, entry_id, project_id}``: ``council`` decided, ``partner`` is
        shared with (``partner_code`` None for an organisation named in words)."""
        self._caught_up()
        names = {c["code"]: c["name"] for c in list_councils(self.database)}
        found = []
        for d in share_decisions(self.database):
            decided = d["council_code"] == council_code
            if not decided and council_code not in d["shared_with"]:
                continue
            base = {
                "capability": d["capability"],
                "council_code": d["council_code"],
                "council_name": d["council_name"] or names.get(d["council_code"]),
                "entry_id": d["entry_id"],
                "project_id": d["project_id"],
                "cohort_id": d["cohort_id"],
            }
            partners = d["shared_with"] if decided else [council_code]
            for code in partners:
                found.append({**base, "partner_code": code, "partner_name": names.get(code, code)})
            if decided and d["partner"]:
                found.append({**base, "partner_code": None, "partner_name": d["partner"]})
        return found

    def open_project(self, project_id: UUID) -> dict[str, Any]:
        """A project's open page: its council, title, phase and only its public entries
        (``entries``), its public outputs apart (``outputs``).

        ``NotFound`` unless the project's programme allows publishing now (so a
        programme that stops allowing it takes every one of its pages down).
        """
        self._caught_up()
        found = public_project(self.database, str(project_id))
        cohort = find_cohort(self.database, found["cohort_id"]) if found else None
        programme = find_programme(self.database, cohort["programme_id"]) if cohort else None
        if found is None or programme is None or not programme["publishing_allowed"]:
            raise NotFound("public project page", project_id)
        found["programme_name"] = programme["name"]
        # What it produced, public, for others to reuse: shown on their own, not as decisions
        found["outputs"] = [e for e in found["entries"] if e["kind"] == "output_published"]
        found["entries"] = [e for e in found["entries"] if e["kind"] != "output_published"]
        return found

    def public_entry_ids(self, project_id: UUID) -> frozenset[str]:
        """The entries shown on the project's open page now (each as its first version's
        id), read once the read models hold every write so far."""
        self._caught_up()
        return frozenset(e["entry_id"] for e in public_entries(self.database, str(project_id)))

    # -- the cohort timeline, comparisons, audit and search -------------------------------

    def timeline(
        self,
        cohort_id: UUID,
        *,
        kind: str | None = None,
        council: str | None = None,
        phase: str | None = None,
        since: date | None = None,
        until: date | None = None,
        as_of: datetime | None = None,
        order: str = "recorded_at",
        cursor: str | None = None,
        limit: int = 50,
    ) -> Page:
        """The cohort's entries, newest first (by ``order``), a page at a time."""
        if find_cohort(self.database, str(cohort_id)) is None:
            self.records.check_cohort(cohort_id)  # formed moments ago, or not at all
        if kind is not None and kind not in ENTRY_KINDS:
            raise InvalidValue("kind", f"must be one of: {', '.join(ENTRY_KINDS)}")
        if phase is not None and phase not in set(Phase):
            raise InvalidValue("phase", f"must be one of: {', '.join(Phase)}")
        query = TimelineQuery(
            cohort_id=str(cohort_id),
            kind=kind,
            council=council.upper() if council else None,
            phase=phase,
            since=since.isoformat() if since else None,
            until=until.isoformat() if until else None,
            as_of=_instant(as_of),
            order=order,
            cursor=cursor,
            limit=limit,
        )
        with _cursor_checked():
            return timeline(self.database, query)

    def first_recorded(self, cohort_id: UUID) -> date | None:
        """The day the cohort's first entry was recorded (None if none is yet)."""
        found = first_entry_recorded(self.database, str(cohort_id))
        return date.fromisoformat(found[:10]) if found else None

    def first_enrolled(self, cohort_id: UUID) -> date | None:
        """The day the cohort's first council was enrolled (None if none is yet)."""
        found = first_enrolled(self.database, str(cohort_id))
        return date.fromisoformat(found[:10]) if found else None

    def first_change(self) -> date | None:
        """The day the first change to the record was recorded (None if none is yet)."""
        found = first_recorded(self.database)
        return date.fromisoformat(found[:10]) if found else None

    def comparison_of_cohort(
        self,
        cohort_id: UUID,
        *,
        as_of: datetime | None = None,
        week: int | None = None,
        today: date | None = None,
        follow_successors: bool = False,
        attendance: bool = True,
    ) -> list[dict[str, Any]]:
        """One row per project of the cohort, as it stands (or stood ``as_of``); with
        ``attendance``, each council's attendance at the cohort's sessions."""
        if find_cohort(self.database, str(cohort_id)) is None:
            self.records.check_cohort(cohort_id)
        rows = comparison(
            self.database,
            self._comparison_query(
                as_of, week, today, follow_successors, cohort_ids=(str(cohort_id),)
            ),
        )
        rows = self._with_assessments(self._with_funding(rows, as_of), as_of, week)
        return self._with_attendance(rows, as_of) if attendance else rows

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
        self.programme(programme_id)
        if group_by is not None and group_by not in GROUPINGS:
            raise InvalidValue("group_by", f"must be one of: {', '.join(GROUPINGS)}")
        rows = comparison(
            self.database,
            self._comparison_query(
                as_of, week, today, follow_successors, programme_id=str(programme_id)
            ),
        )
        rows = self._with_attendance(self._with_funding(rows, as_of), as_of)
        rows = self._with_assessments(rows, as_of, week)
        return group(rows, group_by) if group_by else rows

    def _with_funding(
        self, rows: list[dict[str, Any]], as_of: datetime | None
    ) -> list[dict[str, Any]]:
        """Each comparison row with its project's awarded, paid and matched totals (as
        recorded by ``as_of``; a week's alignment does not move them)."""
        if not rows:
            return rows
        found = funding(
            self.database,
            FundingQuery(project_ids=tuple(r["project_id"] for r in rows), as_of=_instant(as_of)),
        )
        money = {p["project_id"]: p for p in found}
        none = totals([])
        for row in rows:
            project = money.get(row["project_id"])
            row["funding"] = {k: project[k] for k in none} if project else dict(none)
        return rows

    def _with_assessments(
        self, rows: list[dict[str, Any]], as_of: datetime | None, week: int | None
    ) -> list[dict[str, Any]]:
        """Each row with its project's latest assessment (as of ``as_of``); a comparison
        by week has none (assessments are not aligned by week)."""
        if week is not None:
            return rows
        found = latest_assessments(self.database, [r["project_id"] for r in rows], _instant(as_of))
        for row in rows:
            row["latest_assessment"] = found.get(row["project_id"])
        return rows

    # -- outcomes: benefits and assessments ------------------------------------------

    def project_outcomes(self, project_id: UUID, as_of: datetime | None = None) -> dict[str, Any]:
        """A project's benefits (status on the day, or on ``as_of``'s) and assessments."""
        day = as_of.date() if as_of is not None else self.today()
        return project_outcomes(self.database, str(project_id), day, _instant(as_of))

    def cohort_outcomes(self, cohort_id: UUID, as_of: datetime | None = None) -> dict[str, Any]:
        """Every project of the cohort with its benefits' statuses, and the totals."""
        if find_cohort(self.database, str(cohort_id)) is None:
            self.records.check_cohort(cohort_id)
        day = as_of.date() if as_of is not None else self.today()
        return outcomes_of(self.database, day, cohort_ids=(str(cohort_id),), as_of=_instant(as_of))

    def programme_outcomes(
        self, programme_id: UUID, as_of: datetime | None = None
    ) -> dict[str, Any]:
        """Every project of the programme with its benefits' statuses, and the totals."""
        self.programme(programme_id)
        day = as_of.date() if as_of is not None else self.today()
        return outcomes_of(
            self.database, day, programme_id=str(programme_id), as_of=_instant(as_of)
        )

    @staticmethod
    def comparison_medians(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """The median of each figure of a comparison that has one, over the projects
        not withdrawn (see ``projections.comparison.medians`` for which and why)."""
        return medians(rows)

    def support_asks(self, cohort_id: UUID, as_of: datetime | None = None) -> list[dict[str, Any]]:
        """Every support request ("the one wish") of the cohort, oldest first."""
        return self.entries_of_kind(cohort_id, "support_requested", as_of)

    def entries_of_kind(
        self, cohort_id: UUID, kind: str, as_of: datetime | None = None
    ) -> list[dict[str, Any]]:
        """Every entry of one kind in the cohort, oldest first, as timeline rows (with
        their values in force, as of ``as_of``)."""
        found: list[dict[str, Any]] = []
        cursor = None
        while True:
            page, cursor = self.timeline(
                cohort_id, kind=kind, as_of=as_of, cursor=cursor, limit=500
            )
            found.extend(page)
            if cursor is None:
                return found[::-1]

    def _with_attendance(
        self, rows: list[dict[str, Any]], as_of: datetime | None
    ) -> list[dict[str, Any]]:
        """Each row with ``attendance``: how many of its cohort's sessions the council's
        people came to (``sessions_attended``) and how many people, by role (``by_role``)."""
        found = attendance_by_council(
            self.database, sorted({str(r["cohort_id"]) for r in rows}), _instant(as_of)
        )
        for row in rows:
            key = (str(row["cohort_id"]), row["council_code"])
            row["attendance"] = found.get(key) or {"sessions_attended": 0, "by_role": {}}
        return rows

    # -- sessions and support requests ------------------------------------------------------

    def sessions_of_cohort(
        self, cohort_id: UUID, as_of: datetime | None = None
    ) -> list[dict[str, Any]]:
        """The cohort's sessions (recorded by ``as_of``), latest held first, with attendance
        by council and role."""
        if find_cohort(self.database, str(cohort_id)) is None:
            self.records.check_cohort(cohort_id)
        return sessions_of_cohort(self.database, str(cohort_id), _instant(as_of))

    def sessions_of_council(self, code: str) -> list[dict[str, Any]]:
        """The sessions the council's people came to, latest first."""
        return sessions_of_council(self.database, Council.check_code(code))

    def support_requests(self, programme_id: UUID) -> list[dict[str, Any]]:
        """Every support request of the programme's cohorts with its answers and status."""
        self.programme(programme_id)
        return support_requests(self.database, programme_id=str(programme_id))

    def support_of_project(self, project_id: UUID) -> list[dict[str, Any]]:
        """The project's support requests, with the programme's answers."""
        return support_requests(self.database, project_ids=[str(project_id)])

    # -- outputs, their reuse, and capabilities across councils ---------------------------

    def outputs(
        self,
        programme_id: UUID,
        *,
        kind: str | None = None,
        phase: str | None = None,
        council: str | None = None,
        cohort: str | None = None,
    ) -> list[dict[str, Any]]:
        """The programme's outputs, newest first, each with who reused it; the filters
        are checked (an unknown value is refused, naming the filter)."""
        self.programme(programme_id)
        if kind and kind not in set(OutputKind):
            raise InvalidValue("kind", f"must be one of: {', '.join(OutputKind)}")
        if phase and phase not in set(Phase):
            raise InvalidValue("phase", f"must be one of: {', '.join(Phase)}")
        code = None
        if council:
            try:
                code = Council.check_code(council)
            except InvalidValue:
                raise InvalidValue("council", "must be a council's code") from None
            if find_council(self.database, code) is None:
                raise InvalidValue("council", f"no council {code} is registered")
        cohort_id = None
        if cohort:
            cohorts = {c["cohort_id"] for c in self.cohorts_of(programme_id)}
            if cohort not in cohorts:
                raise InvalidValue("cohort", "must be a cohort of this programme")
            cohort_id = cohort
        return list_outputs(
            self.database,
            str(programme_id),
            output_kind=kind or None,
            phase=phase or None,
            council_code=code,
            cohort_id=cohort_id,
        )

    def output_programme(self, entry_id: UUID) -> UUID | None:
        """The programme an output was published in; None if no output has that id
        (looked for again once the read models hold every write so far: if their worker
        does not bring them up to date at once, as while the demo loads before it starts,
        this process applies the outstanding events itself; positions are locked, so
        nothing is applied twice)."""
        lagging = self.projector.lag() > 0  # asked first: it may catch up during the query
        found = find_output(self.database, str(entry_id))
        if found is None and lagging:
            if not self._caught_up():
                self.projector.catch_up()
            found = find_output(self.database, str(entry_id))
        return UUID(found["programme_id"]) if found is not None else None

    def outputs_of_project(self, project_id: UUID) -> dict[str, list[dict[str, Any]]]:
        return outputs_of_project(self.database, str(project_id))

    def outputs_of_council(self, code: str) -> dict[str, list[dict[str, Any]]]:
        return outputs_of_council(self.database, Council.check_code(code))

    def capabilities(self, programme_id: UUID) -> list[dict[str, Any]]:
        """The programme's capabilities: every one its capacity decisions name."""
        self.programme(programme_id)
        return list_capabilities(self.database, str(programme_id))

    def capability(self, programme_id: UUID, slug: str) -> dict[str, Any]:
        """One capability: its name and every council's decisions about it."""
        self.programme(programme_id)
        decisions = (
            capability_decisions(self.database, str(programme_id), slug)
            if SLUG_PATTERN.match(slug)
            else []
        )
        if not decisions:
            raise NotFound("capability", slug)
        return {
            "slug": slug,
            "name": min(decisions, key=lambda d: d["position"])["capability"],
            "decisions": decisions,
        }

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

    # -- money ---------------------------------------------------------------------------

    def funding_of_project(self, project_id: UUID, as_of: datetime | None = None) -> dict[str, Any]:
        """A project's grants, payments and match funding in force (now, or ``as_of``),
        with its awarded, paid and matched totals."""
        self._caught_up()
        found = funding(
            self.database, FundingQuery(project_ids=(str(project_id),), as_of=_instant(as_of))
        )
        if not found:
            return {"grants": [], "match_funding": [], **totals([])}
        return found[0]

    def funding_of_cohort(self, cohort_id: UUID, as_of: datetime | None = None) -> dict[str, Any]:
        """Each project's funding in the cohort, and the cohort's totals."""
        self._caught_up()
        projects = funding(
            self.database, FundingQuery(cohort_id=str(cohort_id), as_of=_instant(as_of))
        )
        return {"projects": projects, **totals(projects)}

    def funding_of_programme(
        self, programme_id: UUID, as_of: datetime | None = None
    ) -> dict[str, Any]:
        """Each project's funding in every cohort of the programme, and the totals."""
        self._caught_up()
        projects = funding(
            self.database, FundingQuery(programme_id=str(programme_id), as_of=_instant(as_of))
        )
        return {"projects": projects, **totals(projects)}

    def giving360(self, programme_id: UUID, as_of: datetime | None = None) -> dict[str, Any]:
        """The programme's grants as a 360Giving data package (``services.giving360``);
        ``giving360.NoGrants`` (a 409) when it had awarded none."""
        programme = self.programme(programme_id)
        projects = self.funding_of_programme(programme_id, as_of)["projects"]
        codes = {p["council_code"] for p in projects if p["grants"]}
        councils = {code: find_council(self.database, code) or {} for code in codes}
        return giving360.package(
            programme=programme,
            projects=projects,
            councils=councils,
            prefix=self.settings.giving_prefix,
            modified=instant(as_of if as_of is not None else self.records.now()),
            as_of=as_of is not None,
        )

    def audit(
        self,
        *,
        actor: str | None = None,
        aggregate: str | None = None,
        aggregate_type: str | None = None,
        event: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        order: str = "asc",
        cursor: str | None = None,
        limit: int = 100,
    ) -> Page:
        """One row per event of every record, in the order of the log (or the reverse).

        Each row also says what the record is called (``thing``: its type and name, a
        project's council, a council's code), a summary that names records rather than
        giving their ids, and for a correction what it changed (``changes``: each field's
        label, and its value before and after, in words).
        """
        if since is not None and until is not None and since > until:
            raise InvalidValue("since", "must be on or before until")
        query = AuditQuery(
            actor=actor,
            aggregate=aggregate,
            aggregate_type=aggregate_type,
            event=event,
            since=_instant(since),
            until=_instant(until),
            order=order,
            cursor=cursor,
            limit=limit,
        )
        with _cursor_checked():
            rows, next_cursor = audit_log(self.database, query)
        return self._in_words(rows), next_cursor

    def audit_events(self) -> list[tuple[str, str | None]]:
        """Every kind of change the audit log can hold: (event name, entry kind or None),
        entries first in the catalogue's order, then the others by name."""
        entries = [(cls.__name__, kind) for kind, cls in ENTRY_KINDS.items()]
        taken = {name for name, _ in entries} | {"Created", "Event", "EntryRecorded"}
        others = sorted({t.rpartition(".")[2] for t in waymark_topics()} - taken)
        return [*entries, *((name, None) for name in others)]

    def names(self, record_ids: list[str]) -> dict[str, dict[str, Any]]:
        """What each record is called, by its id (see ``audit``'s ``thing``)."""
        return names_of(self.database, record_ids)

    def _in_words(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        mentioned = {m.group(0) for row in rows for m in _UUID.finditer(row["summary"])}
        names = names_of(self.database, {*(r["aggregate_id"] for r in rows), *mentioned})
        corrections = corrections_at(
            self.database, [r["position"] for r in rows if r["entry_kind"] == "entry_corrected"]
        )
        for row in rows:
            thing = names.get(row["aggregate_id"])
            if row["aggregate_type"] == "User" and row.get("subject"):
                thing = {"type": "User", "name": row["subject"]}
            row["thing"] = thing or {"type": row["aggregate_type"], "name": None}
            row["summary"] = _UUID.sub(
                lambda m: names.get(m.group(0), {}).get("name") or "a record not yet named",
                row["summary"],
            )
            correction = corrections.get(row["position"])
            row["changes"] = _changes(correction) if correction else []
        return rows

    def search(
        self,
        q: str,
        principal: Principal,
        *,
        cohort_id: UUID | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> Page:
        """Entries holding every word of ``q``, in the cohorts ``principal`` may read and
        the projects its councils are partners of now."""
        everything = sees_everything(principal)
        visible = None if everything else self.visible_cohorts(principal)
        query = SearchQuery(
            q=q,
            cohort_id=str(cohort_id) if cohort_id else None,
            visible_cohorts=visible,
            visible_projects=frozenset() if everything else self.partnered_projects(principal),
            cursor=cursor,
            limit=limit,
        )
        with _cursor_checked():
            return search(self.database, query)

    def partnered_projects(self, principal: Principal) -> frozenset[str]:
        """The projects ``principal``'s councils are partners of now: the directory's
        answer, each checked against the project itself while the directory lags (a
        partner may have left moments ago)."""
        codes = principal.councils()
        if not codes:
            return frozenset()
        lagging = self._directory_lags()  # asked first: it may catch up during the query
        found = projects_partnered_by(self.database, sorted(codes))
        if lagging:
            found = {p for p in found if codes & self.records.project_partners(UUID(p))}
        return frozenset(found)

    def visible_cohorts(self, principal: Principal) -> frozenset[str]:
        """The cohorts a programme manager or participant may read."""
        return cohorts_of_programmes_or_councils(
            self.database,
            {str(p) for p in principal.managed_programmes()},
            principal.councils(),
        )


# -- plain values -------------------------------------------------------------------------


def plain(value: Any) -> Any:
    """A value as JSON holds it: decimals, ids and dates as text, instants in UTC."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return instant(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [plain(v) for v in value]
    return value


def entry_view(e: Entry) -> dict[str, Any]:
    """One entry of a project aggregate, as the API shows it."""
    body: dict[str, Any] = {
        "entry_id": str(e.entry_id),
        "kind": e.kind,
        "decided_on": e.decided_on.isoformat(),
        "recorded_at": instant(e.recorded_at),
        "actor": e.actor,
        "superseded_by": str(e.superseded_by) if e.superseded_by else None,
        **plain(e.fields),
    }
    if e.corrects is not None:
        body["effective"] = plain(e.effective)
    if e.statement_version is not None:
        body["statement_version"] = e.statement_version
    return body


def project_view(p: Project) -> dict[str, Any]:
    """A project aggregate (as it stands, or stood), as the API shows it."""
    statements = [
        {"version": e.statement_version, "entry_id": str(e.entry_id)} for e in p.statements()
    ]
    return {
        "project_id": str(p.id),
        "cohort_id": str(p.cohort_id),
        "council_code": p.council_code,
        "lead_council_code": p.council_code,
        "partner_council_codes": sorted(p.partners),
        "title": p.title,
        "phase": p.phase,
        "withdrawn": p.withdrawn,
        "phase_since": plain(p.phase_since),
        "open_concerns": [str(c) for c in p.open_concerns()],
        "problem_statements": statements,
        "as_of": instant(p.modified_on),
        "version": p.version,
        "entries": [entry_view(e) for e in sorted(p.entries.values(), key=lambda e: e.recorded_at)],
        "funding": funding_totals(p),
    }


def programme_view(p: Programme) -> dict[str, Any]:
    """A programme aggregate, as the API shows it."""
    return {
        "programme_id": str(p.id),
        "name": p.name,
        "description": p.description,
        "sponsor_body": p.sponsor_body,
        "launched_at": plain(p.created_on),
        "launched_by": p.launched_by,
        "segment_mapping": p.segment_mapping,
        "publishing_allowed": p.publishing_allowed,
        "version": p.version,
    }


def cohort_view(c: Cohort) -> dict[str, Any]:
    """A cohort aggregate, as the API shows it."""
    return {
        "cohort_id": str(c.id),
        "programme_id": str(c.programme_id),
        "name": c.name,
        "starts_on": c.starts_on.isoformat(),
        "ends_on": c.ends_on.isoformat(),
        "closed": c.closed,
        "withdrawn": sorted(c.withdrawn),
        "version": c.version,
    }


def council_view(c: Council) -> dict[str, Any]:
    """A council aggregate, every assessment in full, as the API shows it."""
    return _council_shown(
        {
            "code": c.code,
            "name": c.name,
            "council_type": c.council_type,
            "region": c.region,
            "population": c.population,
            "gss_code": c.gss_code,
            "political_control": c.political_control,
            "suppliers": c.suppliers,
            "tried_before": c.tried_before,
            "innovation_history": c.innovation_history,
            "gss_codes": [[g.code, plain(g.effective_from)] for g in c.gss_codes],
            "financial_contexts": [
                {
                    "assessed_on": a.assessed_on.isoformat(),
                    "demand_pressure": a.demand_pressure,
                    "financial_pressure": a.financial_pressure,
                    "note": a.note,
                }
                for a in c.financial_contexts
            ],
            "maturity": [
                {"assessed_on": a.assessed_on.isoformat(), "levels": a.levels, "note": a.note}
                for a in c.maturity
            ],
            "declaration_signed_on": plain(c.declaration_signed_on),
            "successor_codes": c.successor_codes,
            "succeeded_on": plain(c.succeeded_on),
            "version": c.version,
        }
    )


def _stored_programme(row: Mapping[str, Any]) -> dict[str, Any]:
    """A programme as the directory holds it, as the API shows it (``programme_view``)."""
    shown = {k: row[k] for k in _PROGRAMME_SHOWN}
    return {**shown, "publishing_allowed": bool(row["publishing_allowed"])}


def _stored_cohort(row: Mapping[str, Any]) -> dict[str, Any]:
    """A cohort as the directory holds it, as the API shows it (``cohort_view``)."""
    return {**{k: row[k] for k in _COHORT_SHOWN}, "closed": bool(row["closed"])}


def _stored_council(row: Mapping[str, Any]) -> dict[str, Any]:
    """A council as the directory holds it, as the API shows it (``council_view``)."""
    return _council_shown({k: row[k] for k in _COUNCIL_SHOWN})


#: What the API shows of a programme, a cohort and a council, in its order.
_PROGRAMME_SHOWN = (
    "programme_id",
    "name",
    "description",
    "sponsor_body",
    "launched_at",
    "launched_by",
    "segment_mapping",
    "publishing_allowed",
    "version",
)
_COHORT_SHOWN = (
    "cohort_id",
    "programme_id",
    "name",
    "starts_on",
    "ends_on",
    "closed",
    "withdrawn",
    "version",
)
_COUNCIL_SHOWN = (
    "code",
    "name",
    "council_type",
    "region",
    "population",
    "gss_code",
    "political_control",
    "suppliers",
    "tried_before",
    "innovation_history",
    "gss_codes",
    "financial_contexts",
    "maturity",
    "declaration_signed_on",
    "successor_codes",
    "succeeded_on",
    "version",
)


def _council_shown(council: dict[str, Any]) -> dict[str, Any]:
    """A council's GSS codes and assessments as the API shows them: each GSS code with
    the day it took effect, each financial context with its segment."""
    council["gss_codes"] = [
        {"gss_code": code, "effective_from": effective_from}
        for code, effective_from in council["gss_codes"]
    ]
    council["financial_contexts"] = [
        {
            **{k: a[k] for k in ("assessed_on", "demand_pressure", "financial_pressure")},
            "segment": segment_for(a["demand_pressure"], a["financial_pressure"]),
            "note": a["note"],
        }
        for a in council["financial_contexts"]
    ]
    return council


def funding_totals(p: Project) -> dict[str, str]:
    """A project's awarded, paid and matched totals, from its entries' values in force
    (the funding read model's rule, projections/funding.py)."""
    grants = {g.entry_id for g in p.grants()}
    found = {"awarded": Decimal(0), "paid": Decimal(0), "matched": Decimal(0)}
    for e in p.entries.values():
        values = p.in_force(e) if e.kind != "entry_corrected" else {}
        if e.kind == "grant_awarded":
            found["awarded"] += Decimal(values["amount"])
        elif e.kind == "payment_made" and UUID(str(values["grant_entry_id"])) in grants:
            found["paid"] += Decimal(values["amount"])
        elif e.kind == "match_funding_committed":
            found["matched"] += Decimal(values["amount"])
    return {k: str(v.quantize(Decimal("0.01"))) for k, v in found.items()}


def _stored_entry(e: Mapping[str, Any]) -> dict[str, Any]:
    """One entry as the project history read model holds it, as the API shows it."""
    body: dict[str, Any] = {
        "entry_id": e["entry_id"],
        "kind": e["kind"],
        "decided_on": e["decided_on"],
        "recorded_at": e["recorded_at"],
        "actor": e["actor"],
        "superseded_by": e["superseded_by"],
        **e["values"],
    }
    if e["corrects"] is not None:
        body["effective"] = e["effective"]
    if e["statement_version"] is not None:
        body["statement_version"] = e["statement_version"]
    return body


def _recorded_at(entry: Mapping[str, Any]) -> str:
    return str(entry["recorded_at"])


def _programme_row(p: Programme) -> dict[str, Any]:
    """A programme aggregate as the directory's row of it (a page's header)."""
    view = programme_view(p)
    shown = {k: view[k] for k in _PROGRAMME_SHOWN[:5]}  # up to when it was launched
    return {**shown, "publishing_allowed": int(p.publishing_allowed)}


def _cohort_row(c: Cohort) -> dict[str, Any]:
    """A cohort aggregate as the directory's row of it (a page's header)."""
    view = cohort_view(c)
    return {k: view[k] for k in _COHORT_SHOWN[:6]}


def _council_row(c: Council) -> dict[str, Any]:
    """A council aggregate as the directory's row of it (a page's header)."""
    view = council_view(c)
    shown = _COUNCIL_SHOWN[:7]  # its profile, up to its political control
    return {**{k: view[k] for k in shown}, "council_id": str(c.id)}


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


def _changes(correction: Mapping[str, Any]) -> list[dict[str, str]]:
    """What a correction changed, field by field, in words and in the catalogue's order."""
    kind, before, after = correction["kind"], correction["before"], correction["after"]
    event_class = ENTRY_KINDS.get(kind)
    order = list(event_class.FIELDS) if event_class else []
    names = sorted(
        (n for n in {*before, *after} if before.get(n) != after.get(n)),
        key=lambda n: (order.index(n) if n in order else len(order), n),
    )
    changes = []
    for name in names:
        spec = event_class.FIELDS.get(name) if event_class else None
        label = (spec.label if spec else "") or name.replace("_", " ").capitalize()
        changes.append(
            {
                "field": name,
                "label": label,
                "before": in_words(kind, name, before.get(name)),
                "after": in_words(kind, name, after.get(name)),
            }
        )
    return changes


def _instant(moment: datetime | None) -> str | None:
    return instant(moment) if moment is not None else None


@contextmanager
def _cursor_checked() -> Iterator[None]:
    try:
        yield
    except BadCursor as error:
        raise InvalidValue("cursor", str(error)) from None


__all__ = [
    "DatabaseUnavailable",
    "Freshness",
    "Page",
    "Queries",
    "cohort_view",
    "council_view",
    "entry_view",
    "plain",
    "programme_view",
    "pounds",
    "project_view",
]
