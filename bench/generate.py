"""A realistic record of any size, written fast through the application's own recorder.

    .venv/bin/python bench/generate.py SIZE [--database-url URL]   # into that store
    .venv/bin/python bench/generate.py SIZE --data-dir DIR         # into a SQLite store

Programmes run cohorts of about twenty councils each; councils of every type and
region have dated financial-context and maturity assessments (so segments
differ) and now and then a profile change. Each project then gets entries of
every kind in a realistic mix: problem statements iterated, capacity decisions
with costs, sponsor check-ins, phases moving forward (and sometimes pausing),
concerns raised and resolved, members engaged, and corrections of earlier
decisions, check-ins and dates. A few projects withdraw. The newer kinds come in
their own shares: grants awarded, paid in parts and closed, match funding;
benefits defined, measured and closed, service assessments; outputs published
and reused across the programme; partner councils joining and leaving;
support requests answered; and each cohort holds sessions that its councils
attend by role.

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
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from eventsourcing.domain import Aggregate  # noqa: E402

from domain.cohort import Cohort  # noqa: E402
from domain.council import Council  # noqa: E402
from domain.errors import DateTooEarly  # noqa: E402
from domain.programme import Programme  # noqa: E402
from domain.project import PHASE_ORDER, Project  # noqa: E402
from domain.segments import default_mapping  # noqa: E402
from domain.vocabulary import (  # noqa: E402
    AssessedPhase,
    AttendeeRole,
    CapacityArea,
    ConcernCategory,
    CouncilType,
    OutputKind,
    Region,
    SessionKind,
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
    # Funding: one or two grants a project, paid in parts, then closed; match funding.
    ("grant_awarded", 1),
    ("payment_made", 3),
    ("grant_closed", 1),
    ("match_funding_committed", 1),
    # Outcomes: a few benefits each, measured now and then, some closed; assessments.
    ("benefit_defined", 2),
    ("benefit_measured", 4),
    ("benefit_closed", 1),
    ("assessment_held", 1),
    # Outputs published, and reused by other projects of the programme.
    ("output_published", 2),
    ("output_reused", 1),
    # Partner councils, and the programme's answers to the one wish.
    ("partner_joined", 1),
    ("partner_left", 0.3),
    ("support_answered", 3),
]
#: A cohort's session, against any event of the loop: about one in 200 events (a cohort of
#: twenty councils, some 4,000 entries, holds about twenty sessions).
SESSION_SHARE = 0.005
#: At most so many grants, benefits, outputs and partners on one project.
MAX_GRANTS, MAX_BENEFITS, MAX_OUTPUTS, MAX_PARTNERS = 2, 4, 4, 2
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


@dataclass
class World:
    """What an entry may name outside its project, and what the generator keeps track of
    rather than work out again from the project each time."""

    today: date = field(default_factory=date.today)
    #: Every council's code (partners and reusers are registered councils).
    council_codes: list[str] = field(default_factory=list)
    #: Each cohort's programme; each programme's published outputs.
    programme_of: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)
    outputs: dict[uuid.UUID, list[uuid.UUID]] = field(default_factory=dict)
    #: Each grant's amount and what has been paid of it so far.
    grants: dict[uuid.UUID, tuple[Decimal, Decimal]] = field(default_factory=dict)

    def note(self, project: Project, kind: str, entry_id: uuid.UUID, values: Any) -> None:
        """Keep track of what an entry just recorded makes possible."""
        if kind == "grant_awarded":
            self.grants[entry_id] = (Decimal(values["amount"]), Decimal(0))
        elif kind == "payment_made":
            amount, paid = self.grants[values["grant_entry_id"]]
            self.grants[values["grant_entry_id"]] = (amount, paid + Decimal(values["amount"]))
        elif kind == "output_published":
            programme = self.programme_of[project.cohort_id]
            self.outputs.setdefault(programme, []).append(entry_id)


def _money(amount: Decimal) -> str:
    return str(amount.quantize(Decimal("0.01")))


def entry_values(
    rng: random.Random, kind: str, project: Project, world: World | None = None
) -> dict[str, Any] | None:
    """Values for one entry of ``kind`` that the project's rules accept (None: skip it)."""
    world = world if world is not None else World()
    newer = _newer_values(rng, kind, project, world)
    if newer is not None or kind in NEWER_KINDS:
        return newer
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


