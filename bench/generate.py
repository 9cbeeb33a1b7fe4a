"""A realistic record of any size, written fast through the application's own recorder.

    .venv/bin/python bench/generate.py SIZE [--database-url URL]   # into that store
    .venv/bin/python bench/generate.py SIZE --data-dir DIR         # into a SQLite store

Programmes run cohorts of about twenty councils each; councils of every type and
region have dated financial-context and maturity assessments (so segments
differ) and now and then a profile change. Each project then gets entries of
every kind in a realistic mix: problem statements iterated, capacity decisions
with costs, sponsor check-ins, phases moving forward (and sometimes pausing),
concerns raised and resolved, members engaged, and corrections of earlier
decisions, check-ins and dates. A few projects withdraw.

Events are made by the real aggregates (so every rule is kept) and saved in
batches of a few thousand through the application's chained recorder, so the
hash chain is the one live writes make: ``waymark verify`` passes on it.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from eventsourcing.domain import Aggregate  # noqa: E402

from domain.cohort import Cohort  # noqa: E402
from domain.council import Council  # noqa: E402
from domain.programme import Programme  # noqa: E402
from domain.project import PHASE_ORDER, Project  # noqa: E402
from domain.segments import default_mapping  # noqa: E402
from domain.vocabulary import (  # noqa: E402
    CapacityArea,
    ConcernCategory,
    CouncilType,
    Region,
    StanceTopic,
    SupportSource,
)
from services.container import application_env  # noqa: E402
from services.records import DecisionRecords  # noqa: E402
from services.settings import Settings  # noqa: E402

#: Entry kinds and their share of a project's entries.
KINDS = [
    ("problem_statement_iterated", 8),
    ("capacity_decided", 12),
    ("sponsor_check_in", 25),
    ("case_for_change", 4),
    ("capacity_built", 6),
    ("way_of_working_chosen", 3),
    ("stance_taken", 3),
    ("phase_changed", 5),
    ("members_engaged", 6),
    ("concern_raised", 6),
    ("concern_resolved", 4),
    ("support_requested", 4),
    ("entry_corrected", 4),
]
COUNCILS_PER_COHORT = 20
COHORTS_PER_PROGRAMME = 25
#: Events per council before entries: registered, two assessments, enrolments.
EVENTS_PER_COUNCIL = 250
SAVE_BATCH = 5_000
PRESSURES = ("low", "medium", "high")
MATURITY = (
    "working_in_the_open",
    "agile_methods",
    "collaborative_tools",
    "user_centred_design",
    "new_technology",
)
WORDS = [
    "residents",
    "cannot",
    "find",
    "out",
    "when",
    "their",
    "bin",
    "collection",
    "happens",
    "so",
    "they",
    "phone",
    "the",
    "contact",
    "centre",
    "tenants",
    "repairs",
    "booking",
    "online",
    "adult",
    "social",
    "care",
    "assessment",
    "waiting",
    "times",
    "data",
    "sharing",
    "rural",
    "broadband",
    "library",
    "digital",
    "inclusion",
    "platform",
    "supplier",
    "contract",
    "procurement",
    "prototype",
    "research",
    "users",
    "council",
    "members",
    "scrutiny",
    "budget",
    "pressure",
    "demand",
    "housing",
    "benefits",
    "school",
    "transport",
    "planning",
    "applications",
    "parking",
    "permits",
    "council",
    "tax",
]
ACTORS = ("pm.jones", "pm.smith", "officer.khan", "officer.evans", "sponsor.okafor", "cli")


class Clock:
    """Event time moving forward over the last year, one small step per event."""

    def __init__(self, size: int) -> None:
        self.now = datetime.now(UTC) - timedelta(days=365)
        self.step = timedelta(days=360) / max(size, 1)

    def tick(self) -> datetime:
        self.now += self.step
        return self.now


def sentence(rng: random.Random, n: int = 12) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def entry_values(rng: random.Random, kind: str, project: Project) -> dict[str, Any] | None:
    """Values for one entry of ``kind`` that the project's rules accept (None: skip it)."""
    if kind == "problem_statement_iterated":
        return {
            "statement": sentence(rng, 20),
            "what_changed": sentence(rng, 6),
            "why": sentence(rng, 8),
        }
    if kind == "capacity_decided":
        return {
            "capability": sentence(rng, 3),
            "choice": rng.choice(["make", "buy", "share", "experiment"]),
            "rationale": sentence(rng),
            "estimated_cost": f"{rng.randint(1_000, 500_000)}.{rng.randint(0, 99):02d}",
            "decision_makers": ["Chief Executive", "Head of Digital"][: rng.randint(1, 2)],
        }
    if kind == "sponsor_check_in":
        return {
            "team_health": rng.choice(["green", "green", "amber", "red"]),
            "surprising_finding": sentence(rng),
            "need_segmentation": rng.choice(["universal", "mixed", "highly_varied"]),
        }
    if kind == "case_for_change":
        return {"narrative_fit": sentence(rng), "standard_of_proof": sentence(rng, 6)}
    if kind == "capacity_built":
        return {"area": rng.choice(list(CapacityArea)).value, "what_was_done": sentence(rng)}
    if kind == "way_of_working_chosen":
        return {
            "project_method": rng.choice(["agile", "hybrid", "waterfall"]),
            "architecture": rng.choice(["platform", "monolithic"]),
        }
    if kind == "stance_taken":
        return {"topic": rng.choice(list(StanceTopic)).value, "position": sentence(rng, 6)}
    if kind == "phase_changed":
        return _next_phase(rng, project)
    if kind == "members_engaged":
        return {"how": sentence(rng, 8), "response": sentence(rng, 5)}
    if kind == "concern_raised":
        return {
            "category": rng.choice(list(ConcernCategory)).value,
            "description": sentence(rng, 10),
        }
    if kind == "concern_resolved":
        open_concerns = project.open_concerns()
        if not open_concerns:
            return None
        return {"concern_entry_id": rng.choice(open_concerns), "resolution": sentence(rng, 6)}
    if kind == "support_requested":
        return {"wish": sentence(rng, 8), "from_whom": rng.choice(list(SupportSource)).value}
    if kind == "entry_corrected":
        return _correction(rng, project)
    raise AssertionError(kind)


