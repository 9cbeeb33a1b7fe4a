"""Read-model catch-up on PostgreSQL: our batched Projector against the stock runner.

    .venv/bin/python bench/catch_up.py [SIZE] [--admin-url URL] [--stock-limit N]

Makes a throw-away database, writes a realistic record of about SIZE events
(100,000 by default) through the application's own aggregates and recorder
in large batches, then times, on the same data:

- ours: ``Projector.rebuild()`` of every read model (batches of
  ``WAYMARK_PROJECTION_BATCH_SIZE`` events, one transaction each);
- stock: ``eventsourcing.projection.ProjectionRunner`` with a minimal view
  (one row per event, like our audit log alone), which commits one event per
  transaction.

Prints both rates and their ratio, and appends them with the machine and date
to docs/PERFORMANCE.md and bench/results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from functools import singledispatchmethod
from pathlib import Path
from typing import Any

import psycopg
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.projection import Projection, ProjectionRunner
from psycopg.sql import SQL, Identifier

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from domain.cohort import Cohort  # noqa: E402
from domain.council import Council  # noqa: E402
from domain.programme import Programme  # noqa: E402
from domain.project import PHASE_ORDER, Project  # noqa: E402
from domain.segments import default_mapping  # noqa: E402
from services.container import Waymark, application_env  # noqa: E402
from services.records import DecisionRecords  # noqa: E402
from services.settings import Settings  # noqa: E402

TARGET = 25_000  # events/s, docs/PERFORMANCE.md
ACTOR = "bench"
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
    "care",
    "assessment",
    "waiting",
    "times",
    "data",
    "sharing",
    "broadband",
    "rural",
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
]


class Clock:
    """Event time that moves forward from a year ago to now, one small step per event."""

    def __init__(self, size: int) -> None:
        self.now = datetime.now(UTC) - timedelta(days=365)
        self.step = timedelta(days=364) / max(size, 1)

    def tick(self) -> datetime:
        self.now += self.step
        return self.now


def sentence(rng: random.Random, n: int = 12) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def entry_values(rng: random.Random, kind: str, project: Project) -> dict[str, Any] | None:
    if kind == "problem_statement_iterated":
        return {"statement": sentence(rng, 20), "why": sentence(rng, 8)}
    if kind == "capacity_decided":
        return {
            "capability": sentence(rng, 3),
            "choice": rng.choice(["make", "buy", "share", "experiment"]),
            "rationale": sentence(rng),
            "estimated_cost": f"{rng.randint(1_000, 500_000)}.{rng.randint(0, 99):02d}",
            "decision_makers": ["Chief Executive"],
        }
    if kind == "sponsor_check_in":
        return {
            "team_health": rng.choice(["green", "green", "amber", "red"]),
            "surprising_finding": sentence(rng),
        }
    if kind == "case_for_change":
        return {"narrative_fit": sentence(rng)}
    if kind == "capacity_built":
        return {"area": rng.choice(["recruitment", "skills"]), "what_was_done": sentence(rng)}
    if kind == "way_of_working_chosen":
        return {"project_method": rng.choice(["agile", "hybrid"]), "architecture": "platform"}
    if kind == "stance_taken":
        return {"topic": "open_data", "position": sentence(rng, 6)}
    if kind == "phase_changed":
        order = [p.value for p in PHASE_ORDER[:5]]
        if project.phase is None:
            return {"phase": order[0]}
        if project.phase in order[:-1]:
            return {"phase": order[order.index(project.phase) + 1]}
        return None
    if kind == "members_engaged":
        return {"how": sentence(rng, 8)}
    if kind == "concern_raised":
        return {"category": rng.choice(["privacy", "security", "skills"]), "description": "x"}
    if kind == "concern_resolved":
        open_concerns = project.open_concerns()
        if not open_concerns:
            return None
        return {"concern_entry_id": rng.choice(open_concerns), "resolution": sentence(rng, 6)}
    if kind == "support_requested":
        return {"wish": sentence(rng, 8), "from_whom": "localgov_digital"}
    if kind == "entry_corrected":
        decisions = [
            e
            for e in project.entries.values()
            if e.kind == "capacity_decided" and not e.superseded_by
        ]
        if not decisions:
            return None
        return {
            "corrects": rng.choice(decisions).entry_id,
            "reason_kind": "change_of_mind",
            "reason": sentence(rng, 5),
            "replacement": {"choice": rng.choice(["make", "buy", "share", "experiment"])},
        }
    raise AssertionError(kind)


def generate(records: DecisionRecords, size: int, seed: int = 4) -> int:
    """A realistic record of about ``size`` events, saved in batches of a few thousand."""
    rng = random.Random(seed)
    clock = Clock(size)
    pending: dict[uuid.UUID, Aggregate] = {}

    def flush() -> None:
        records.save(*pending.values())
        pending.clear()

    programmes = []
    for n in range(2):
        programme = Programme.launch(
            programme_id=uuid.uuid4(),
            name=f"Programme {n}",
            description="",
            sponsor_body="",
            actor=ACTOR,
            now=clock.tick(),
        )
        mapping = default_mapping()
        mapping["medium/medium"] = "cost_innovators"
        programme.configure_segments(mapping=mapping, actor=ACTOR, now=clock.tick())
        programmes.append(programme)
        pending[programme.id] = programme
    cohorts = []
    for n in range(8):
        start = clock.now.date() - timedelta(days=rng.randint(0, 30))
        cohort = Cohort.form(
            cohort_id=uuid.uuid4(),
            programme_id=programmes[n % 2].id,
            name=f"Cohort {n}",
            starts_on=start,
            ends_on=start + timedelta(weeks=26),
            actor=ACTOR,
            now=clock.tick(),
        )
        cohorts.append(cohort)
        pending[cohort.id] = cohort
    councils = []
    for n in range(max(10, size // 250)):
        now = clock.tick()
        council = Council.register(
            code=f"GB-B{n:04d}",
            name=f"Council {n}",
            council_type=rng.choice(["district", "county", "unitary", "london_borough"]),
            region=rng.choice(["south_west", "london", "north_east", "wales"]),
            population=rng.randint(40_000, 1_200_000),
            gss_code=f"E0{n:07d}",
            political_control="",
            actor=ACTOR,
            now=now,
        )
        council.assess_financial_context(
            assessed_on=now.date(),
            demand_pressure=rng.choice(["low", "medium", "high"]),
            financial_pressure=rng.choice(["low", "medium", "high"]),
            note=None,
            actor=ACTOR,
            now=clock.tick(),
        )
        council.assess_maturity(
            assessed_on=now.date(),
            levels={
                m: rng.randint(1, 5)
                for m in (
                    "working_in_the_open",
                    "agile_methods",
                    "collaborative_tools",
                    "user_centred_design",
                    "new_technology",
                )
            },
            note=None,
            actor=ACTOR,
            now=clock.tick(),
        )
        councils.append(council)
        pending[council.id] = council
    projects: list[Project] = []
    for council in councils:
        for cohort in rng.sample(cohorts, rng.choice([1, 1, 2])):
            now = clock.tick()
            project = Project.start(
                cohort_id=cohort.id,
                council_code=council.code,
                title=sentence(rng, 4),
                actor=ACTOR,
                now=now,
            )
            cohort.enrol(council_code=council.code, project_id=project.id, actor=ACTOR, now=now)
            projects.append(project)
            pending[project.id] = project
    flush()
    written = records.recorder.max_notification_id() or 0
    kinds, weights = zip(*KINDS, strict=True)
    unsaved = 0
    while written + unsaved < size:
        project = rng.choice(projects)
        kind = rng.choices(kinds, weights)[0]
        values = entry_values(rng, kind, project)
        if values is None:
            continue
        now = clock.tick()
        project.record(
            kind=kind,
            entry_id=uuid.uuid4(),
            decided_on=now.date() - timedelta(days=rng.randint(0, 6)),
            actor=ACTOR,
            now=now,
            values=values,
        )
        pending[project.id] = project
        unsaved += 1
        if unsaved >= 5_000:
            flush()
            written, unsaved = written + unsaved, 0
    flush()
    return records.recorder.max_notification_id() or 0


# -- the stock runner's minimal view ---------------------------------------------------


class StockView(PostgresTrackingRecorder):
    """One row per event, written with its tracking record: one transaction per event."""

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.table = Identifier(self.datastore.schema), Identifier("stock_events")
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {0}.{1} (position bigint PRIMARY KEY, event text)"
            ).format(*self.table)
        )

    def record(self, event: Any, tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(
                SQL("INSERT INTO {0}.{1} VALUES (%s, %s)").format(*self.table),
                (tracking.notification_id, type(event).__qualname__),
            )
            self._insert_tracking(cursor, tracking)


class StockProjection(Projection[StockView]):
    name = "stock"

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.record(domain_event, tracking)


# -- measuring ---------------------------------------------------------------------------


def measure_ours(settings: Settings) -> tuple[int, float]:
    waymark = Waymark(settings)
    try:
        started = time.perf_counter()
        count = waymark.projector.rebuild()
        return count, time.perf_counter() - started
    finally:
        waymark.close()


def measure_stock(settings: Settings, limit: int) -> tuple[int, float]:
    env = application_env(settings)
    started = time.perf_counter()
    with ProjectionRunner(
        application_class=DecisionRecords,
        projection_class=StockProjection,
        view_class=StockView,
        env=env,
    ) as runner:
        runner.wait(limit, timeout=3600)
        elapsed = time.perf_counter() - started
    return limit, elapsed


def machine() -> str:
    with psycopg.connect(os.environ.get("BENCH_ADMIN_URL", ADMIN), connect_timeout=3) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    version = row[0].split()[0] if row else "?"
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, PostgreSQL {version}"
    )


def record_results(size: int, ours: float, stock: float, batch_size: int, where: str) -> None:
    today = date.today().isoformat()
    entries = [
        {"name": "catch_up_ours_postgres", "value": round(ours), "unit": "events/s"},
        {"name": "catch_up_stock_postgres", "value": round(stock), "unit": "events/s"},
        {"name": "catch_up_ratio_postgres", "value": round(ours / stock, 1), "unit": "x"},
    ]
    results_file = ROOT / "bench" / "results.json"
    results = json.loads(results_file.read_text()) if results_file.exists() else []
    for entry in entries:
        target = TARGET if entry["name"] == "catch_up_ours_postgres" else None
        results.append({**entry, "target": target, "size": size, "date": today, "machine": where})
    results_file.write_text(json.dumps(results, indent=2) + "\n")
    performance = ROOT / "docs" / "PERFORMANCE.md"
    with performance.open("a") as out:
        out.write(
            f"| {today} | {where} | {size:,} | {batch_size:,} | {ours:,.0f} | {stock:,.0f} |"
            f" {ours / stock:.1f}x |\n"
        )


ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("size", nargs="?", type=int, default=100_000, help="events to write")
    parser.add_argument("--admin-url", default=os.environ.get("BENCH_ADMIN_URL", ADMIN))
    parser.add_argument(
        "--stock-limit", type=int, default=None, help="time the stock runner on the first N only"
    )
    parser.add_argument("--no-record", action="store_true", help="print only; write no files")
    args = parser.parse_args()

    name = f"waymark_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{args.admin_url.rsplit('/', 1)[0]}/{name}"
    try:
        settings = Settings(database_url=url, in_process_projections=False)
        records = DecisionRecords(env=application_env(settings))
        started = time.perf_counter()
        head = generate(records, args.size)
        records.close()
        print(f"wrote {head:,} events in {time.perf_counter() - started:.1f} s")

        count, seconds = measure_ours(settings)
        ours = count / seconds
        print(f"ours:  {count:,} events in {seconds:.2f} s = {ours:,.0f} events/s")
        limit = min(args.stock_limit or head, head)
        count, seconds = measure_stock(settings, limit)
        stock = count / seconds
        print(f"stock: {count:,} events in {seconds:.2f} s = {stock:,.0f} events/s")
        print(f"ratio: {ours / stock:.1f}x (target {TARGET:,} events/s)")
        if not args.no_record:
            record_results(head, ours, stock, settings.projection_batch_size, machine())
    finally:
        with psycopg.connect(args.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
