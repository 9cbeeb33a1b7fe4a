"""The words pages use for the record's codes: kinds, fields and choices.

An entry kind's name and hint, and its fields' labels and hints, are declared
with the kind in the catalogue (domain/entry_kinds.py); this module words
what is not one kind's: choices, event names, and wording one page needs.
"""

from __future__ import annotations

import re
from typing import Any

from domain.entry_kinds import DECIDED_ON
from domain.project import ENTRY_KINDS
from domain.vocabulary import CHOICE_WORDS

#: Wording a page gives a field in a place of its own: (label, hint) by "place.field".
PLACES: dict[str, tuple[str, str]] = {
    # the corrected entry's date, on the correction form
    "correction.decided_on": (
        "Date decided",
        "Change it only if the entry's date was recorded wrongly. For example, 27 3 2026",
    ),
}

#: Choice values that plain capitalisation would get wrong: the record's own, and the
#: comparison's scale bands, by population.
CHOICES = {
    **CHOICE_WORDS,
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
    event_class = ENTRY_KINDS.get(kind)
    return event_class.SPEC.hint if event_class else ""


def choice_item(value: str) -> tuple[str, str]:
    return value, label(value)


def kind_name(kind: str) -> str:
    event_class = ENTRY_KINDS.get(kind)
    return event_class.SPEC.name if event_class else label(kind)


def _field(name: str, kind: str) -> tuple[str, str]:
    if f"{kind}.{name}" in PLACES:
        return PLACES[f"{kind}.{name}"]
    event_class = ENTRY_KINDS.get(kind)
    spec = event_class.SPEC if event_class else None
    if name == "decided_on":
        found = spec.decided_on if spec else DECIDED_ON
    elif spec and name in spec.fields:
        found = spec.fields[name]
    else:
        return label(name), ""
    return found.label or label(name), found.hint


def field_label(name: str, kind: str = "") -> str:
    return _field(name, kind)[0]


def field_hint(name: str, kind: str = "") -> str:
    return _field(name, kind)[1]


# -- set-up forms: the five meanings of digital, and what each maturity level looks like --

#: Each meaning of digital (domain.vocabulary.DigitalMeaning): its name and a hint.
MEANINGS: dict[str, tuple[str, str]] = {
    "working_in_the_open": (
        "Working in the open",
        "Sharing plans, code, research and mistakes where others can see and reuse them",
    ),
    "agile_methods": (
        "Agile methods",
        "Small teams delivering in short iterations, learning from users as they go",
    ),
    "collaborative_tools": (
        "Collaborative tools",
        "Shared documents, chat and video that let people work together across teams",
    ),
    "user_centred_design": (
        "User-centred design",
        "Designing services from research with the people who use them",
    ),
    "new_technology": (
        "New technology",
        "Cloud, platforms, data and automation in place of legacy systems",
    ),
}

#: What level 1 to 5 looks like on each meaning of digital, for the maturity form.
MATURITY_LEVELS: dict[str, tuple[str, str, str, str, str]] = {
    "working_in_the_open": (
        "Nothing is shared outside the team; decisions are made behind closed doors",
        "Some plans or results are shared, on request or after the event",
        "Plans and progress are published regularly, such as weeknotes or blogs",
        "Code, research and designs are open by default and reused by others",
        "The council leads in the open and reuses others' work as a matter of course",
    ),
    "agile_methods": (
        "Projects are planned up front and delivered in one go",
        "One or two teams have tried agile ways of working",
        "Several teams work in iterations with a product owner",
        "Agile is the usual way to deliver, with governance to match",
        "The whole organisation plans, funds and governs work in an agile way",
    ),
    "collaborative_tools": (
        "Documents are emailed as attachments; tools differ team by team",
        "Shared tools are available but little used",
        "Most teams share documents and use chat and video every day",
        "Tools are shared with partners and other councils",
        "Working together online across organisations is how work gets done",
    ),
    "user_centred_design": (
        "Services are designed without speaking to the people who use them",
        "User research happens now and then, late in a project",
        "Research with users shapes most new services",
        "User researchers and designers are part of every service team",
        "Services are measured and improved continuously against users' needs",
    ),
    "new_technology": (
        "Services depend on old systems that are hard to change",
        "Some cloud services or new tools are being tried",
        "Several services use cloud platforms and open standards",
        "Platforms and data are shared across services; legacy is being retired",
        "The council adopts and shapes new technology safely and quickly",
    ),
}


def maturity_level(meaning: str, level: int | str) -> str:
    """What level ``level`` (1-5) looks like on ``meaning``."""
    try:
        return MATURITY_LEVELS[meaning][int(level) - 1]
    except (KeyError, ValueError, IndexError):
        return ""
