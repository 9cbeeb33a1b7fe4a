"""One line that says what an entry recorded, for timelines and the audit log.

A kind's line is written here where its first answers (from the catalogue of
entry kinds, domain/entry_kinds.py) would not say it well; any other kind is
summed up by those answers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from domain.cohort import Cohort
from domain.fields import Choice, Field, Money
from domain.programme import Programme
from domain.project import ENTRY_KINDS
from domain.user import User
from domain.vocabulary import CHOICE_WORDS


def _short(text: Any, limit: int = 120) -> str:
    line = " ".join(str(text or "").split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def pounds(value: Any) -> str:
    """An amount of money as people write it: £125,000.00."""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    return f"£{amount:,.2f}"


def _label(value: Any) -> str:
    return str(value or "").replace("_", " ")


def _cap(value: Any) -> str:
    """A choice as words starting with a capital: "Share", "LGA", "Local Digital Declaration"."""
    return CHOICE_WORDS.get(str(value or "")) or _label(value).capitalize()


def _cost(v: Mapping[str, Any]) -> str:
    cost = v.get("estimated_cost")
    return f" (est. {pounds(cost)})" if cost is not None else ""


def _note(v: Mapping[str, Any], name: str) -> str:
    return f": {v[name]}" if v.get(name) else ""


#: Each kind's summary line, where the first answers alone would not say it well.
SUMMARY_LINES: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "problem_statement_iterated": lambda v: str(v.get("statement") or ""),
    "capacity_decided": lambda v: (
        f"{_cap(v.get('choice'))}: {v.get('capability')}{_cost(v)}"
        + (f" with {', '.join(v['shared_with'])}" if v.get("shared_with") else "")
    ),
    "sponsor_check_in": lambda v: (
        f"Team health {v.get('team_health')}{_note(v, 'team_health_note')}"
    ),
    "case_for_change": lambda v: str(v.get("narrative_fit") or ""),
    "capacity_built": lambda v: f"{_cap(v.get('area'))}: {v.get('what_was_done')}",
    "way_of_working_chosen": lambda v: (
        f"{_cap(v.get('project_method'))} method"
        + (f", {v['architecture']} architecture" if v.get("architecture") else "")
    ),
    "stance_taken": lambda v: f"{_cap(v.get('topic'))}: {v.get('position')}",
    "phase_changed": lambda v: f"Moved to {_label(v.get('phase'))}{_note(v, 'reason')}",
    "members_engaged": lambda v: str(v.get("how") or ""),
    "concern_raised": lambda v: f"{_cap(v.get('category'))}: {v.get('description')}",
    "concern_resolved": lambda v: f"Resolved: {v.get('resolution')}",
    "support_requested": lambda v: f"From {_cap(v.get('from_whom'))}: {v.get('wish')}",
    "support_answered": lambda v: f"Support {_label(v.get('status'))}{_note(v, 'detail')}",
    "output_published": lambda v: f"Published {_label(v.get('output_kind'))}: {v.get('title')}",
    "output_reused": lambda v: (
        f"Reused by {v.get('council_code')}: {v.get('how')}"
        + (f" (saved {pounds(v['saving'])})" if v.get("saving") not in (None, "") else "")
    ),
    "partner_joined": lambda v: f"{v.get('council_code')} joined as a partner: {v.get('reason')}",
    "partner_left": lambda v: f"{v.get('council_code')} left as a partner: {v.get('reason')}",
    "grant_awarded": lambda v: (
        f"Grant of {pounds(v.get('amount'))} from {v.get('funder')}"
        + (f" ({v['fund']})" if v.get("fund") else "")
    ),
    "payment_made": lambda v: f"Payment of {pounds(v.get('amount'))} made",
    "match_funding_committed": lambda v: (
        f"Match funding of {pounds(v.get('amount'))} from {v.get('source')}"
    ),
    "grant_closed": lambda v: f"Grant closed: {pounds(v.get('amount_paid'))} paid in all",
    "benefit_defined": lambda v: (
        f"{v.get('measure')}: from {v.get('baseline_value')} to {v.get('target_value')} "
        f"{v.get('unit')} by {v.get('target_on')}" + (" (cashable)" if v.get("cashable") else "")
    ),
    "benefit_measured": lambda v: (
        f"Measured {v.get('value')} on {v.get('measured_on')}{_note(v, 'source')}"
    ),
    "benefit_closed": lambda v: f"Benefit {_label(v.get('outcome'))}: {v.get('reason')}",
    "assessment_held": lambda v: (
        f"{_cap(v.get('phase'))} assessment: {_label(v.get('result'))}{_note(v, 'conditions')}"
    ),
    "entry_made_public": lambda v: f"Made public: entry {v.get('made_public_entry_id')}",
    "entry_corrected": lambda v: f"Corrected ({_label(v.get('reason_kind'))}): {v.get('reason')}",
}


def _answer(spec: Field, value: Any) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(item) for item in value)
    if isinstance(spec, Money):
        return pounds(value)
    if isinstance(spec, Choice):
        return _cap(value)
    return str(value)


def in_words(kind: str, name: str, value: Any) -> str:
    """One answer to a kind's field, as a page shows it: £48,000.00, "Share", "a, b"."""
    event_class = ENTRY_KINDS.get(kind)
    spec = event_class.FIELDS.get(name) if event_class else None
    if value in (None, "", [], {}):
        return "nothing"
    if spec is None:
        return ", ".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)
    return _answer(spec, value)