#: The kinds ``_newer_values`` makes: funding, outcomes, outputs, partners, answers.
NEWER_KINDS = frozenset(
    {
        "grant_awarded",
        "payment_made",
        "grant_closed",
        "match_funding_committed",
        "benefit_defined",
        "benefit_measured",
        "benefit_closed",
        "assessment_held",
        "output_published",
        "output_reused",
        "partner_joined",
        "partner_left",
        "support_answered",
    }
)


def _newer_values(
    rng: random.Random, kind: str, project: Project, world: World
) -> dict[str, Any] | None:
    if kind not in NEWER_KINDS:
        return None
    if kind in ("grant_awarded", "payment_made", "grant_closed", "match_funding_committed"):
        return _funding(rng, kind, project, world)
    if kind in ("benefit_defined", "benefit_measured", "benefit_closed", "assessment_held"):
        return _outcome(rng, kind, project, world)
    if kind == "output_published":
        if sum(e.kind == kind for e in project.entries.values()) >= MAX_OUTPUTS:
            return None
        output_kind = rng.choice(list(OutputKind)).value
        slug = "-".join(rng.choice(WORDS) for _ in range(3))
        return {
            "output_kind": output_kind,
            "title": sentence(rng, 4),
            "url": f"https://github.com/{project.council_code.lower()}/{slug}",
            "licence": rng.choice(["MIT", "OGL v3.0", "CC BY 4.0", "Apache-2.0"]),
            "phase": project.phase if project.phase in PHASES_MADE_IN else "discovery",
        }
    if kind == "output_reused":
        outputs = world.outputs.get(world.programme_of.get(project.cohort_id, uuid.uuid4()))
        if not outputs:
            return None
        reuse: dict[str, Any] = {
            "output_entry_id": rng.choice(outputs[-50:]),
            "council_code": project.council_code,
            "how": sentence(rng, 8),
        }
        if rng.random() < 0.6:
            reuse["saving"] = f"{rng.randint(500, 80_000)}.00"
        return reuse
    if kind == "partner_joined":
        if len(project.partners) >= MAX_PARTNERS or not world.council_codes:
            return None
        code = rng.choice(world.council_codes)
        if code == project.council_code or code in project.partners:
            return None
        return {"council_code": code, "reason": sentence(rng, 8)}
    if kind == "partner_left":
        if not project.partners:
            return None
        return {"council_code": rng.choice(sorted(project.partners)), "reason": sentence(rng, 6)}
    return _answer(rng, project)


#: The phases an output is made in, as ``domain.vocabulary.Phase`` names them.
PHASES_MADE_IN = frozenset(p.value for p in PHASE_ORDER)


