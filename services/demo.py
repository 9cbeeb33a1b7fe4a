"""A small, realistic demo record: one programme, one cohort, three councils."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
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


def load_demo(records: DecisionRecords, today: date | None = None) -> bool:
    """Load the demo record into an empty store; returns False if the store had events."""
    if not is_empty(records):
        return False
    today = today or datetime.now(UTC).date()
    start = today - timedelta(weeks=10)

    def day(week: int, offset: int = 0) -> date:
        return min(today, start + timedelta(weeks=week, days=offset))

    programme = records.launch_programme(
        name="Local Digital Accelerator",
        description="Senior leaders creating the organisational conditions for digital.",
        sponsor_body="Ministry of Housing, Communities and Local Government",
        actor=MANAGER,
    )
    cohort = records.form_cohort(
        programme_id=programme.id,
        name="Cohort 1",
        starts_on=start,
        ends_on=start + timedelta(weeks=24),
        actor=MANAGER,
    )
    projects: dict[str, UUID] = {}
    titles = {
        "GB-EXE": "Bin collection information online",
        "GB-DEV": "Adult social care front door",
        "GB-HCK": "Housing repairs reporting",
    }
    for council in COUNCILS:
        records.register_council(actor=MANAGER, **council)
        written = records.enrol_council(
            cohort_id=cohort.id,
            council_code=council["code"],
            title=titles[council["code"]],
            actor=MANAGER,
        )
        projects[council["code"]] = written.id

    def record(code: str, kind: str, on: date, actor: str = MANAGER, **values: Any) -> UUID:
        return records.record_entry(
            project_id=projects[code], kind=kind, decided_on=on, values=values, actor=actor
        ).id

    contexts = {"GB-EXE": ("medium", "high"), "GB-DEV": ("high", "high"), "GB-HCK": ("low", "low")}
    for code, (demand, financial) in contexts.items():
        records.assess_financial_context(
            code=code,
            assessed_on=day(0),
            demand_pressure=demand,
            financial_pressure=financial,
            note="Assessed at the cohort's first session.",
            actor=MANAGER,
        )
    for code, base in (("GB-EXE", 2), ("GB-DEV", 1), ("GB-HCK", 3)):
        records.assess_maturity(
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
        )
    records.sign_declaration(code="GB-HCK", signed_on=day(0), actor=MANAGER)
    records.update_council_profile(
        code="GB-DEV",
        changes={"suppliers": ["Liquidlogic"], "tried_before": ["Online forms in 2017"]},
        actor=MANAGER,
    )

    # Exeter: a district with tight money, moving steadily.
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
        statement="Residents cannot find out when their bin will be collected.",
        what_changed="From missed bins to collection information.",
        why="Research showed most calls ask when, not why.",
    )
    cost = record(
        "GB-EXE",
        "capacity_decided",
        day(3),
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
        "entry_corrected",
        day(3, 1),
        corrects=str(cost),
        reason_kind="recording_error",
        reason="The estimate was typed without its last digit.",
        replacement={"estimated_cost": "48000.00"},
    )
    record(
        "GB-EXE",
        "sponsor_check_in",
        day(4),
        team_health="green",
        surprising_finding="Most callers already use the council app.",
        need_segmentation="mostly_universal",
    )
    record("GB-EXE", "phase_changed", day(5), phase="alpha", reason="Discovery complete.")
    record(
        "GB-EXE",
        "way_of_working_chosen",
        day(5, 1),
        project_method="agile",
        product_ownership="Head of Waste owns the service.",
        collaboration_tools=["Trello", "Teams"],
        architecture="platform",
    )
    record(
        "GB-EXE",
        "capacity_built",
        day(6),
        area="skills",
        what_was_done="Service design training for the contact centre team.",
    )

    # Devon: a county under demand pressure, with a concern.
    record("GB-DEV", "phase_changed", day(0), phase="discovery")
    record(
        "GB-DEV",
        "problem_statement_iterated",
        day(1),
        statement="People seeking care wait too long for a first conversation.",
    )
    concern = record(
        "GB-DEV",
        "concern_raised",
        day(2),
        category="digital_exclusion_rurality",
        description="Broadband coverage in the north of the county is poor.",
    )
    record(
        "GB-DEV",
        "capacity_decided",
        day(3),
        capability="Online self-assessment",
        choice="buy",
        rationale="A mature product exists.",
        alternatives_considered=["make", "share"],
        estimated_cost="125000.00",
    )
    record(
        "GB-DEV", "sponsor_check_in", day(4), team_health="amber", team_health_note="Two vacancies."
    )
    record(
        "GB-DEV",
        "concern_resolved",
        day(6),
        concern_entry_id=str(concern),
        resolution="Telephone and library routes kept alongside the online form.",
    )
    record("GB-DEV", "sponsor_check_in", day(8), team_health="red", team_health_note="Lead left.")
    record(
        "GB-DEV",
        "case_for_change",
        day(8, 2),
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

    # Hackney: a London borough experimenting in the open.
    record("GB-HCK", "phase_changed", day(0), phase="discovery")
    record(
        "GB-HCK",
        "problem_statement_iterated",
        day(1),
        statement="Tenants cannot report a repair and know when it will be done.",
    )
    record(
        "GB-HCK",
        "capacity_decided",
        day(2),
        capability="Repairs hub",
        choice="experiment",
        rationale="Test with one estate before choosing.",
    )
    record(
        "GB-HCK",
        "stance_taken",
        day(2, 3),
        topic="open_source_or_commercial",
        position="Open source by default.",
    )
    record("GB-HCK", "members_engaged", day(3), how="Briefing for the housing scrutiny panel.")
    record(
        "GB-HCK",
        "support_requested",
        day(4),
        wish="A peer council that has replaced its repairs supplier.",
        from_whom="localgov_digital",
    )
    record("GB-HCK", "phase_changed", day(5), phase="alpha")
    statement = records.get_project(projects["GB-HCK"]).statements()[0].entry_id
    record(
        "GB-HCK",
        "entry_corrected",
        day(5, 1),
        corrects=str(statement),
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
    programmes = waymark.programmes() or []
    if not programmes:
        waymark.projector.catch_up()
        programmes = waymark.programmes()
    programme_id = UUID(programmes[-1]["programme_id"]) if programmes else None
    people: list[tuple[str, str, UUID | None, str | None, str]] = [
        ("admin", "admin", None, None, "all of Waymark"),
        ("manager", "programme_manager", programme_id, None, "the demo programme"),
        ("reviewer", "reviewer", None, None, "reads everything, writes nothing"),
        ("exeter", "participant", None, "GB-EXE", "Exeter City Council"),
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