def first_answers(kind: str, values: Mapping[str, Any]) -> str:
    """A kind without a summary line: its first two answers, in the catalogue's order."""
    event_class = ENTRY_KINDS.get(kind)
    if event_class is None:
        return kind  # a kind no longer registered: its name is all there is to say
    answers = [
        _answer(spec, values[name])
        for name, spec in event_class.FIELDS.items()
        if values.get(name) not in (None, "", [], {})
    ]
    return ": ".join(answers[:2])


def summarise_entry(kind: str, values: Mapping[str, Any]) -> str:
    line = SUMMARY_LINES.get(kind)
    return _short(line(values) if line is not None else first_answers(kind, values))


def changes_in_force(was: Mapping[str, Any], now: Mapping[str, Any]) -> list[dict[str, Any]]:
    """What corrections changed: each field whose value in force differs from the one
    recorded, in the order of the values in force."""
    return [
        {"field": name, "was": was.get(name), "now": value}
        for name, value in now.items()
        if was.get(name) != value
    ]


def _field_words(kind: str, name: str, value: Any) -> tuple[str, str]:
    event_class = ENTRY_KINDS.get(kind)
    spec = event_class.FIELDS.get(name) if event_class is not None else None
    if name == "decided_on":
        return "Date decided", str(value)
    if spec is None:
        return _cap(name), str(value)
    if value in (None, "", [], {}):
        return spec.label or _cap(name), "nothing"
    return spec.label or _cap(name), _answer(spec, value)


def changes_line(kind: str, changes: list[dict[str, Any]]) -> str:
    """What corrections changed, in words: "Estimated cost: £48,000.00, was £4,800.00"."""
    parts = []
    for change in changes:
        label, now = _field_words(kind, change["field"], change["now"])
        _, was = _field_words(kind, change["field"], change["was"])
        parts.append(f"{label}: {now}, was {was}")
    return "; ".join(parts)


#: Fields every event carries, left out of the generic one-line summary.
_COMMON = {"originator_id", "originator_version", "timestamp", "actor", "entry_id", "decided_on"}
#: Never shown in a summary, whatever event carries them.
_SECRET = ("password", "secret", "token", "hash", "salt", "key")


def summarise_event(event: Any) -> str:
    """One line for any event: entries by their kind, the rest by their own fields."""
    kind = getattr(event, "KIND", "")
    if kind and hasattr(event, "values"):
        return summarise_entry(kind, event.values())
    if isinstance(event, Cohort.SessionHeld):
        return _short(f"{_cap(event.session_kind)} on {event.held_on}: {event.topic}")
    if isinstance(event, Programme.PublishingChanged):
        return "Publishing allowed" if event.allowed else "Publishing no longer allowed"
    if isinstance(event, (User.RoleGranted, User.RoleRevoked)):  # which role, and where
        role = _cap(event.role)
        if getattr(event, "programme_id", None):
            return f"{role} of programme {event.programme_id}"
        if getattr(event, "council_code", None):
            return f"{role} of council {event.council_code}"
        return role
    fields = {
        k: v
        for k, v in vars(event).items()
        if k not in _COMMON
        and not k.startswith("originator")
        and not any(word in k.lower() for word in _SECRET)
    }
    for name in ("title", "name"):
        if name in fields:
            return _short(fields[name])
    parts = []
    for name, value in fields.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items())
        elif isinstance(value, (list, tuple)):
            value = ", ".join(str(v) for v in value)
        parts.append(f"{_label(name)}: {value}")
    return _short("; ".join(parts))
