"""One line that says what an entry recorded, for timelines and the audit log."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any


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


def summarise_entry(kind: str, values: dict[str, Any]) -> str:
    v = values
    if kind == "problem_statement_iterated":
        return _short(v.get("statement"))
    if kind == "capacity_decided":
        cost = (
            f" (est. {pounds(v['estimated_cost'])})" if v.get("estimated_cost") is not None else ""
        )
        return _short(f"{_label(v.get('choice')).capitalize()}: {v.get('capability')}{cost}")
    if kind == "sponsor_check_in":
        note = f": {v['team_health_note']}" if v.get("team_health_note") else ""
        return _short(f"Team health {v.get('team_health')}{note}")
    if kind == "case_for_change":
        return _short(v.get("narrative_fit"))
    if kind == "capacity_built":
        return _short(f"{_label(v.get('area')).capitalize()}: {v.get('what_was_done')}")
    if kind == "way_of_working_chosen":
        arch = f", {v['architecture']} architecture" if v.get("architecture") else ""
        return _short(f"{_label(v.get('project_method')).capitalize()} method{arch}")
    if kind == "stance_taken":
        return _short(f"{_label(v.get('topic')).capitalize()}: {v.get('position')}")
    if kind == "phase_changed":
        reason = f": {v['reason']}" if v.get("reason") else ""
        return _short(f"Moved to {_label(v.get('phase'))}{reason}")
    if kind == "members_engaged":
        return _short(v.get("how"))
    if kind == "concern_raised":
        return _short(f"{_label(v.get('category')).capitalize()}: {v.get('description')}")
    if kind == "concern_resolved":
        return _short(f"Resolved: {v.get('resolution')}")
    if kind == "support_requested":
        return _short(f"From {_label(v.get('from_whom'))}: {v.get('wish')}")
    if kind == "entry_corrected":
        return _short(f"Corrected ({_label(v.get('reason_kind'))}): {v.get('reason')}")
    return _short(kind)


#: Fields every event carries, left out of the generic one-line summary.
_COMMON = {"originator_id", "originator_version", "timestamp", "actor", "entry_id", "decided_on"}
#: Never shown in a summary, whatever event carries them.
_SECRET = ("password", "secret", "token", "hash", "salt", "key")


def summarise_event(event: Any) -> str:
    """One line for any event: entries by their kind, the rest by their own fields."""
    kind = getattr(event, "KIND", "")
    if kind and hasattr(event, "values"):
        return summarise_entry(kind, event.values())
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