def _next_phase(rng: random.Random, project: Project) -> dict[str, Any] | None:
    order = [p.value for p in PHASE_ORDER[:5]]
    if project.phase is None:
        return {"phase": order[0]}
    if project.phase == "paused":
        return {"phase": project.phase_before_pause or order[0], "reason": "Resumed"}
    if project.phase in order[:-1]:
        if rng.random() < 0.1:
            return {"phase": "paused", "reason": sentence(rng, 5)}
        return {"phase": order[order.index(project.phase) + 1]}
    return None


def _correction(rng: random.Random, project: Project) -> dict[str, Any] | None:
    latest = [
        e
        for e in project.entries.values()
        if e.superseded_by is None and e.kind in ("capacity_decided", "sponsor_check_in")
    ]
    if not latest:
        return None
    target = rng.choice(latest[-20:])
    kind = project.corrected_kind(target)
    replacement: dict[str, Any]
    if kind == "capacity_decided":
        replacement = {"choice": rng.choice(["make", "buy", "share", "experiment"])}
        reason_kind = "change_of_mind"
    else:
        replacement = {"team_health": rng.choice(["green", "amber", "red"])}
        reason_kind = "recording_error"
    if rng.random() < 0.3:
        replacement["decided_on"] = (target.decided_on - timedelta(days=1)).isoformat()
    return {
        "corrects": target.entry_id,
        "reason_kind": reason_kind,
        "reason": sentence(rng, 5),
        "replacement": replacement,
    }


