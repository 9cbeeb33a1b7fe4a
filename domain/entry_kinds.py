"""The catalogue of entry kinds: each kind, and each of its fields, declared once.

A kind states what it records (``name``, ``hint``) and its fields in order;
a field states its rule (``Text``, ``Choice``, ... with ``required`` and its
limits), its words (``label``, ``hint``) and an ``example`` for the API's
documentation. Everything else is made from this: the event classes and their
rules (domain/project.py), the API's request models and examples
(web/schemas.py), the pages' forms and labels (web/pages/), and the read
models, which know entries only as a kind and its values.

Adding a kind is one ``EntryKind`` in ``CATALOGUE`` (and, if a plain first
answer is not summary enough, a line in projections/summaries.py): see
"Adding an entry kind" in docs/DOMAIN.md. A kind's ``kind`` and field names
are stored in every event of the kind: never rename them once recorded.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from domain.fields import (
    Choice,
    CouncilCode,
    Day,
    Field,
    Flag,
    Links,
    Money,
    Names,
    Quantity,
    Reference,
    Replacement,
    Text,
    WebAddress,
)
from domain.vocabulary import (
    Architecture,
    AssessedPhase,
    AssessmentResult,
    BenefitOutcome,
    CapacityArea,
    CapacityChoice,
    ConcernCategory,
    CorrectionReason,
    NeedSegmentation,
    OutputKind,
    Phase,
    ProjectMethod,
    StanceTopic,
    SupportSource,
    SupportStatus,
    TeamHealth,
)

#: Attributes every entry event carries; no kind may have a field of these names.
COMMON_ATTRIBUTES = frozenset(
    {
        "originator_id",
        "originator_version",
        "timestamp",
        "entry_id",
        "decided_on",
        "actor",
        "kind",
        "earlier_decision_confirmed",
        "links",
        "public",
    }
)
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")

#: The date every entry carries: when it happened in the world (today if not given).
DECIDED_ON = Day(
    required=False,
    label="Date decided",
    hint="When it happened, not when it is recorded. Leave blank for today. For example, 27 3 2026",
    description="When it happened in the world; today if not given.",
)

#: Every entry may carry it: the person confirms that a date before the cohort started
#: (or, for a problem statement, before the version it replaces) is meant. It is kept
#: with the entry, so that reviewers see the date was confirmed, not mistyped.
EARLIER_DECISION = Flag(
    required=False,
    label="I am recording an earlier decision",
    hint="Only if the date decided is before the cohort started, or before the "
    "problem statement it replaces",
    description="Send true to record an entry decided before its cohort started (or a "
    "problem-statement version decided before the version it replaces); otherwise such a "
    "`decided_on` is refused. Kept with the entry.",
)


#: Every entry may carry links to its evidence: ``[{title, url}]``, http or https only.
LINKS = Links(
    required=False,
    label="Links to evidence",
    hint="One link per line: a title, a vertical bar, then the web address. "
    "For example, User research report | https://example.org/report",
    example=[{"title": "User research report", "url": "https://example.org/report"}],
    description="Links to evidence, each a `title` and an absolute http or https `url`; "
    "anything else (javascript:, data:, relative addresses) is refused.",
)

#: Every entry may be marked public when recorded (only where its programme allows
#: publishing): it then appears on the project's open page, ``/open/projects/{id}``.
PUBLIC = Flag(
    required=False,
    label="Show this entry on the project's public page",
    hint="Anyone can read it there without signing in. Only where the programme allows publishing",
    description="Send true to show this entry on the project's public page (its programme "
    "must allow publishing). A correction is public only if it says so itself.",
)


def camel_case(kind: str) -> str:
    """``capacity_decided`` as ``CapacityDecided``."""
    return "".join(part.capitalize() for part in kind.split("_"))


@dataclass(frozen=True)
class EntryKind:
    """One kind of entry: what it is called, what it records, and its fields in order."""

    #: The body's ``kind`` and the record's name for it, e.g. ``capacity_decided``.
    kind: str
    #: What happened, as a person would name it: "Capacity decided".
    name: str
    #: What it records, in a line, under its name where a kind is chosen.
    hint: str
    fields: Mapping[str, Field] = field(default_factory=dict)
    #: The event class's name on ``Project`` (its topic names it): CamelCase of ``kind``
    #: unless given. Never change it once recorded.
    event: str = ""
    #: False where a kind has no form of its own (a correction starts from its entry).
    recordable: bool = True
    #: The words for this kind's ``decided_on``, where they differ from every entry's.
    decided_on: Day = DECIDED_ON

    @property
    def event_name(self) -> str:
        return self.event or camel_case(self.kind)

    @property
    def model_name(self) -> str:
        """The name of its request body in the API's documentation."""
        return camel_case(self.kind)

    def example(self) -> dict[str, Any]:
        """The values of the fields that give an example, in the fields' order."""
        return {name: f.example for name, f in self.fields.items() if f.example is not None}

    def problems(self) -> list[str]:
        """What is wrong with the declaration, in words; empty when it can be registered."""
        found = []
        if not _NAME.match(self.kind):
            found.append(f"kind {self.kind!r} must be lower_case_with_underscores")
        if not self.name.strip() or not self.hint.strip():
            found.append(f"{self.kind} needs a name and a hint")
        if not self.event_name.isidentifier() or not self.event_name[:1].isupper():
            found.append(f"{self.kind}: event name {self.event_name!r} must be a CamelCase name")
        for name, spec in self.fields.items():
            if not _NAME.match(name) or keyword.iskeyword(name):
                found.append(f"{self.kind}.{name}: a field name is lower_case_with_underscores")
            if name in COMMON_ATTRIBUTES:
                found.append(f"{self.kind}.{name}: every entry has {name} already")
            if not isinstance(spec, Field):
                found.append(f"{self.kind}.{name}: must be a Field (domain/fields.py)")
            elif not spec.label.strip():
                found.append(f"{self.kind}.{name} needs a label")
            elif isinstance(spec, Choice) and spec.choices is None:
                found.append(f"{self.kind}.{name}: a Choice needs its choices")
        return found


