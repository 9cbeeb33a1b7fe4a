"""Cross-council comparison: one row per project, to set councils side by side.

Each project keeps a small running summary (``state``: counters, its phase,
its open concerns), folded from its entries one at a time by ``apply_fact``.
The entries a later correction can change (capacity decisions, check-ins,
phase changes) and the corrections of them are kept as narrow rows of their
own (``cmp_entries``), so that a batch writes what it changed, never a
project's whole history again. The facts it was all folded from are kept too
(``cmp_facts``), so that the same fold, in memory, gives the summary as the
record stood at an earlier instant (``as_of``: facts recorded later are left
out) or as decided by a week of the cohort (facts decided later are left
out). Councils (profile, assessments, successors) and programmes' segment
mappings are kept as dated facts and folded when asked, for the same reason.
"""

from __future__ import annotations

import json
import statistics
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import singledispatchmethod
from typing import Any

import orjson

from domain.cohort import Cohort
from domain.council import Council
from domain.programme import Programme
from domain.project import Project
from domain.segments import default_mapping, segment_for
from projections.base import Batch, Digest, Positioned, ReadModel, Table, digest
from projections.database import Database, Transaction
from projections.partners import PartnerSpells
from storage.json import dump_json, to_json
from storage.times import instant

#: Population bands (residents): upper bounds, exclusive.
SCALE_BANDS: tuple[tuple[str, int | None], ...] = (
    ("under_100k", 100_000),
    ("100k_to_250k", 250_000),
    ("250k_to_500k", 500_000),
    ("500k_and_over", None),
)
CHOICES = ("make", "buy", "share", "experiment")
#: How many of the latest check-ins the team-health trend shows, oldest first.
TREND_LENGTH = 5
GROUPINGS = ("council_type", "segment", "scale_band", "region")

PROJECT_COLUMNS = (
    "project_id",
    "cohort_id",
    "council_code",
    "title",
    "started_at",
    "withdrawn_at",
    "state",
)
FACT_COLUMNS = ("position", "project_id", "recorded_at", "fact")
ENTRY_COLUMNS = (
    "entry_id",
    "project_id",
    "root",
    "kind",
    "choice",
    "decided_on",
    "position",
    "team_health",
    "shared_with",
)
DATED_COLUMNS = ("position", "subject_id", "recorded_at", "fact")
COHORT_COLUMNS = ("cohort_id", "programme_id", "name", "starts_on", "ends_on")


def scale_band(population: int | None) -> str:
    if population is None:
        return "unknown"
    for band, upper in SCALE_BANDS:
        if upper is None or population < upper:
            return band
    raise AssertionError("the last band has no upper bound")  # pragma: no cover


# -- a project's running summary ------------------------------------------------


def new_state() -> dict[str, Any]:
    return {
        "statements": 0,
        "phase": None,
        "phase_entry": None,
        "phase_since": None,
        "engagements": 0,
        "open_concerns": [],
        "last_recorded_at": None,
    }


#: The kinds of entry a correction can change the comparison's figures of.
CORRECTABLE = ("capacity_decided", "sponsor_check_in", "phase_changed")


class Entries(ABC):
    """A project's capacity decisions, check-ins and phase changes, and the chains of
    corrections that start from them: where each correction's root is found."""

    @abstractmethod
    def started(self, fact: dict[str, Any]) -> None:
        """A capacity decision, check-in or phase change: the root of its own chain."""

    @abstractmethod
    def root_of(self, entry: str) -> str | None:
        """The entry a chain of corrections started from, if ``entry`` is in one."""

    @abstractmethod
    def corrected(self, entry: str, root: str, new: dict[str, Any]) -> None:
        """``entry`` corrects the chain from ``root``; ``new`` holds what it replaced."""