def _funding(
    rng: random.Random, kind: str, project: Project, world: World
) -> dict[str, Any] | None:
    if kind == "grant_awarded":
        if len(project.grants()) >= MAX_GRANTS:
            return None
        start = world.today + timedelta(days=rng.randint(0, 60))
        grant: dict[str, Any] = {
            "funder": "Ministry of Housing, Communities and Local Government",
            "amount": f"{rng.randrange(20_000, 350_000, 500)}.00",
            "purpose": sentence(rng, 10),
        }
        if rng.random() < 0.8:
            grant |= {
                "funder_id": "GB-GOR-PB1",
                "fund": f"Local Digital Fund, round {rng.randint(1, 7)}",
            }
        if rng.random() < 0.7:
            grant |= {
                "planned_start": start.isoformat(),
                "planned_end": (start + timedelta(weeks=rng.choice([12, 26, 52]))).isoformat(),
            }
        return grant
    if kind == "match_funding_committed":
        if sum(e.kind == kind for e in project.entries.values()) >= 2:
            return None
        source = rng.choice(["Transformation reserve", "Service budget", "Partner councils"])
        return {"amount": f"{rng.randrange(5_000, 120_000, 500)}.00", "source": source}
    closed = project.closed_grants()
    open_grants = [g.entry_id for g in project.grants() if g.entry_id not in closed]
    if not open_grants:
        return None
    grant_id = rng.choice(open_grants)
    amount, paid = world.grants.get(grant_id, (Decimal(0), Decimal(0)))
    if kind == "grant_closed":
        if paid == 0 or rng.random() < 0.5:
            return None  # closed once paid, and not the moment after a payment
        return {"grant_entry_id": grant_id, "amount_paid": _money(paid)}
    left = amount - paid
    if left <= 0:
        return None
    part = min(left, amount * Decimal(rng.choice(["0.25", "0.3", "0.4", "0.5"])))
    return {"grant_entry_id": grant_id, "amount": _money(part)}