def generate(
    records: DecisionRecords,
    size: int,
    seed: int = 4,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write about ``size`` events (at least a small programme); returns the log's head."""
    rng = random.Random(seed)
    clock = Clock(size)
    pending: dict[uuid.UUID, Aggregate] = {}
    saved = records.recorder.max_notification_id() or 0

    def flush() -> None:
        nonlocal saved
        if pending:
            records.save(*pending.values())
            pending.clear()
            head = records.recorder.max_notification_id() or 0
            if progress is not None:
                progress(head - saved)
            saved = head

    n_councils = max(10, size // EVENTS_PER_COUNCIL)
    n_cohorts = max(2, n_councils // COUNCILS_PER_COHORT)
    n_programmes = max(1, -(-n_cohorts // COHORTS_PER_PROGRAMME))
    programmes = []
    for n in range(n_programmes):
        programme = Programme.launch(
            programme_id=uuid.uuid4(),
            name=f"Local Digital Accelerator {n + 1}",
            description=sentence(rng, 10),
            sponsor_body="Ministry of Housing, Communities and Local Government",
            actor="pm.jones",
            now=clock.tick(),
        )
        if n % 2:
            mapping = default_mapping()
            mapping["medium/medium"] = "cost_innovators"
            programme.configure_segments(mapping=mapping, actor="pm.jones", now=clock.tick())
        programmes.append(programme)
        pending[programme.id] = programme
    cohorts = []
    for n in range(n_cohorts):
        start = clock.now.date() - timedelta(days=rng.randint(0, 30))
        cohort = Cohort.form(
            cohort_id=uuid.uuid4(),
            programme_id=programmes[n % n_programmes].id,
            name=f"Cohort {n + 1}",
            starts_on=start,
            ends_on=start + timedelta(weeks=40),
            actor="pm.jones",
            now=clock.tick(),
        )
        cohorts.append(cohort)
        pending[cohort.id] = cohort
    councils = [_council(rng, clock, n) for n in range(n_councils)]
    pending.update((c.id, c) for c in councils)
    projects: list[Project] = []
    for n, council in enumerate(councils):
        first = cohorts[n % n_cohorts]
        second = rng.choice(cohorts)
        enrolled = [first] if rng.random() < 0.75 or second is first else [first, second]
        for cohort in enrolled:
            now = clock.tick()
            project = Project.start(
                cohort_id=cohort.id,
                council_code=council.code,
                title=sentence(rng, 4),
                actor="pm.smith",
                now=now,
            )
            cohort.enrol(
                council_code=council.code, project_id=project.id, actor="pm.smith", now=now
            )
            projects.append(project)
            pending[project.id] = project
    flush()
    kinds, weights = zip(*KINDS, strict=True)
    unsaved = 0
    while saved + unsaved < size:
        project = rng.choice(projects)
        roll = rng.random()
        if roll < 0.0005 and not project.withdrawn and len(project.entries) > 20:
            project.withdraw(reason=sentence(rng, 5), actor="pm.smith", now=clock.tick())
            unsaved += 1
        elif roll < 0.002:
            council = rng.choice(councils)
            _reassess(rng, clock, council)
            pending[council.id] = council
            unsaved += 1
            continue
        if project.withdrawn:
            continue
        kind = rng.choices(kinds, weights)[0]
        values = entry_values(rng, kind, project)
        if values is None:
            continue
        now = clock.tick()
        project.record(
            kind=kind,
            entry_id=uuid.uuid4(),
            decided_on=now.date() - timedelta(days=rng.randint(0, 6)),
            actor=rng.choice(ACTORS),
            now=now,
            values=values,
        )
        pending[project.id] = project
        unsaved += 1
        if unsaved >= SAVE_BATCH:
            flush()
            unsaved = 0
    flush()
    return saved


def _council(rng: random.Random, clock: Clock, n: int) -> Council:
    now = clock.tick()
    council = Council.register(
        code=f"GB-B{n:05d}",
        name=f"{rng.choice(WORDS).capitalize()} {rng.choice(['Borough', 'County', 'City'])} {n}",
        council_type=rng.choice(list(CouncilType)).value,
        region=rng.choice(list(Region)).value,
        population=rng.randint(40_000, 1_200_000),
        gss_code=f"E0{n:07d}",
        political_control=rng.choice(["Labour", "Conservative", "Liberal Democrat", "NOC"]),
        actor="pm.jones",
        now=now,
    )
    _reassess(rng, clock, council)
    return council


def _reassess(rng: random.Random, clock: Clock, council: Council) -> None:
    now = clock.tick()
    council.assess_financial_context(
        assessed_on=now.date(),
        demand_pressure=rng.choice(PRESSURES),
        financial_pressure=rng.choice(PRESSURES),
        note=None,
        actor="pm.jones",
        now=now,
    )
    council.assess_maturity(
        assessed_on=now.date(),
        levels={m: rng.randint(1, 5) for m in MATURITY},
        note=None,
        actor="pm.jones",
        now=clock.tick(),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("size", type=int, help="about how many events to write")
    parser.add_argument("--database-url", help="a PostgreSQL store (default: SQLite)")
    parser.add_argument("--data-dir", type=Path, default=Path("data"))
    parser.add_argument("--seed", type=int, default=4)
    args = parser.parse_args()
    settings = Settings(database_url=args.database_url, data_dir=args.data_dir)
    records = DecisionRecords(env=application_env(settings))
    try:
        started = time.perf_counter()
        head = generate(records, args.size, args.seed)
        print(f"{head:,} events in the log ({time.perf_counter() - started:.1f} s)")
    finally:
        records.close()


if __name__ == "__main__":
    main()