class FoldedEntries(Entries):
    """In memory, for a summary folded when asked (as of an instant, by a week)."""

    def __init__(self) -> None:
        self.roots: dict[str, str] = {}
        self.choices: dict[str, str] = {}  # capacity decision (root) -> choice in force
        self.check_ins: dict[str, list[Any]] = {}  # root -> [decided_on, position, health]
        self.shared_with: dict[str, list[str]] = {}  # capacity decision (root) -> councils

    def started(self, fact: dict[str, Any]) -> None:
        entry = fact["entry"]
        self.roots[entry] = entry
        if fact["kind"] == "capacity_decided":
            self.choices[entry] = fact["choice"]
            self.shared_with[entry] = list(fact.get("shared_with") or [])
        elif fact["kind"] == "sponsor_check_in":
            self.check_ins[entry] = [fact["decided_on"], fact["position"], fact["team_health"]]

    def root_of(self, entry: str) -> str | None:
        return self.roots.get(entry)

    def corrected(self, entry: str, root: str, new: dict[str, Any]) -> None:
        self.roots[entry] = root
        if root in self.choices and "choice" in new:
            self.choices[root] = new["choice"]
        if root in self.choices and "shared_with" in new:
            self.shared_with[root] = list(new["shared_with"] or [])
        if root in self.check_ins:
            check_in = self.check_ins[root]
            check_in[0] = new.get("decided_on", check_in[0])
            check_in[2] = new.get("team_health", check_in[2])

    def figures(self) -> tuple[dict[str, int], list[list[Any]], list[str]]:
        """The choices in force, counted, the latest check-ins, oldest first, and the
        councils the share decisions in force name (one for each decision naming it)."""
        counts = dict.fromkeys(CHOICES, 0)
        for choice in self.choices.values():
            counts[choice] += 1
        check_ins = sorted(self.check_ins.values(), key=lambda c: (c[0], c[1]))
        shared = [
            code
            for root, choice in self.choices.items()
            if choice == "share"
            for code in self.shared_with.get(root, [])
        ]
        return counts, check_ins[-TREND_LENGTH:], shared


class StoredEntries(Entries):
    """As rows of ``cmp_entries``, for the summaries kept up to date batch by batch."""

    def __init__(self, table: Table, project_id: str) -> None:
        self.table = table
        self.project_id = project_id

    def started(self, fact: dict[str, Any]) -> None:
        self.table.add(
            {
                "entry_id": fact["entry"],
                "project_id": self.project_id,
                "root": fact["entry"],
                "kind": fact["kind"],
                "choice": fact.get("choice"),
                "decided_on": fact["decided_on"],
                "position": fact["position"],
                "team_health": fact.get("team_health"),
                "shared_with": dump_json(fact["shared_with"]) if fact.get("shared_with") else None,
            }
        )

    def root_of(self, entry: str) -> str | None:
        row = self.table.get(entry)  # loaded beforehand (Comparison.prefetch)
        return None if row is None else str(row["root"])

    def corrected(self, entry: str, root: str, new: dict[str, Any]) -> None:
        self.table.add(
            {
                "entry_id": entry,
                "project_id": self.project_id,
                "root": root,
                "kind": "entry_corrected",
                "choice": None,
                "decided_on": None,
                "position": None,
                "team_health": None,
                "shared_with": None,
            }
        )
        started = self.table.get(root)
        assert started is not None, f"the root {root} of a correction was not loaded"
        if started["kind"] == "capacity_decided" and "choice" in new:
            self.table.change(root, choice=new["choice"])
        if started["kind"] == "capacity_decided" and "shared_with" in new:
            shared = new["shared_with"]
            self.table.change(root, shared_with=dump_json(shared) if shared else None)
        elif started["kind"] == "sponsor_check_in":
            self.table.change(
                root,
                decided_on=new.get("decided_on", started["decided_on"]),
                team_health=new.get("team_health", started["team_health"]),
            )


def entry_fact(entry: Digest) -> dict[str, Any]:
    """What the comparison needs of one entry, small enough to keep for every entry."""
    event = entry.event
    fact: dict[str, Any] = {
        "kind": entry.kind,
        "entry": entry.entry_id,
        "position": entry.position,
        "decided_on": entry.decided_on,
        "recorded_at": entry.recorded_at,
    }
    if isinstance(event, Project.CapacityDecided):
        fact["choice"] = event.choice
        if event.shared_with:
            fact["shared_with"] = list(event.shared_with)
    elif isinstance(event, Project.SponsorCheckedIn):
        fact["team_health"] = event.team_health
    elif isinstance(event, Project.PhaseChanged):
        fact["phase"] = event.phase
    elif isinstance(event, Project.ConcernResolved):
        fact["concern"] = str(event.concern_entry_id)
    elif isinstance(event, Project.EntryCorrected):
        fact["corrects"] = str(event.corrects)
        replaced = {
            k: v
            for k, v in event.replacement.items()
            if k in ("choice", "team_health", "decided_on", "shared_with")
        }
        fact["replacement"] = json.loads(to_json(replaced))
    return fact