#: Every kind the record knows, in the order pages offer them.
CATALOGUE: tuple[EntryKind, ...] = (
    EntryKind(
        kind="problem_statement_iterated",
        name="Problem statement iterated",
        hint="A new version of the problem statement: what changed and why",
        fields={
            "statement": Text(
                label="Problem statement",
                example="Residents cannot find out when their bin will be collected.",
            ),
            "what_changed": Text(
                required=False,
                label="What changed from the last version",
                example="Narrowed from all waste services to collections.",
            ),
            "why": Text(
                required=False,
                label="Why it changed",
                example="User research showed collections drive 70% of calls.",
            ),
        },
    ),
    EntryKind(
        kind="capacity_decided",
        name="Capacity decided",
        hint="How a capability will be provided: make, buy, share or experiment",
        fields={
            "capability": Text(
                max_length=500,
                label="Capability",
                hint="What the council needs to be able to do",
                example="Online booking",
            ),
            "choice": Choice(
                choices=CapacityChoice, label="How the capability will be provided", example="share"
            ),
            "rationale": Text(
                required=False,
                label="Rationale",
                example="Two neighbours already run the same platform.",
            ),
            "alternatives_considered": Names(
                required=False, label="Alternatives considered", hint="One per line"
            ),
            "partner": Text(required=False, max_length=500, label="Partner or supplier"),
            "shared_with": Names(
                required=False,
                max_items=20,
                max_item_length=20,
                label="Partner councils",
                hint="Only for a share decision: the councils' codes, one per line",
                # No example: the API's example must record anywhere, and a code names
                # a council registered in one store only.
                description="For a `share` decision: the registered councils (codes) it is "
                'shared with, for example `["GB-TEI"]`.',
            ),
            "estimated_cost": Money(
                required=False,
                label="Estimated cost",
                hint="In pounds, for example 48000 or 48000.50",
                example="48000.00",
            ),
            "decision_makers": Names(
                required=False,
                label="Decision-makers",
                hint="One per line",
                example=["Chief Executive"],
            ),
            "consulted": Names(required=False, label="Consulted", hint="One per line"),
            "informed": Names(required=False, label="Informed", hint="One per line"),
        },
    ),
    EntryKind(
        kind="sponsor_check_in",
        event="SponsorCheckedIn",
        name="Sponsor check-in",
        hint="Answers to the sponsor's coaching questions, and how the team is",
        fields={
            "problem_statement": Text(
                required=False,
                label="What is the current iteration of the problem statement?",
                example="Residents cannot find out when their bin will be collected.",
            ),
            "surprising_finding": Text(
                required=False,
                label="What has been the most surprising finding?",
                example="Most calls come from people who already use the app.",
            ),
            "need_segmentation": Choice(
                required=False,
                choices=NeedSegmentation,
                label="How segmented is the need?",
                example="mostly_universal",
            ),
            "team_health": Choice(choices=TeamHealth, label="Are the team okay?", example="amber"),
            "team_health_note": Text(
                required=False,
                label="About the team",
                hint="Optional",
                example="Two people off sick.",
            ),
            "scope_of_implementation": Text(
                required=False, label="What is the scope of implementation?"
            ),
            "decisions_ahead": Text(required=False, label="What decisions lie ahead?"),
            "member_engagement": Text(required=False, label="How are members being engaged?"),
        },
    ),
    EntryKind(
        kind="case_for_change",
        event="CaseForChangeMade",
        name="Case for change",
        hint="Fit with the council's narrative, standard of proof, coalition",
        fields={
            "narrative_fit": Text(
                label="How it fits the council's narrative",
                example="Part of the council plan's 'digital first' promise.",
            ),
            "standard_of_proof": Text(
                required=False,
                label="Standard of proof for the business case",
                example="A working prototype tested with twenty residents.",
            ),
            "coalition": Text(required=False, label="Coalition", hint="Who backs the change"),
            "performance_regime": Text(required=False, label="Performance regime"),
        },
    ),
    EntryKind(
        kind="capacity_built",
        name="Capacity built",
        hint="Recruitment, skills or culture change, and what was done",
        fields={
            "area": Choice(choices=CapacityArea, label="Area", example="skills"),
            "what_was_done": Text(label="What was done", example="Service design training for 12."),
        },
    ),
    EntryKind(
        kind="way_of_working_chosen",
        name="Way of working chosen",
        hint="Project method, product ownership, tools and architecture",
        fields={
            "project_method": Choice(
                choices=ProjectMethod, label="Project method", example="agile"
            ),
            "product_ownership": Text(
                required=False,
                label="Product ownership",
                example="Head of Waste owns the service.",
            ),
            "collaboration_tools": Names(
                required=False,
                label="Collaboration tools",
                hint="One per line",
                example=["Trello", "Slack"],
            ),
            "architecture": Choice(
                required=False, choices=Architecture, label="Architecture", example="platform"
            ),
        },
    ),
    EntryKind(
        kind="stance_taken",
        name="Stance taken",
        hint="A position on open source, evidence, open data and the like",
        fields={
            "topic": Choice(
                choices=StanceTopic, label="Topic", example="open_source_or_commercial"
            ),
            "position": Text(label="Position", example="Open source by default."),
            "rationale": Text(required=False, label="Rationale"),
        },
    ),
    EntryKind(
        kind="phase_changed",
        name="Phase changed",
        hint="Discovery, alpha, beta, live, retired, paused or stopped",
        fields={
            "phase": Choice(choices=Phase, label="Phase", example="alpha"),
            "reason": Text(
                required=False,
                label="Reason",
                hint="Needed when going back, pausing or stopping",
                example="Discovery complete.",
            ),
        },
    ),
    EntryKind(
        kind="members_engaged",
        name="Members engaged",
        hint="How elected members were engaged, and their response",
        fields={
            "how": Text(
                label="How members were engaged", example="Briefing at the scrutiny committee."
            ),
            "response": Text(
                required=False,
                label="Their response",
                example="Supportive; asked about digital exclusion.",
            ),
            "members": Names(required=False, label="Members", hint="One per line"),
        },
    ),
    EntryKind(
        kind="concern_raised",
        name="Concern raised",
        hint="Data ethics, privacy, security, digital exclusion, legacy, skills",
        fields={
            "category": Choice(
                choices=ConcernCategory, label="Category", example="digital_exclusion_rurality"
            ),
            "description": Text(
                label="Description",
                example="Broadband coverage in the north of the district is poor.",
            ),
        },
    ),
    EntryKind(
        kind="concern_resolved",
        name="Concern resolved",
        hint="How an open concern was resolved",
        fields={
            "concern_entry_id": Reference(
                label="Concern",
                hint="Which open concern is resolved",
                example="9f1c6a52-3c1e-4f57-9b8e-0c7d2b8f4e11",
            ),
            "resolution": Text(
                label="Resolution",
                example="Telephone booking kept alongside the online service.",
            ),
        },
    ),
    EntryKind(
        kind="support_requested",
        name="Support requested",
        hint="The one wish, and from whom",
        fields={
            "wish": Text(
                label="The one wish",
                example="A peer council that has already replaced this supplier.",
            ),
            "from_whom": Choice(
                choices=SupportSource, label="From whom", example="localgov_digital"
            ),
        },
    ),
    EntryKind(
        kind="support_answered",
        name="Support answered",
        hint="The programme's answer to a support request: acknowledged, offered, "
        "fulfilled or declined",
        fields={
            "request_entry_id": Reference(
                label="Support request",
                hint="Which support request of this project is answered",
                example="9f1c6a52-3c1e-4f57-9b8e-0c7d2b8f4e11",
            ),
            "status": Choice(choices=SupportStatus, label="Answer", example="offered"),
            "detail": Text(
                required=False,
                label="Detail",
                hint="What is offered and by whom, or why it is declined",
                example="Two days of a user researcher from the LGA in May.",
                description="Required when offering (what, and by whom) and when declining "
                "(the reason).",
            ),
        },
    ),
    EntryKind(
        kind="output_published",
        name="Output published",
        hint="Something the project made for others to reuse: research, patterns, code",
        fields={
            "output_kind": Choice(
                choices=OutputKind, label="Kind of output", example="code_repository"
            ),
            "title": Text(max_length=300, label="Title", example="Bin collection day finder"),
            "url": WebAddress(
                label="Link",
                hint="Where others can find it, starting https://",
                example="https://github.com/example-council/bin-day-finder",
            ),
            "licence": Text(
                max_length=200,
                label="Licence",
                hint="For example MIT, or Open Government Licence v3.0",
                example="MIT",
            ),
            "phase": Choice(
                choices=Phase,
                label="Phase it was made in",
                example="alpha",
            ),
        },
    ),
    EntryKind(
        kind="output_reused",
        name="Output reused",
        hint="An output another project published, used here: how, and what it saved",
        fields={
            "output_entry_id": Reference(
                label="Output",
                hint="Which published output was reused",
                example="9f1c6a52-3c1e-4f57-9b8e-0c7d2b8f4e11",
                description="An `output_published` entry of any project in the same programme.",
            ),
            "council_code": CouncilCode(
                label="Council reusing it",
                hint="Its code, for example EXETER",
                example="TEIGNBRIDGE",
                description="The reusing council's code; it must be registered.",
            ),
            "how": Text(
                label="How it was used",
                example="Forked the code and changed the collection calendar feed.",
            ),
            "saving": Money(
                required=False,
                label="What it saved",
                hint="In pounds, if known, for example 12000 or 12000.50",
                example="12000.00",
            ),
        },
    ),
    EntryKind(
        kind="partner_joined",
        name="Partner joined",
        hint="Another council joins the project as a partner, and why",
        fields={
            "council_code": CouncilCode(
                label="Partner council",
                hint="Its code, for example GB-TEI",
                example="GB-TEI",
                description="A registered council's code, other than the project's lead "
                "council and not a partner already.",
            ),
            "reason": Text(
                label="Why it joins",
                example="Teignbridge runs the same waste contract and will share the service.",
            ),
        },
    ),
    EntryKind(
        kind="partner_left",
        name="Partner left",
        hint="A partner council leaves the project, and why",
        fields={
            "council_code": CouncilCode(
                label="Partner council leaving",
                hint="Its code, for example GB-TEI",
                example="GB-TEI",
                description="The code of a council that is a partner of the project now.",
            ),
            "reason": Text(
                label="Why it leaves",
                example="Teignbridge chose its supplier's own portal instead.",
            ),
        },
    ),
    EntryKind(
        kind="grant_awarded",
        name="Grant awarded",
        hint="Money awarded to the project: by whom, from which fund, how much and for what",
        decided_on=Day(
            required=False,
            label="Date awarded",
            hint="When the award was decided. Leave blank for today. For example, 27 3 2026",
            description="The award date; today if not given.",
        ),
        fields={
            "funder": Text(
                max_length=300,
                label="Funder",
                hint="The organisation that awarded the grant",
                example="Ministry of Housing, Communities and Local Government",
            ),
            "funder_id": Text(
                required=False,
                max_length=100,
                label="Funder's organisation identifier",
                hint="Its org-id code, if it has one, for example GB-GOR-PB1",
                example="GB-GOR-PB1",
                description="The funder's org-id code (360Giving's funding organisation "
                "identifier); when not given, the export makes one from the "
                "WAYMARK_360GIVING_PREFIX setting and the funder's name.",
            ),
            "fund": Text(
                required=False,
                max_length=300,
                label="Fund and round",
                example="Local Digital Fund, round 6",
            ),
            "amount": Money(
                label="Amount awarded",
                hint="In pounds, for example 48000 or 48000.50",
                example="120000.00",
            ),
            "purpose": Text(
                label="Purpose",
                hint="What the grant is for",
                example="Alpha of an online bin collection service shared by two councils.",
            ),
            "planned_start": Day(required=False, label="Planned start", example="2026-04-01"),
            "planned_end": Day(required=False, label="Planned end", example="2027-03-31"),
        },
    ),
    EntryKind(
        kind="payment_made",
        name="Payment made",
        hint="A payment of a grant awarded to the project",
        decided_on=Day(
            required=False,
            label="Date paid",
            hint="Leave blank for today. For example, 27 3 2026",
            description="When the payment was made; today if not given.",
        ),
        fields={
            "grant_entry_id": Reference(
                label="Grant",
                hint="Which grant of this project the payment is of",
                example="9f1c6a52-3c1e-4f57-9b8e-0c7d2b8f4e11",
            ),
            "amount": Money(
                label="Amount paid",
                hint="In pounds, for example 48000 or 48000.50",
                example="40000.00",
            ),
        },
    ),
    EntryKind(
        kind="match_funding_committed",
        name="Match funding committed",
        hint="Money the council (or another source) commits alongside the grant",
        fields={
            "amount": Money(
                label="Amount committed",
                hint="In pounds, for example 48000 or 48000.50",
                example="30000.00",
            ),
            "source": Text(
                max_length=300,
                label="Source",
                hint="Where the money comes from",
                example="Council transformation reserve",
            ),
        },
    ),
    EntryKind(
        kind="grant_closed",
        name="Grant closed",
        hint="A grant closed, with the amount finally paid",
        fields={
            "grant_entry_id": Reference(
                label="Grant",
                hint="Which grant of this project is closed",
                example="9f1c6a52-3c1e-4f57-9b8e-0c7d2b8f4e11",
            ),
            "amount_paid": Money(
                label="Amount finally paid",
                hint="In pounds, for example 48000 or 48000.50",
                example="118500.00",
            ),
        },
    ),
    EntryKind(
        kind="benefit_defined",
        name="Benefit defined",
        hint="What the project means to improve: a measure, its baseline and its target",
        fields={
            "measure": Text(
                max_length=500,
                label="What will improve",
                hint="The measure, for example calls about missed bins each month",
                example="Calls about missed bins each month",
            ),
            "unit": Text(
                max_length=100,
                label="Unit",
                hint="For example calls, days, per cent or GBP",
                example="calls",
            ),
            "baseline_value": Quantity(
                label="Baseline value", hint="A number, for example 1200", example="1200"
            ),
            "baseline_on": Day(
                label="Baseline date",
                hint="When the baseline was measured. For example, 27 3 2026",
                example="2026-01-31",
            ),
            "target_value": Quantity(
                label="Target value", hint="A number, for example 600", example="600"
            ),
            "target_on": Day(
                label="Target date",
                hint="When the target should be reached. For example, 31 3 2027",
                example="2027-03-31",
            ),
            "method": Text(
                required=False,
                label="How it is measured",
                example="Monthly count of contact-centre calls tagged 'missed bin'.",
            ),
            "cashable": Flag(
                required=False,
                label="Cashable",
                hint="Tick if it is money the council can take out of its budget",
                example=False,
                description="True for a cashable saving (money that can leave the budget); "
                "false (the default) for a non-cashable benefit.",
            ),
        },
    ),
    EntryKind(
        kind="benefit_measured",
        name="Benefit measured",
        hint="A measurement of a defined benefit: the value, when, and where it came from",
        fields={
            "benefit_entry_id": Reference(
                label="Benefit",
                hint="Which benefit was measured",
                example="9f1c6a52-3c1e-4f57-9b8e-0c7d2b8f4e11",
            ),
            "value": Quantity(label="Value", hint="A number, for example 950", example="950"),
            "measured_on": Day(
                label="Date measured", hint="For example, 30 6 2026", example="2026-06-30"
            ),
            "source": Text(
                required=False,
                max_length=500,
                label="Source",
                hint="Where the figure came from",
                example="Contact-centre dashboard",
            ),
            "link": WebAddress(
                required=False,
                label="Link to the evidence",
                hint="A web address starting https://",
                example="https://example.org/dashboards/missed-bins",
            ),
        },
    ),
    EntryKind(
        kind="benefit_closed",
        name="Benefit closed",
        hint="A benefit declared realised or abandoned, and why",
        fields={
            "benefit_entry_id": Reference(
                label="Benefit",
                hint="Which benefit is closed",
                example="9f1c6a52-3c1e-4f57-9b8e-0c7d2b8f4e11",
            ),
            "outcome": Choice(choices=BenefitOutcome, label="Outcome", example="realised"),
            "reason": Text(label="Reason", example="Calls halved and stayed there for a quarter."),
        },
    ),
    EntryKind(
        kind="assessment_held",
        name="Assessment held",
        hint="A service assessment of a phase: its result, assessors, report and conditions",
        fields={
            "phase": Choice(choices=AssessedPhase, label="Phase assessed", example="alpha"),
            "result": Choice(choices=AssessmentResult, label="Result", example="met"),
            "assessors": Names(
                required=False,
                label="Assessors",
                hint="One per line",
                example=["Lead assessor, MHCLG"],
            ),
            "report_url": WebAddress(
                required=False,
                label="Link to the report",
                hint="A web address starting https://",
                example="https://example.org/assessments/alpha",
            ),
            "conditions": Text(
                required=False,
                label="Conditions",
                hint="What must be done, where the standard was met with conditions",
            ),
            "follow_up": Text(
                required=False,
                label="Follow-up of the conditions",
                hint="What has been done about them, and when",
            ),
        },
    ),
    EntryKind(
        kind="entry_made_public",
        name="Entry made public",
        hint="Show an earlier entry on the project's public page",
        recordable=False,  # through the API: a page would choose among the project's entries
        fields={
            "made_public_entry_id": Reference(
                label="The entry to make public",
                example="9f1c6a52-3c1e-4f57-9b8e-0c7d2b8f4e11",
            ),
            "reason": Text(
                required=False, label="Why it can be public", example="Agreed at the board."
            ),
        },
    ),
    EntryKind(
        kind="entry_corrected",
        name="Entry corrected",
        hint="A correction of an earlier entry: why, and the values it puts in force",
        recordable=False,
        decided_on=Day(
            required=False,
            label="Date the correction was decided",
            hint="Leave blank for today",
            description=DECIDED_ON.description,
        ),
        fields={
            "corrects": Reference(
                label="The entry it corrects", example="9f1c6a52-3c1e-4f57-9b8e-0c7d2b8f4e11"
            ),
            "reason_kind": Choice(
                choices=CorrectionReason,
                label="Why is it being corrected?",
                example="recording_error",
            ),
            "reason": Text(
                label="Explanation",
                hint="What was wrong, and how you know",
                example="The cost was typed without its last digit.",
            ),
            "replacement": Replacement(
                label="Replacement values",
                example={"estimated_cost": "48000.00"},
                description="The corrected entry's fields that change, with their new values "
                "(and `decided_on` if the date was wrong).",
            ),
        },
    ),
)
