"""A small, realistic demo record: one programme, one cohort, three councils."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import Any
from uuid import UUID

from domain.errors import NotFound
from services.container import Waymark
from services.records import DecisionRecords

MANAGER = "demo-manager"

COUNCILS: list[dict[str, Any]] = [
    {
        "code": "GB-EXE",
        "name": "Exeter City Council",
        "council_type": "district",
        "region": "south_west",
        "population": 130_000,
        "gss_code": "E07000041",
        "political_control": "Labour",
    },
    {
        "code": "GB-DEV",
        "name": "Devon County Council",
        "council_type": "county",
        "region": "south_west",
        "population": 811_000,
        "gss_code": "E10000008",
        "political_control": "Liberal Democrat",
    },
    {
        "code": "GB-HCK",
        "name": "London Borough of Hackney",
        "council_type": "london_borough",
        "region": "london",
        "population": 259_000,
        "gss_code": "E09000012",
        "political_control": "Labour",
    },
]


def is_empty(records: DecisionRecords) -> bool:
    return not records.recorder.max_notification_id()


def load_and_sign_demo(waymark: Waymark, today: date | None = None) -> bool:
    """Load the demo record into an empty store and sign its head, so that it shows
    signed as a record in use does; False (and nothing done) if the store had events."""
    if not load_demo(waymark.records, today):
        return False
    waymark.ledger.checkpoint()
    return True


class _Schedule:
    """What the demo records, each step at its own recorded instant, run in time order.

    Steps are written council by council, as a story reads; they are recorded in
    the order of their instants, so positions in the log and recorded instants
    agree, as they do in a record kept over weeks.
    """

    def __init__(self, records: DecisionRecords, latest: datetime) -> None:
        self.records = records
        self.latest = latest
        self.steps: list[tuple[datetime, int, Callable[[], Any], str | None]] = []
        #: What named steps wrote (a ``Written``'s id), for later steps to refer to.
        self.ids: dict[str, UUID] = {}

    def at(self, day: date, lag_days: int = 0, hour: int = 10) -> datetime:
        """``lag_days`` after ``day``, during the working day; never later than now."""
        moment = datetime.combine(day + timedelta(days=lag_days), time(hour), UTC)
        return min(moment + timedelta(minutes=len(self.steps)), self.latest)

    def add(self, moment: datetime, step: Callable[[], Any], name: str | None = None) -> None:
        self.steps.append((moment, len(self.steps), step, name))

    def run(self) -> None:
        for moment, _, step, name in sorted(self.steps, key=lambda s: (s[0], s[1])):
            with self.records.recording_at(moment):
                written = step()
            if name is not None:
                self.ids[name] = written.id


def _enrol(records: DecisionRecords, ids: dict[str, UUID], code: str, title: str) -> Any:
    return records.enrol_council(
        cohort_id=ids["cohort"], council_code=code, title=title, actor=MANAGER
    )


def _hold_session(records: DecisionRecords, ids: dict[str, UUID], values: dict[str, Any]) -> Any:
    return records.hold_session(cohort_id=ids["cohort"], values=values, actor=MANAGER)


def load_demo(records: DecisionRecords, today: date | None = None) -> bool:
    """Load the demo record into an empty store; returns False if the store had events.

    The record is made over simulated time: a cohort that started ten weeks ago,
    each decision recorded on the day it was made or a few days after, and one
    correction weeks later, so that "as it stood on" and the audit log have a
    history to show from the first start.
    """
    if not is_empty(records):
        return False
    real_now = datetime.now(UTC)
    today = today or real_now.date()
    latest = min(real_now, datetime.combine(today, time(23, 59), UTC))
    start = today - timedelta(weeks=10)
    plan = _Schedule(records, latest)

    def day(week: int, offset: int = 0) -> date:
        return min(today, start + timedelta(weeks=week, days=offset))

    ids = plan.ids
    set_up_day = start - timedelta(days=14)
    plan.add(
        plan.at(set_up_day),
        lambda: records.launch_programme(
            name="Local Digital Accelerator",
            description="Senior leaders creating the organisational conditions for digital.",
            sponsor_body="Ministry of Housing, Communities and Local Government",
            actor=MANAGER,
        ),
        name="programme",
    )
    plan.add(
        plan.at(set_up_day, 2),
        lambda: records.form_cohort(
            programme_id=ids["programme"],
            name="Cohort 1",
            starts_on=start,
            ends_on=start + timedelta(weeks=24),
            actor=MANAGER,
        ),
        name="cohort",
    )
    titles = {
        "GB-EXE": "Bin collection information online",
        "GB-DEV": "Adult social care front door",
        "GB-HCK": "Housing repairs reporting",
    }
    for offset, council in enumerate(COUNCILS):
        code = council["code"]
        plan.add(
            plan.at(set_up_day, 5 + offset),
            partial(records.register_council, actor=MANAGER, **council),
        )
        plan.add(
            plan.at(set_up_day, 9 + offset),
            partial(_enrol, records, ids, code, titles[code]),
            name=code,
        )

    def record(
        code: str, kind: str, on: date, lag: int = 0, name: str | None = None, **values: Any
    ) -> None:
        """An entry decided ``on`` a day and recorded ``lag`` days later."""

        def step() -> Any:
            given = {k: v() if callable(v) else v for k, v in values.items()}
            return records.record_entry(
                project_id=ids[code], kind=kind, decided_on=on, values=given, actor=MANAGER
            )

        plan.add(plan.at(on, lag), step, name)

    contexts = {"GB-EXE": ("medium", "high"), "GB-DEV": ("high", "high"), "GB-HCK": ("low", "low")}
    for code, (demand, financial) in contexts.items():
        plan.add(
            plan.at(day(0), 1),
            partial(
                records.assess_financial_context,
                code=code,
                assessed_on=day(0),
                demand_pressure=demand,
                financial_pressure=financial,
                note="Assessed at the cohort's first session.",
                actor=MANAGER,
            ),
        )
    for code, base in (("GB-EXE", 2), ("GB-DEV", 1), ("GB-HCK", 3)):
        plan.add(
            plan.at(day(0), 1),
            partial(
                records.assess_maturity,
                code=code,
                assessed_on=day(0),
                levels={
                    "working_in_the_open": base,
                    "agile_methods": base + 1,
                    "collaborative_tools": min(5, base + 2),
                    "user_centred_design": base,
                    "new_technology": base,
                },
                note="Self-assessment.",
                actor=MANAGER,
            ),
        )
    sessions = (
        (
            day(1),
            "member_masterclass",
            "Digital leadership for cabinet members",
            "LGA",
            [("GB-EXE", "leader", 1), ("GB-EXE", "cabinet_member", 2)]
            + [("GB-DEV", "cabinet_member", 1), ("GB-HCK", "scrutiny_member", 3)],
        ),
        (
            day(3),
            "accelerator_discussion",
            "Make, buy or share?",
            "The programme team",
            [("GB-EXE", "head_of_service", 2), ("GB-DEV", "director", 1)]
            + [("GB-HCK", "chief_executive", 1), ("GB-HCK", "officer", 4)],
        ),
    )
    for held_on, kind, topic, run_by, came in sessions:
        values = {
            "session_kind": kind,
            "held_on": held_on,
            "topic": topic,
            "run_by": run_by,
            "attendance": [{"council_code": c, "role": r, "people": n} for c, r, n in came],
        }
        plan.add(plan.at(held_on, 1), partial(_hold_session, records, ids, values))
    plan.add(
        plan.at(day(0), 2),
        lambda: records.sign_declaration(code="GB-HCK", signed_on=day(0), actor=MANAGER),
    )
    plan.add(
        plan.at(day(1)),
        lambda: records.update_council_profile(
            code="GB-DEV",
            changes={"suppliers": ["Liquidlogic"], "tried_before": ["Online forms in 2017"]},
            actor=MANAGER,
        ),
    )

    # Exeter: a district with tight money, moving steadily. Its capacity decision is
    # recorded with a typing error, and corrected three weeks later.
    record("GB-EXE", "phase_changed", day(0), phase="discovery")
    record(
        "GB-EXE",
        "problem_statement_iterated",
        day(0, 2),
        statement="Residents phone us to ask about missed bins.",
        why="Starting point from the contact centre.",
    )
    record(
        "GB-EXE",
        "problem_statement_iterated",
        day(2),
        lag=2,
        statement="Residents cannot find out when their bin will be collected.",
        what_changed="From missed bins to collection information.",
        why="Research showed most calls ask when, not why.",
    )
    record(
        "GB-EXE",
        "capacity_decided",
        day(2, 3),
        lag=1,
        name="exeter-cost",
        capability="Collection calendar service",
        choice="share",
        rationale="A neighbouring district runs the same platform.",
        partner="Teignbridge District Council",
        estimated_cost="4800.00",
        decision_makers=["Director of Place"],
        consulted=["Head of Waste"],
        informed=["Portfolio holder"],
    )
    record(
        "GB-EXE",
        "sponsor_check_in",
        day(4),
        lag=1,
        team_health="green",
        surprising_finding="Most callers already use the council app.",
        need_segmentation="mostly_universal",
    )
    record("GB-EXE", "phase_changed", day(5), phase="alpha", reason="Discovery complete.")
    # ... and, once its first project is in alpha, a second project it leads in the cohort
    plan.add(
        plan.at(day(5), 2),
        partial(_enrol, records, ids, "GB-EXE", "Parking permit renewals"),
        name="GB-EXE-parking",
    )
    record("GB-EXE-parking", "phase_changed", day(6), phase="discovery")
    record(
        "GB-EXE-parking",
        "problem_statement_iterated",
        day(6, 1),
        statement="Residents renewing a parking permit post proof of address every year.",
        why="Renewals are a tenth of the contact centre's calls in March.",
    )
    record(
        "GB-EXE",
        "way_of_working_chosen",
        day(5, 1),
        lag=3,
        project_method="agile",
        product_ownership="Head of Waste owns the service.",
        collaboration_tools=["Trello", "Teams"],
        architecture="platform",
    )
    record(
        "GB-EXE",
        "entry_corrected",
        day(6),
        corrects=lambda: str(ids["exeter-cost"]),
        reason_kind="recording_error",
        reason="The estimate was typed without its last digit.",
        replacement={"estimated_cost": "48000.00"},
    )
    record(
        "GB-EXE",
        "capacity_built",
        day(6),
        lag=2,
        area="skills",
        what_was_done="Service design training for the contact centre team.",
    )

    record(
        "GB-EXE",
        "benefit_defined",
        day(2),
        name="exeter-benefit",
        measure="Calls about missed bins each month",
        unit="calls",
        baseline_value="1200",
        baseline_on=day(0).isoformat(),
        target_value="600",
        target_on=(start + timedelta(weeks=24)).isoformat(),
        method="Contact-centre calls tagged 'missed bin', counted monthly.",
        cashable=False,
    )
    for week, calls in ((4, "1100"), (7, "950"), (9, "820")):
        record(
            "GB-EXE",
            "benefit_measured",
            day(week),
            benefit_entry_id=lambda: str(ids["exeter-benefit"]),
            value=calls,
            measured_on=day(week).isoformat(),
            source="Contact-centre dashboard",
        )

    # Devon: a county under demand pressure, with a concern.
    record("GB-DEV", "phase_changed", day(0), phase="discovery")
    record(
        "GB-DEV",
        "problem_statement_iterated",
        day(1),
        lag=1,
        statement="People seeking care wait too long for a first conversation.",
    )
    record(
        "GB-DEV",
        "concern_raised",
        day(2),
        name="devon-concern",
        category="digital_exclusion_rurality",
        description="Broadband coverage in the north of the county is poor.",
    )
    record(
        "GB-DEV",
        "capacity_decided",
        day(3),
        lag=4,
        capability="Online self-assessment",
        choice="buy",
        rationale="A mature product exists.",
        alternatives_considered=["make", "share"],
        estimated_cost="125000.00",
    )
    record(
        "GB-DEV",
        "capacity_decided",
        day(3, 2),
        capability="Case management",
        choice="share",
        rationale="Exeter runs the same platform and will host it.",
        partner="Devon Digital Partnership",
        shared_with=["GB-EXE"],
    )
    record(
        "GB-DEV", "sponsor_check_in", day(4), team_health="amber", team_health_note="Two vacancies."
    )
    record(
        "GB-DEV",
        "concern_resolved",
        day(6),
        lag=1,
        concern_entry_id=lambda: str(ids["devon-concern"]),
        resolution="Telephone and library routes kept alongside the online form.",
    )
    record("GB-DEV", "sponsor_check_in", day(8), team_health="red", team_health_note="Lead left.")
    record(
        "GB-DEV",
        "case_for_change",
        day(8, 2),
        lag=2,
        narrative_fit="Fits the council plan's promise of earlier help.",
        standard_of_proof="A pilot in one locality with measured waiting times.",
        coalition="Director of Adult Care, finance business partner, two members.",
    )
    record(
        "GB-DEV",
        "phase_changed",
        day(9),
        phase="paused",
        reason="Waiting for a new product lead.",
    )

    # Partners: Devon joins Exeter's project and stays; Hackney joins, then leaves.
    record(
        "GB-EXE",
        "partner_joined",
        day(1, 2),
        council_code="GB-HCK",
        reason="Hackney wanted to try the collection calendar on its estates.",
    )
    record(
        "GB-EXE",
        "partner_left",
        day(3, 1),
        council_code="GB-HCK",
        reason="Hackney's estates use a contractor's own calendar.",
    )
    record(
        "GB-EXE",
        "partner_joined",
        day(4),
        council_code="GB-DEV",
        reason="Devon disposes of the waste Exeter collects and will run the service with it.",
    )

    # Money: Exeter's grant is paid in part and matched; Hackney's is paid and closed.
    record(
        "GB-EXE",
        "grant_awarded",
        day(1),
        lag=1,
        name="exeter-grant",
        funder="Ministry of Housing, Communities and Local Government",
        funder_id="GB-GOR-PB1",
        fund="Local Digital Fund, round 6",
        amount="120000.00",
        purpose="Alpha of an online bin collection service shared with a neighbour.",
        planned_start="2026-04-01",
        planned_end="2027-03-31",
    )
    record(
        "GB-EXE",
        "match_funding_committed",
        day(2),
        amount="30000.00",
        source="Council transformation reserve",
    )
    record(
        "GB-EXE",
        "payment_made",
        day(5),
        grant_entry_id=lambda: str(ids["exeter-grant"]),
        amount="40000.00",
    )
    record(
        "GB-HCK",
        "grant_awarded",
        day(1),
        name="hackney-grant",
        funder="Ministry of Housing, Communities and Local Government",
        fund="Local Digital Fund, round 6",
        amount="60000.00",
        purpose="Discovery into how tenants report repairs.",
    )
    record(
        "GB-HCK",
        "payment_made",
        day(3),
        grant_entry_id=lambda: str(ids["hackney-grant"]),
        amount="58500.00",
    )
    record(
        "GB-HCK",
        "grant_closed",
        day(8),
        grant_entry_id=lambda: str(ids["hackney-grant"]),
        amount_paid="58500.00",
    )

    # Hackney: a London borough experimenting in the open.
    record("GB-HCK", "phase_changed", day(0), phase="discovery")
    record(
        "GB-HCK",
        "problem_statement_iterated",
        day(1),
        name="hackney-statement",
        statement="Tenants cannot report a repair and know when it will be done.",
    )
    record(
        "GB-HCK",
        "capacity_decided",
        day(2),
        lag=1,
        capability="Repairs hub",
        choice="experiment",
        rationale="Test with one estate before choosing.",
    )
    # Its programme allows publishing: Hackney works in the open, with its evidence linked.
    plan.add(
        plan.at(day(2), 2),
        lambda: records.allow_publishing(
            programme_id=ids["programme"], allowed=True, actor=MANAGER
        ),
    )
    record(
        "GB-HCK",
        "stance_taken",
        day(2, 3),
        topic="open_source_or_commercial",
        position="Open source by default.",
        links=[{"title": "Our code on GitHub", "url": "https://github.com/LBHackney-IT"}],
        public=True,
    )
    record(
        "GB-HCK",
        "members_engaged",
        day(3),
        lag=3,
        name="hackney-members",
        how="Briefing for the housing scrutiny panel.",
    )
    record(
        "GB-HCK",
        "entry_made_public",
        day(4),
        made_public_entry_id=lambda: str(ids["hackney-members"]),
        reason="The panel's papers are published.",
    )
    record(
        "GB-HCK",
        "support_requested",
        day(4),
        name="hackney-wish",
        wish="A peer council that has replaced its repairs supplier.",
        from_whom="localgov_digital",
    )
    record(
        "GB-HCK",
        "support_answered",
        day(4, 3),
        request_entry_id=lambda: str(ids["hackney-wish"]),
        status="offered",
        detail="An introduction to a council that replaced its supplier last year, via "
        "LocalGov Digital.",
    )
    record("GB-HCK", "phase_changed", day(5), phase="alpha")
    record(
        "GB-HCK",
        "assessment_held",
        day(9),
        phase="alpha",
        result="met_with_conditions",
        assessors=["Lead assessor, MHCLG", "User research assessor"],
        report_url="https://example.org/assessments/hackney-repairs-alpha",
        conditions="Test the reporting journey with tenants who use a screen reader.",
    )
    record(
        "GB-DEV",
        "benefit_closed",
        day(9, 1),
        benefit_entry_id=lambda: str(ids["devon-benefit"]),
        outcome="abandoned",
        reason="Paused: no waiting-time figures until a product lead is in post.",
    )
    record(
        "GB-DEV",
        "benefit_defined",
        day(3),
        name="devon-benefit",
        measure="Days from first contact to a care conversation",
        unit="days",
        baseline_value="21",
        baseline_on=day(1).isoformat(),
        target_value="7",
        target_on=(start + timedelta(weeks=20)).isoformat(),
        cashable=False,
    )
    record(
        "GB-HCK",
        "entry_corrected",
        day(5, 1),
        corrects=lambda: str(ids["hackney-statement"]),
        reason_kind="clarification",
        reason="Say who the tenants are.",
        replacement={"statement": "Council tenants cannot report a repair and know when."},
    )
    record(
        "GB-HCK",
        "capacity_built",
        day(6),
        area="culture_change",
        what_was_done="Show-and-tells every fortnight, open to all staff.",
    )

    # Working together: Exeter publishes its collection calendar code; Hackney reuses it,
    # and its capacity decision names the same capability in its own words.
    record(
        "GB-EXE",
        "output_published",
        day(7),
        name="exeter-output",
        output_kind="code_repository",
        title="Collection calendar API",
        url="https://github.com/exeter-city-council/collection-calendar",
        licence="MIT",
        phase="alpha",
    )
    record(
        "GB-HCK",
        "output_reused",
        day(7, 2),
        output_entry_id=lambda: str(ids["exeter-output"]),
        council_code="GB-HCK",
        how="Adapted the calendar API to publish repair appointment slots.",
        saving="15000.00",
    )
    record(
        "GB-HCK",
        "capacity_decided",
        day(7, 3),
        capability="collection calendar  service",
        choice="share",
        rationale="Exeter's service already does this.",
        partner="Exeter City Council",
    )
    plan.run()
    return True


@dataclass(frozen=True)
class DemoSignIn:
    username: str
    role: str
    scope: str
    password: str
    token: str


def create_demo_users(waymark: Waymark) -> list[DemoSignIn]:
    """One user per role, with a known password and a fresh API token (demo mode only)."""
    records = waymark.records
    programmes = waymark.queries.programmes() or []
    if not programmes:
        waymark.projector.catch_up()
        programmes = waymark.queries.programmes()
    programme_id = UUID(programmes[-1]["programme_id"]) if programmes else None
    people: list[tuple[str, str, UUID | None, str | None, str]] = [
        ("admin", "admin", None, None, "all of Waymark"),
        ("manager", "programme_manager", programme_id, None, "the demo programme"),
        ("reviewer", "reviewer", None, None, "reads everything, writes nothing"),
        ("exeter", "participant", None, "GB-EXE", "Exeter City Council"),
        # Devon leads its own project and is a partner on Exeter's bins project: a
        # partner's view, tried from the demo's sign-ins.
        ("devon", "participant", None, "GB-DEV", "Devon County Council, a partner to Exeter"),
    ]
    sign_ins = []
    for username, role, programme, council, scope in people:
        if role == "programme_manager" and programme is None:
            continue
        try:
            records.get_user(username)
        except NotFound:
            records.register_user(username=username, display_name=None, actor="demo")
            records.grant_role(
                username=username,
                role=role,
                programme_id=programme,
                council_code=council,
                actor="demo",
            )
        password = f"demo-{username}-password"
        waymark.credentials.set_password(username, password, demo=True)
        token = waymark.credentials.issue_token(username, label="demo", demo=True)
        sign_ins.append(DemoSignIn(username, role, scope, password, token))
    return sign_ins