def apply_fact(state: dict[str, Any], fact: dict[str, Any], entries: Entries) -> None:
    kind, entry = fact["kind"], fact["entry"]
    state["last_recorded_at"] = max(state["last_recorded_at"] or "", fact["recorded_at"])
    if kind == "problem_statement_iterated":
        state["statements"] += 1
    elif kind in CORRECTABLE:
        entries.started(fact)
        if kind == "phase_changed":
            state["phase"], state["phase_entry"] = fact["phase"], entry
            state["phase_since"] = fact["decided_on"]
    elif kind == "members_engaged":
        state["engagements"] += 1
    elif kind == "concern_raised":
        state["open_concerns"].append(entry)
    elif kind == "concern_resolved":
        if fact["concern"] in state["open_concerns"]:
            state["open_concerns"].remove(fact["concern"])
    elif kind == "entry_corrected":
        root = entries.root_of(fact["corrects"])
        if root is None:
            return  # a correction of a kind the comparison does not count
        new = fact["replacement"]
        entries.corrected(entry, root, new)
        if root == state["phase_entry"] and "decided_on" in new:
            state["phase_since"] = new["decided_on"]


def fold(facts: Iterable[dict[str, Any]]) -> tuple[dict[str, Any], FoldedEntries]:
    state, entries = new_state(), FoldedEntries()
    for fact in facts:
        apply_fact(state, fact, entries)
    return state, entries


# -- councils and programmes, folded when asked ----------------------------------


def council_fact(event: Any) -> dict[str, Any] | None:
    if isinstance(event, Council.Registered):
        return {
            "kind": "registered",
            "code": event.code,
            "profile": {
                "name": event.name,
                "council_type": event.council_type,
                "region": event.region,
                "population": event.population,
            },
        }
    if isinstance(event, Council.ProfileUpdated):
        keep = ("name", "council_type", "region", "population")
        return {
            "kind": "profile",
            "profile": {k: event.changes[k] for k in keep if k in event.changes},
        }
    if isinstance(event, Council.FinancialContextAssessed):
        return {
            "kind": "financial_context",
            "assessed_on": event.assessed_on.isoformat(),
            "demand_pressure": event.demand_pressure,
            "financial_pressure": event.financial_pressure,
        }
    if isinstance(event, Council.MaturityAssessed):
        return {
            "kind": "maturity",
            "assessed_on": event.assessed_on.isoformat(),
            "levels": dict(event.levels),
        }
    if isinstance(event, Council.SucceededBy):
        return {
            "kind": "succeeded_by",
            "successor_codes": list(event.successor_codes),
            "effective_from": event.effective_from.isoformat(),
        }
    return None


