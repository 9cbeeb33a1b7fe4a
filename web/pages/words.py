"""The words pages use for the record's codes: kinds, fields and choices."""

from __future__ import annotations

import re
from typing import Any

#: Each entry kind as a person would name what happened.
KIND_NAMES = {
    "problem_statement_iterated": "Problem statement iterated",
    "capacity_decided": "Capacity decided",
    "sponsor_check_in": "Sponsor check-in",
    "case_for_change": "Case for change",
    "capacity_built": "Capacity built",
    "way_of_working_chosen": "Way of working chosen",
    "stance_taken": "Stance taken",
    "phase_changed": "Phase changed",
    "members_engaged": "Members engaged",
    "concern_raised": "Concern raised",
    "concern_resolved": "Concern resolved",
    "support_requested": "Support requested",
    "entry_corrected": "Entry corrected",
}

#: What each kind records, from DESIGN.md's table.
KIND_HINTS = {
    "problem_statement_iterated": "A new version of the problem statement: what changed and why",
    "capacity_decided": "How a capability will be provided: make, buy, share or experiment",
    "sponsor_check_in": "Answers to the sponsor's coaching questions, and how the team is",
    "case_for_change": "Fit with the council's narrative, standard of proof, coalition",
    "capacity_built": "Recruitment, skills or culture change, and what was done",
    "way_of_working_chosen": "Project method, product ownership, tools and architecture",
    "stance_taken": "A position on open source, evidence, open data and the like",
    "phase_changed": "Discovery, alpha, beta, live, retired, paused or stopped",
    "members_engaged": "How elected members were engaged, and their response",
    "concern_raised": "Data ethics, privacy, security, digital exclusion, legacy, skills",
    "concern_resolved": "How an open concern was resolved",
    "support_requested": "The one wish, and from whom",
}

#: Field labels where the field's name does not say it well enough: (label, hint).
FIELDS: dict[str, tuple[str, str]] = {
    "decided_on": (
        "Date decided",
        "When it happened, not when it is recorded. Leave blank for today. For example, 27 3 2026",
    ),
    "statement": ("Problem statement", ""),
    "what_changed": ("What changed from the last version", ""),
    "why": ("Why it changed", ""),
    "capability": ("Capability", "What the council needs to be able to do"),
    "choice": ("How the capability will be provided", ""),
    "alternatives_considered": ("Alternatives considered", "One per line"),
    "partner": ("Partner or supplier", ""),
    "estimated_cost": ("Estimated cost", "In pounds, for example 48000 or 48000.50"),
    "decision_makers": ("Decision-makers", "One per line"),
    "consulted": ("Consulted", "One per line"),
    "informed": ("Informed", "One per line"),
    "problem_statement": ("What is the current iteration of the problem statement?", ""),
    "surprising_finding": ("What has been the most surprising finding?", ""),
    "need_segmentation": ("How segmented is the need?", ""),
    "team_health": ("Are the team okay?", ""),
    "team_health_note": ("About the team", "Optional"),
    "scope_of_implementation": ("What is the scope of implementation?", ""),
    "decisions_ahead": ("What decisions lie ahead?", ""),
    "member_engagement": ("How are members being engaged?", ""),
    "narrative_fit": ("How it fits the council's narrative", ""),
    "standard_of_proof": ("Standard of proof for the business case", ""),
    "coalition": ("Coalition", "Who backs the change"),
    "performance_regime": ("Performance regime", ""),
    "area": ("Area", ""),
    "what_was_done": ("What was done", ""),
    "project_method": ("Project method", ""),
    "product_ownership": ("Product ownership", ""),
    "collaboration_tools": ("Collaboration tools", "One per line"),
    "architecture": ("Architecture", ""),
    "topic": ("Topic", ""),
    "position": ("Position", ""),
    "rationale": ("Rationale", ""),
    "phase": ("Phase", ""),
    "reason": ("Reason", "Needed when going back, pausing or stopping"),
    "how": ("How members were engaged", ""),
    "response": ("Their response", ""),
    "members": ("Members", "One per line"),
    "category": ("Category", ""),
    "description": ("Description", ""),
    "concern_entry_id": ("Concern", "Which open concern is resolved"),
    "resolution": ("Resolution", ""),
    "wish": ("The one wish", ""),
    "from_whom": ("From whom", ""),
    "reason_kind": ("Why is it being corrected?", ""),
    "entry_corrected.reason": ("Explanation", "What was wrong, and how you know"),
    "entry_corrected.decided_on": ("Date the correction was decided", "Leave blank for today"),
    "correction.decided_on": (
        "Date decided",
        "Change it only if the entry's date was recorded wrongly. For example, 27 3 2026",
    ),
}

#: Choice values that plain capitalisation would get wrong.
CHOICES = {
    "lga": "LGA",
    "solace": "Solace",
    "socitm": "Socitm",
    "localgov_digital": "LocalGov Digital",
    "20th_century_suppliers": "20th-century suppliers",
    "21st_century_suppliers": "21st-century suppliers",
    "digital_exclusion_rurality": "Digital exclusion: rurality",
    "digital_exclusion_poverty": "Digital exclusion: relative poverty",
    "digital_exclusion_educational_needs": "Digital exclusion: educational needs",
    "open_source_or_commercial": "Open source or commercial",
    "local_digital_declaration": "Local Digital Declaration",
    "ministry": "The ministry",
    "own_organisation": "Own organisation",
    # the comparison's scale bands, by population
    "under_100k": "Under 100,000",
    "100k_to_250k": "100,000 to 250,000",
    "250k_to_500k": "250,000 to 500,000",
    "500k_and_over": "500,000 and over",
}


def label(value: Any) -> str:
    """A code such as ``private_beta`` as words: "Private beta"."""
    text = str(value or "")
    if text in CHOICES:
        return CHOICES[text]
    words = text.replace("_", " ")
    return words[:1].upper() + words[1:]


def event_name(name: str) -> str:
    """An event's class name as words: ``CouncilEnrolled`` is "Council enrolled"."""
    return label(re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower())


def kind_hint(kind: str) -> str:
    return KIND_HINTS.get(kind, "")


def choice_item(value: str) -> tuple[str, str]:
    return value, label(value)


def kind_name(kind: str) -> str:
    return KIND_NAMES.get(kind, label(kind))


def _field(name: str, kind: str) -> tuple[str, str]:
    return FIELDS.get(f"{kind}.{name}") or FIELDS.get(name) or (label(name), "")


def field_label(name: str, kind: str = "") -> str:
    return _field(name, kind)[0]


def field_hint(name: str, kind: str = "") -> str:
    return _field(name, kind)[1]