def _outcome(
    rng: random.Random, kind: str, project: Project, world: World
) -> dict[str, Any] | None:
    if kind == "assessment_held":
        if project.phase not in ASSESSED:
            return None
        result = rng.choices(["met", "met_with_conditions", "not_met"], [6, 3, 1.5])[0]
        held: dict[str, Any] = {
            "phase": project.phase,
            "result": result,
            "assessors": ["Lead assessor, MHCLG", "User researcher, GDS"][: rng.randint(1, 2)],
        }
        if result != "met":
            held["conditions"] = sentence(rng, 10)
        if rng.random() < 0.5:
            held["report_url"] = f"https://example.org/assessments/{uuid.uuid4()}"
        return held
    if kind == "benefit_defined":
        if sum(e.kind == kind for e in project.entries.values()) >= MAX_BENEFITS:
            return None
        baseline = rng.randint(100, 5_000)
        cashable = rng.random() < 0.3
        return {
            "measure": sentence(rng, 6),
            "unit": "GBP" if cashable else rng.choice(["calls", "days", "per cent", "visits"]),
            "baseline_value": str(baseline),
            "baseline_on": (world.today - timedelta(days=rng.randint(0, 60))).isoformat(),
            "target_value": str(baseline // rng.choice([2, 3, 4])),
            "target_on": (world.today + timedelta(days=rng.randint(90, 540))).isoformat(),
            "method": sentence(rng, 8),
            "cashable": cashable,
        }
    closed = project.closed_benefits()
    benefits = [
        e.entry_id
        for e in project.entries.values()
        if e.kind == "benefit_defined" and e.entry_id not in closed
    ]
    if not benefits:
        return None
    benefit_id = rng.choice(benefits)
    if kind == "benefit_closed":
        outcome = rng.choices(["realised", "abandoned"], [3, 1])[0]
        return {"benefit_entry_id": benefit_id, "outcome": outcome, "reason": sentence(rng, 8)}
    measured: dict[str, Any] = {
        "benefit_entry_id": benefit_id,
        "value": f"{rng.randint(50, 5_000)}.{rng.randint(0, 9)}",
        "measured_on": (world.today - timedelta(days=rng.randint(0, 14))).isoformat(),
        "source": rng.choice(["Contact-centre dashboard", "Finance system", "Survey"]),
    }
    if rng.random() < 0.3:
        measured["link"] = "https://example.org/dashboards/benefits"
    return measured


#: The phases a service assessment is held for.
ASSESSED = frozenset(p.value for p in AssessedPhase)
#: A support request's next answer, from its latest (None: unanswered), and their shares.
ANSWERS: dict[str | None, tuple[tuple[str, ...], tuple[float, ...]]] = {
    None: (("acknowledged", "offered", "declined"), (5, 3, 1)),
    "acknowledged": (("offered", "fulfilled", "declined"), (5, 3, 1)),
    "offered": (("fulfilled", "declined"), (6, 1)),
}


def _answer(rng: random.Random, project: Project) -> dict[str, Any] | None:
    """The programme's next answer to one of the project's open support requests."""
    status: dict[uuid.UUID, str | None] = {}
    for entry in project.entries.values():
        if entry.kind == "support_requested":
            status[entry.entry_id] = None
        elif entry.kind == "support_answered":
            status[entry.fields["request_entry_id"]] = entry.fields["status"]
    open_requests = [r for r, s in status.items() if s in ANSWERS]
    if not open_requests:
        return None
    request = rng.choice(open_requests)
    choices, weights = ANSWERS[status[request]]
    answer = rng.choices(choices, weights)[0]
    return {"request_entry_id": request, "status": answer, "detail": sentence(rng, 8)}


def _session(rng: random.Random, cohort: Cohort, now: datetime) -> None:
    """A session of the cohort, attended by some of its councils, each by a role or two."""
    codes = sorted(cohort.projects)
    came = rng.sample(codes, k=min(len(codes), rng.randint(3, 12)))
    attendance = [
        {"council_code": code, "role": role, "people": rng.randint(1, 4)}
        for code in came
        for role in rng.sample(list(AttendeeRole), k=rng.randint(1, 2))
    ]
    links = []
    if rng.random() < 0.6:
        links.append({"title": "Slides", "url": f"https://example.org/slides/{uuid.uuid4()}"})
    cohort.hold_session(
        session_id=uuid.uuid4(),
        session_kind=rng.choice(list(SessionKind)).value,
        held_on=now.date() - timedelta(days=rng.randint(0, 3)),
        topic=sentence(rng, 5),
        run_by=rng.choice(["LGA", "Programme team", "MHCLG", "A peer council"]),
        attendance=attendance,
        notes=sentence(rng, 12) if rng.random() < 0.5 else "",
        links=links,
        actor="pm.jones",
        now=now,
    )


def _next_phase(rng: random.Random, project: Project) -> dict[str, Any] | None:
    order = [p.value for p in PHASE_ORDER[:5]]
    if project.phase is None:
        return {"phase": order[0]}
    if project.phase == "paused":
        return {"phase": project.phase_before_pause or order[0], "reason": "Resumed"}
    if project.phase in order[:-1]:
        if rng.random() < 0.1:
            return {"phase": "paused", "reason": sentence(rng, 5)}
        onward = {"phase": order[order.index(project.phase) + 1]}
        if any(a["result"] == "not_met" for a in project.latest_assessments().values()):
            onward["reason"] = "The assessment's points are answered"  # past a not met
        return onward
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
    world = World(
        council_codes=[c.code for c in councils],
        programme_of={c.id: c.programme_id for c in cohorts},
    )
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
        elif roll < 0.002 + SESSION_SHARE:
            cohort = rng.choice(cohorts)
            _session(rng, cohort, clock.tick())
            pending[cohort.id] = cohort
            unsaved += 1
            continue
        if project.withdrawn:
            continue
        kind = rng.choices(kinds, weights)[0]
        world.today = clock.now.date()
        values = entry_values(rng, kind, project, world)
        if values is None:
            continue
        now = clock.tick()
        entry_id, decided_on = uuid.uuid4(), now.date() - timedelta(days=rng.randint(0, 6))
        actor = rng.choice(ACTORS)
        try:
            project.record(
                kind=kind,
                entry_id=entry_id,
                decided_on=decided_on,
                actor=actor,
                now=now,
                values=values,
            )
        except DateTooEarly as early:  # a statement before the one it replaces: not that day
            project.record(
                kind=kind,
                entry_id=entry_id,
                decided_on=early.earliest,
                actor=actor,
                now=now,
                values=values,
            )
        world.note(project, kind, entry_id, values)
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