def fold_council(facts: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """A council's profile, successors and latest assessments (by date assessed; on the
    same date, the one recorded last)."""
    council: dict[str, Any] = {
        "financial_context": None,
        "maturity": None,
        "successor_codes": [],
        "succeeded_on": None,
    }
    for fact in facts:
        kind = fact["kind"]
        if kind == "registered":
            council["code"] = fact["code"]
            council.update(fact["profile"])
        elif kind == "profile":
            council.update(fact["profile"])
        elif kind in ("financial_context", "maturity"):
            latest = council[kind]
            if latest is None or fact["assessed_on"] >= latest["assessed_on"]:
                council[kind] = {k: v for k, v in fact.items() if k != "kind"}
        elif kind == "succeeded_by":
            council["successor_codes"] = fact["successor_codes"]
            council["succeeded_on"] = fact["effective_from"]
    return council


# -- the read model ----------------------------------------------------------------


class Comparison(ReadModel):
    name = "comparison"
    version = 5  # 5: partner spells (cmp_partners), for each project's partners in force
    rebuild_weight = 3
    partners = PartnerSpells("cmp")
    tables = (
        "cmp_projects",
        "cmp_entries",
        "cmp_facts",
        "cmp_councils",
        "cmp_mappings",
        "cmp_cohorts",
        partners.table,
    )

    def create_tables(self, tx: Transaction) -> None:
        self.partners.create_table(tx)
        tx.execute(
            "CREATE TABLE cmp_projects (project_id TEXT PRIMARY KEY, cohort_id TEXT NOT NULL,"
            " council_code TEXT NOT NULL, title TEXT NOT NULL, started_at TEXT NOT NULL,"
            " withdrawn_at TEXT, state TEXT NOT NULL)"
        )
        tx.execute("CREATE INDEX cmp_projects_cohort ON cmp_projects (cohort_id)")
        tx.execute(
            "CREATE TABLE cmp_entries (entry_id TEXT PRIMARY KEY, project_id TEXT NOT NULL,"
            " root TEXT NOT NULL, kind TEXT NOT NULL, choice TEXT, decided_on TEXT,"
            " position BIGINT, team_health TEXT, shared_with TEXT)"
        )
        tx.execute("CREATE INDEX cmp_entries_project ON cmp_entries (project_id, kind)")
        tx.execute(
            "CREATE TABLE cmp_facts (position BIGINT PRIMARY KEY, project_id TEXT NOT NULL,"
            " recorded_at TEXT NOT NULL, fact TEXT NOT NULL)"
        )
        tx.execute("CREATE INDEX cmp_facts_project ON cmp_facts (project_id, position)")
        for table in ("cmp_councils", "cmp_mappings"):
            tx.execute(
                f"CREATE TABLE {table} (position BIGINT PRIMARY KEY, subject_id TEXT NOT NULL,"
                " recorded_at TEXT NOT NULL, fact TEXT NOT NULL)"
            )
            tx.execute(f"CREATE INDEX {table}_subject ON {table} (subject_id, position)")
        tx.execute(
            "CREATE TABLE cmp_cohorts (cohort_id TEXT PRIMARY KEY, programme_id TEXT NOT NULL,"
            " name TEXT NOT NULL, starts_on TEXT NOT NULL, ends_on TEXT NOT NULL)"
        )
        tx.execute("CREATE INDEX cmp_cohorts_programme ON cmp_cohorts (programme_id)")

    def start_batch(self, tx: Transaction) -> Batch:
        return StatefulBatch(
            tx,
            Table("cmp_cohorts", "cohort_id", COHORT_COLUMNS),
            Table("cmp_projects", "project_id", PROJECT_COLUMNS),
            Table("cmp_entries", "entry_id", ENTRY_COLUMNS),
            Table("cmp_facts", "position", FACT_COLUMNS),
            Table("cmp_councils", "position", DATED_COLUMNS),
            Table("cmp_mappings", "position", DATED_COLUMNS),
            self.partners.batch_table(),
        )

    def prefetch(self, events: Sequence[Positioned], batch: Batch) -> None:
        tx = batch.tx
        wanted = {
            digest(tx, p, e).project_id
            if isinstance(e, Project.EntryRecorded)
            else str(e.originator_id)
            for p, e in events
            if isinstance(e, (Project.EntryRecorded, Project.Withdrawn))
        }
        batch["cmp_projects"].load(batch.tx, wanted)
        self.partners.prefetch(events, batch)
        # A correction needs the entry it corrects, and the entry that one's chain began with.
        entries = batch["cmp_entries"]
        corrected = [str(e.corrects) for _, e in events if isinstance(e, Project.EntryCorrected)]
        entries.load(tx, corrected)
        entries.load(tx, {row["root"] for row in map(entries.get, corrected) if row is not None})

    @singledispatchmethod
    def handle(self, event: object, position: int, batch: Batch) -> None:
        fact = council_fact(event)
        if fact is not None:
            _dated(batch["cmp_councils"], position, event, fact)

    @handle.register
    def _mapping_configured(
        self, event: Programme.SegmentMappingConfigured, position: int, batch: Batch
    ) -> None:
        _dated(batch["cmp_mappings"], position, event, dict(event.mapping))

    @handle.register
    def _cohort_formed(self, event: Cohort.Formed, position: int, batch: Batch) -> None:
        batch["cmp_cohorts"].add(
            {
                "cohort_id": str(event.originator_id),
                "programme_id": str(event.programme_id),
                "name": event.name,
                "starts_on": event.starts_on.isoformat(),
                "ends_on": event.ends_on.isoformat(),
            }
        )

    @handle.register
    def _cohort_details_changed(
        self, event: Cohort.DetailsChanged, position: int, batch: Batch
    ) -> None:
        batch["cmp_cohorts"].change(
            str(event.originator_id),
            name=event.name,
            starts_on=event.starts_on.isoformat(),
            ends_on=event.ends_on.isoformat(),
        )

    @handle.register
    def _project_started(self, event: Project.Started, position: int, batch: Batch) -> None:
        batch["cmp_projects"].add(
            {
                "project_id": str(event.originator_id),
                "cohort_id": str(event.cohort_id),
                "council_code": event.council_code,
                "title": event.title,
                "started_at": instant(event.timestamp),
                "withdrawn_at": None,
                "state": None,
            }
        )

    @handle.register
    def _project_withdrawn(self, event: Project.Withdrawn, position: int, batch: Batch) -> None:
        batch["cmp_projects"].change(
            str(event.originator_id), withdrawn_at=instant(event.timestamp)
        )

    @handle.register
    def _entry_recorded(self, event: Project.EntryRecorded, position: int, batch: Batch) -> None:
        assert isinstance(batch, StatefulBatch)
        entry = digest(batch.tx, position, event)
        self.partners.follow(batch, entry)
        project_id = entry.project_id
        fact = entry_fact(entry)
        apply_fact(
            batch.state_of(project_id), fact, StoredEntries(batch["cmp_entries"], project_id)
        )
        batch["cmp_facts"].add(
            {
                "position": position,
                "project_id": project_id,
                "recorded_at": fact["recorded_at"],
                "fact": dump_json(fact),
            }
        )


def _dated(table: Table, position: int, event: Any, fact: dict[str, Any]) -> None:
    table.add(
        {
            "position": position,
            "subject_id": str(event.originator_id),
            "recorded_at": instant(event.timestamp),
            "fact": dump_json(fact),
        }
    )


class StatefulBatch(Batch):
    """Projects' summaries are parsed once per batch, changed in memory, stored once."""

    def __init__(self, tx: Transaction, *tables: Table) -> None:
        super().__init__(tx, *tables)
        self.states: dict[str, dict[str, Any]] = {}

    def state_of(self, project_id: str) -> dict[str, Any]:
        state = self.states.get(project_id)
        if state is None:
            row = self["cmp_projects"].get(project_id)
            assert row is not None, f"an entry of an unknown project {project_id}"
            state = orjson.loads(row["state"]) if row["state"] else new_state()
            self.states[project_id] = state
        return state

    def write(self) -> None:
        projects = self["cmp_projects"]
        for project_id, state in self.states.items():
            projects.change(project_id, state=_dump(state))
        for row in projects.rows.values():
            if row["state"] is None:
                row["state"] = _dump(new_state())
        super().write()


def _dump(state: dict[str, Any]) -> str:
    return dump_json(state)


# -- queries -----------------------------------------------------------------------


@dataclass(frozen=True)
class ComparisonQuery:
    """Which projects, and as the record stood when.

    ``as_of`` (an instant) leaves out everything recorded later; ``week`` (1 is
    the first seven days of each project's cohort) leaves out entries decided
    after that week, and counts days to the week's end; ``today`` is the day
    quiet projects and days in a phase are counted to.
    """

    today: date
    cohort_ids: tuple[str, ...] = ()
    programme_id: str | None = None
    as_of: str | None = None
    week: int | None = None
    quiet_after_days: int = 21
    follow_successors: bool = False


@dataclass
class _Councils:
    """Councils folded from their facts, following successors on request."""

    facts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    folded: dict[str, dict[str, Any]] = field(default_factory=dict)

    def load(self, tx: Transaction, codes: Iterable[str], as_of: str | None) -> None:
        ids = {str(Council.create_id(code)): code for code in codes if code not in self.folded}
        if not ids:
            return
        sql, params = "SELECT position, subject_id, fact FROM cmp_councils", []
        if as_of is not None:
            sql += " WHERE recorded_at <= ? AND subject_id IN"
            params.append(as_of)
        else:
            sql += " WHERE subject_id IN"
        found: dict[str, list[dict[str, Any]]] = {code: [] for code in ids.values()}
        for row in sorted(tx.all_in(sql, ids, params), key=lambda r: int(r["position"])):
            found[ids[row["subject_id"]]].append(json.loads(row["fact"]))
        for code, facts in found.items():
            self.folded[code] = fold_council(facts)

    def successor(self, tx: Transaction, code: str, as_of: str | None) -> str:
        """The council whose work this one's continues in now: itself unless it had
        exactly one successor (a split keeps its own name), followed down the chain."""
        seen = {code}
        while True:
            self.load(tx, [code], as_of)
            successors = self.folded[code].get("successor_codes") or []
            if len(successors) != 1 or successors[0] in seen:
                return code
            code = successors[0]
            seen.add(code)


def comparison(db: Database, query: ComparisonQuery) -> list[dict[str, Any]]:
    """One row per project of the cohorts (or the programme) asked for."""
    with db.reading() as tx:
        if query.programme_id is not None:
            cohorts = tx.all(
                "SELECT * FROM cmp_cohorts WHERE programme_id = ?", (query.programme_id,)
            )
        else:
            cohorts = tx.all_in("SELECT * FROM cmp_cohorts WHERE cohort_id IN", query.cohort_ids)
        by_cohort = {c["cohort_id"]: c for c in cohorts}
        projects = tx.all_in("SELECT * FROM cmp_projects WHERE cohort_id IN", sorted(by_cohort))
        if query.as_of is not None:
            projects = [p for p in projects if p["started_at"] <= query.as_of]
        states = _states(tx, projects, by_cohort, query)
        programme_ids = {c["programme_id"] for c in cohorts}
        mappings = {pid: _mapping(tx, pid, query.as_of) for pid in programme_ids}
        partners = Comparison.partners.of_projects(
            tx, [p["project_id"] for p in projects], query.as_of
        )
        councils = _Councils()
        councils.load(
            tx,
            {p["council_code"] for p in projects} | {c for f in partners.values() for c in f},
            query.as_of,
        )
        rows = []
        for project in projects:
            cohort = by_cohort[project["cohort_id"]]
            code = project["council_code"]
            reported = (
                councils.successor(tx, code, query.as_of) if query.follow_successors else code
            )
            today = query.today
            if query.week is not None:
                today = min(today, _week_end(cohort["starts_on"], query.week))
            withdrawn = project["withdrawn_at"] is not None and (
                query.as_of is None or project["withdrawn_at"] <= query.as_of
            )
            rows.append(
                _row(
                    project,
                    cohort,
                    *states[project["project_id"]],
                    own=councils.folded[code],
                    reported=councils.folded[reported],
                    mapping=mappings[cohort["programme_id"]],
                    today=today,
                    quiet_after_days=query.quiet_after_days,
                    withdrawn=withdrawn,
                )
            )
            found = partners.get(project["project_id"], [])
            rows[-1]["partner_council_codes"] = found
            rows[-1]["partner_council_names"] = [councils.folded[c].get("name") or c for c in found]
    # A share decision counts for each council it names, too: the councils whose
    # share decisions (among the rows compared) name this one.
    for row in rows:
        row["shared_with_by"] = sorted(
            {
                other["council_code"]
                for other in rows
                if other is not row and row["council_code"] in other["shares_with"]
            }
        )
        row["share_partners"] = sorted(set(row["shares_with"]) | set(row["shared_with_by"]))
        row["share_partnerships"] = len(row["share_partners"])
    # A council's several projects in a cohort by title, so that the order holds still
    rows.sort(
        key=lambda r: (
            r["cohort_name"],
            r["council_name"] or "",
            r["council_code"],
            r["title"],
            r["project_id"],
        )
    )
    return rows


def _week_end(starts_on: str, week: int) -> date:
    return date.fromisoformat(starts_on) + timedelta(days=7 * week - 1)


#: A project's summary, its choices in force counted, its latest check-ins, and the
#: councils its share decisions in force name.
Figures = tuple[dict[str, Any], dict[str, int], list[list[Any]], list[str]]


def _states(
    tx: Transaction,
    projects: list[dict[str, Any]],
    cohorts: dict[str, dict[str, Any]],
    query: ComparisonQuery,
) -> dict[str, Figures]:
    """Each project's figures: as stored, or folded again from the facts asked for."""
    if query.as_of is None and query.week is None:
        return _stored_figures(tx, projects)
    sql, params = "SELECT project_id, fact FROM cmp_facts WHERE", []
    if query.as_of is not None:
        sql += " recorded_at <= ? AND"
        params.append(query.as_of)
    rows = tx.all_in(f"{sql} project_id IN", [p["project_id"] for p in projects], params)
    facts: dict[str, list[dict[str, Any]]] = {p["project_id"]: [] for p in projects}
    for row in rows:
        facts[row["project_id"]].append(json.loads(row["fact"]))
    ends = {
        p["project_id"]: (
            _week_end(cohorts[p["cohort_id"]]["starts_on"], query.week).isoformat()
            if query.week is not None
            else None
        )
        for p in projects
    }
    figures = {}
    for project_id, found in facts.items():
        state, entries = fold(
            fact
            for fact in sorted(found, key=lambda f: int(f["position"]))
            if ends[project_id] is None or fact["decided_on"] <= ends[project_id]
        )
        figures[project_id] = (state, *entries.figures())
    return figures


def _stored_figures(tx: Transaction, projects: list[dict[str, Any]]) -> dict[str, Figures]:
    ids = [p["project_id"] for p in projects]
    counts: dict[str, dict[str, int]] = {i: dict.fromkeys(CHOICES, 0) for i in ids}
    for row in tx.all_in(
        "SELECT project_id, choice, COUNT(*) AS n FROM cmp_entries"
        " WHERE kind = 'capacity_decided' AND project_id IN",
        ids,
        then="GROUP BY project_id, choice",
    ):
        counts[row["project_id"]][row["choice"]] = int(row["n"])
    check_ins: dict[str, list[list[Any]]] = {i: [] for i in ids}
    for row in tx.all_in(
        "SELECT project_id, decided_on, position, team_health FROM ("
        " SELECT project_id, decided_on, position, team_health, ROW_NUMBER() OVER ("
        "  PARTITION BY project_id ORDER BY decided_on DESC, position DESC) AS latest"
        " FROM cmp_entries WHERE kind = 'sponsor_check_in' AND project_id IN",
        ids,
        then=f") AS c WHERE latest <= {TREND_LENGTH} ORDER BY decided_on, position",
    ):
        check_ins[row["project_id"]].append(
            [row["decided_on"], int(row["position"]), row["team_health"]]
        )
    shared: dict[str, list[str]] = {i: [] for i in ids}
    for row in tx.all_in(
        "SELECT project_id, shared_with FROM cmp_entries WHERE kind = 'capacity_decided'"
        " AND choice = 'share' AND shared_with IS NOT NULL AND project_id IN",
        ids,
        then="ORDER BY position",
    ):
        shared[row["project_id"]].extend(json.loads(row["shared_with"]))
    return {
        i: (json.loads(p["state"]), counts[i], check_ins[i], shared[i])
        for i, p in zip(ids, projects, strict=True)
    }


def _mapping(tx: Transaction, programme_id: str, as_of: str | None) -> dict[str, str]:
    sql, params = "SELECT fact FROM cmp_mappings WHERE subject_id = ?", [programme_id]
    if as_of is not None:
        sql += " AND recorded_at <= ?"
        params.append(as_of)
    row = tx.one(f"{sql} ORDER BY position DESC LIMIT 1", params)
    return json.loads(row["fact"]) if row else default_mapping()


def _row(
    project: dict[str, Any],
    cohort: dict[str, Any],
    state: dict[str, Any],
    choices: dict[str, int],
    check_ins: list[list[Any]],
    shared: list[str],
    *,
    own: dict[str, Any],
    reported: dict[str, Any],
    mapping: dict[str, str],
    today: date,
    quiet_after_days: int,
    withdrawn: bool,
) -> dict[str, Any]:
    last_activity = (state["last_recorded_at"] or project["started_at"])[:10]
    silent_days = (today - date.fromisoformat(last_activity)).days
    financial = reported["financial_context"]
    maturity = reported["maturity"]
    phase_since = state["phase_since"]
    return {
        "project_id": project["project_id"],
        "title": project["title"],
        "cohort_id": cohort["cohort_id"],
        "cohort_name": cohort["name"],
        "council_code": project["council_code"],
        "council_name": own.get("name"),
        "reported_under": reported.get("code", project["council_code"]),
        "successor_codes": own["successor_codes"],
        "council_type": reported.get("council_type"),
        "region": reported.get("region"),
        "population": reported.get("population"),
        "scale_band": scale_band(reported.get("population")),
        "segment": (
            segment_for(financial["demand_pressure"], financial["financial_pressure"], mapping)
            if financial
            else None
        ),
        "financial_context": financial,
        "maturity": {**maturity, "average": _average(maturity["levels"])} if maturity else None,
        "phase": state["phase"],
        "phase_since": phase_since,
        "days_in_phase": (today - date.fromisoformat(phase_since)).days if phase_since else None,
        "problem_statement_iterations": state["statements"],
        "capacity_choices": choices,
        "shares_with": sorted(set(shared)),
        "shared_with_by": [],
        "share_partners": [],
        "last_check_in": (
            {"decided_on": check_ins[-1][0], "team_health": check_ins[-1][2]} if check_ins else None
        ),
        "team_health_trend": [c[2] for c in check_ins],
        "member_engagements": state["engagements"],
        "open_concerns": len(state["open_concerns"]),
        "last_recorded_on": last_activity,
        "quiet": silent_days >= quiet_after_days,
        "withdrawn": withdrawn,
    }


def _average(levels: dict[str, int]) -> float:
    return round(sum(levels.values()) / len(levels), 2)


def group(rows: list[dict[str, Any]], by: str) -> list[dict[str, Any]]:
    """Rows grouped by one of ``GROUPINGS``, with each group's totals."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(str(row[by] or "unknown"), []).append(row)
    return [
        {
            "key": key,
            "projects": len(members),
            "councils": sorted({m["reported_under"] for m in members}),
            "capacity_choices": {
                c: sum(m["capacity_choices"][c] for m in members) for c in CHOICES
            },
            "problem_statement_iterations": sum(m["problem_statement_iterations"] for m in members),
            "member_engagements": sum(m["member_engagements"] for m in members),
            "open_concerns": sum(m["open_concerns"] for m in members),
            "quiet": sum(1 for m in members if m["quiet"]),
            "items": members,
        }
        for key, members in sorted(groups.items())
    ]


def first_enrolled(db: Database, cohort_id: str) -> str | None:
    """When the cohort's first project was started (None if none is)."""
    row = db.one("SELECT MIN(started_at) AS at FROM cmp_projects WHERE cohort_id = ?", (cohort_id,))
    return None if row is None or row["at"] is None else str(row["at"])


#: The figures of a row whose middle value across a cohort means something, and where
#: each is found. Labels, categories and dates have no middle; a count of one choice
#: (make, buy, share, experiment) is too small to have a useful one.
MEDIAN_FIGURES: dict[str, tuple[str, ...]] = {
    "population": ("population",),
    "maturity": ("maturity", "average"),
    "days_in_phase": ("days_in_phase",),
    "problem_statement_iterations": ("problem_statement_iterations",),
    "capacity_decisions": ("capacity_choices",),
    "member_engagements": ("member_engagements",),
    "open_concerns": ("open_concerns",),
}


def figure_of(row: dict[str, Any], figure: str) -> float | None:
    """One of ``MEDIAN_FIGURES`` of a row; None where the row has none."""
    value: Any = row
    for key in MEDIAN_FIGURES[figure]:
        value = value.get(key) if isinstance(value, dict) else None
        if value is None:
            return None
    if isinstance(value, dict):  # capacity choices: all decisions, whatever the choice
        return float(sum(value.values()))
    return float(value)


#: The figures that are a council's own, not its project's: a council leading several
#: projects in the cohort counts once in their medians.
COUNCIL_FIGURES = frozenset({"population", "maturity"})


def medians(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each of ``MEDIAN_FIGURES``: its median over the projects not withdrawn that have
    it (over their councils, each once, for ``COUNCIL_FIGURES``), how many were
    counted (``counted``) and of what (``of``: ``councils`` or ``projects``).

    A median, not a mean: a cohort is a handful of councils, and one county's
    population or one long-paused project would pull a mean away from most of them.
    """
    counted = [r for r in rows if not r["withdrawn"]]
    councils: dict[str, dict[str, Any]] = {}
    for row in counted:
        councils.setdefault(row["council_code"], row)
    found = {}
    for figure in MEDIAN_FIGURES:
        of = "councils" if figure in COUNCIL_FIGURES else "projects"
        chosen = list(councils.values()) if of == "councils" else counted
        values = [v for v in (figure_of(r, figure) for r in chosen) if v is not None]
        found[figure] = {
            "median": statistics.median(values) if values else None,
            "counted": len(values),
            "of": of,
        }
    return found
