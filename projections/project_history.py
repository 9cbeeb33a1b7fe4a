"""Project history: every entry of one project, both dates, actor, corrections linked both
ways (read from ``entries``)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from projections.database import Database


def project_history(
    db: Database, project_id: str, as_of: str | None = None
) -> dict[str, Any] | None:
    """The project and every entry in the order recorded; None if the project is unknown.

    With ``as_of`` (an instant as ``instant`` writes it), entries recorded later are
    absent and corrections recorded later do not mark what they corrected.
    """
    with db.reading() as tx:
        project = tx.one(
            "SELECT p.project_id, p.cohort_id, p.council_code, c.name AS council_name, p.title,"
            " p.phase FROM entry_projects p LEFT JOIN entry_councils c ON c.code = p.council_code"
            " WHERE p.project_id = ?",
            (project_id,),
        )
        if project is None:
            return None
        where, params = "project_id = ?", [project_id]
        if as_of is not None:
            where += " AND recorded_at <= ?"
            params.append(as_of)
        rows = tx.all(
            "SELECT entry_id, kind, decided_on, recorded_at, actor, position, entry_values,"
            " effective, statement_version, corrects, superseded_by, superseded_at"
            f" FROM entries WHERE {where} ORDER BY position",
            params,
        )
    entries = []
    for row in rows:
        if as_of is not None and row["superseded_at"] and row["superseded_at"] > as_of:
            row["superseded_by"] = None
        entry = {
            **json.loads(row["entry_values"]),
            "entry_id": row["entry_id"],
            "kind": row["kind"],
            "decided_on": row["decided_on"],
            "recorded_at": row["recorded_at"],
            "actor": row["actor"],
            "position": row["position"],
            "corrects": row["corrects"],
            "superseded_by": row["superseded_by"],
        }
        if row["effective"] is not None:
            entry["effective"] = json.loads(row["effective"])
        if row["statement_version"] is not None:
            entry["statement_version"] = row["statement_version"]
        entries.append(entry)
    if as_of is not None:
        phases = [e["phase"] for e in entries if e["kind"] == "phase_changed"]
        project["phase"] = phases[-1] if phases else None
    project["problem_statements"] = [
        {"version": e["statement_version"], "entry_id": e["entry_id"]}
        for e in entries
        if "statement_version" in e
    ]
    project["entries"] = entries
    return project


def project_entries(db: Database, project_id: str) -> list[dict[str, Any]]:
    """Every entry of the project in the order recorded, as stored: ``values`` as recorded
    and, for a correction, the ``effective`` values it puts in force."""
    rows = db.all(
        "SELECT entry_id, kind, decided_on, recorded_at, actor, entry_values, effective,"
        " statement_version, corrects, superseded_by"
        " FROM entries WHERE project_id = ? ORDER BY position",
        (project_id,),
    )
    for row in rows:
        row["values"] = json.loads(row.pop("entry_values"))
        if row["effective"] is not None:
            row["effective"] = json.loads(row["effective"])
    return rows


def corrections_at(db: Database, positions: Iterable[int]) -> dict[int, dict[str, Any]]:
    """The corrections recorded at these log positions: what each changed, from what to what.

    Each is ``{"kind", "before", "after"}``: the kind of the entry first recorded (a
    correction of a correction names the entry at the start of the line), the values
    in force before the correction, and those it put in force.
    """
    wanted = list(dict.fromkeys(positions))
    if not wanted:
        return {}
    found: dict[int, dict[str, Any]] = {}
    with db.reading() as tx:
        rows = tx.all_in(
            "SELECT position, corrects, effective FROM entries"
            " WHERE kind = 'entry_corrected' AND position IN",
            wanted,
        )
        for row in rows:
            target = tx.one(
                "SELECT kind, entry_values, effective, corrects FROM entries WHERE entry_id = ?",
                (row["corrects"],),
            )
            if target is None:
                continue
            before = json.loads(target["effective"] or target["entry_values"])
            kind = target["kind"]
            first: dict[str, Any] | None = target
            for _ in range(100):  # a line of corrections is short; never loop for ever
                if kind != "entry_corrected" or first is None or first["corrects"] is None:
                    break
                first = tx.one(
                    "SELECT kind, corrects FROM entries WHERE entry_id = ?",
                    (first["corrects"],),
                )
                kind = first["kind"] if first is not None else kind
            found[row["position"]] = {
                "kind": kind,
                "before": before,
                "after": json.loads(row["effective"] or "{}"),
            }
    return found


#: What the open page shows of a public entry: its kind's own fields and its links.
_NOT_SHOWN_OPENLY = frozenset({"public", "earlier_decision_confirmed"})


def public_project(db: Database, project_id: str) -> dict[str, Any] | None:
    """What the project's open page shows: its council, title and phase, and its public
    entries (``public_entries``); None if the project is unknown."""
    project = db.one(
        "SELECT p.project_id, p.cohort_id, p.council_code, c.name AS council_name, p.title,"
        " p.phase FROM entry_projects p LEFT JOIN entry_councils c ON c.code = p.council_code"
        " WHERE p.project_id = ?",
        (project_id,),
    )
    if project is not None:
        project["entries"] = public_entries(db, project_id)
    return project


def public_entries(db: Database, project_id: str) -> list[dict[str, Any]]:
    """The entries of a project whose latest version is public, each once, with the values
    in force of that version, in the order first recorded.

    An entry is public when recorded ``public``, or made public later
    (``entry_made_public``, which makes its latest version public); a correction is
    public only if it says so itself, so correcting a public entry without ``public``
    takes it off the open page. Entries made public and corrections are shown only
    as the entry they stand for; an ``entry_made_public`` is never shown itself.
    """
    rows = db.all(
        "SELECT entry_id, kind, decided_on, entry_values, effective, root, corrects"
        " FROM entries WHERE project_id = ? ORDER BY position",
        (project_id,),
    )
    roots: dict[str, dict[str, Any]] = {}
    root_of: dict[str, str] = {}
    for row in rows:
        values = json.loads(row["entry_values"])
        if row["kind"] == "entry_made_public":
            target = root_of.get(str(values.get("made_public_entry_id")))
            if target is not None:
                roots[target]["public"] = True
            continue
        if row["kind"] == "entry_corrected":
            root = root_of.get(row["corrects"], row["root"] or row["corrects"])
            root_of[row["entry_id"]] = root
            shown = roots.get(root)
            if shown is None:
                continue
            effective = json.loads(row["effective"] or "{}")
            shown["public"] = values.get("public") is True
            shown["decided_on"] = effective.pop("decided_on", shown["decided_on"])
            shown["values"] = effective
            continue
        root_of[row["entry_id"]] = row["entry_id"]
        roots[row["entry_id"]] = {
            "entry_id": row["entry_id"],
            "kind": row["kind"],
            "decided_on": row["decided_on"],
            "values": values,
            "public": values.get("public") is True,
        }
    return [
        {
            "entry_id": e["entry_id"],
            "kind": e["kind"],
            "decided_on": e["decided_on"],
            "values": {k: v for k, v in e["values"].items() if k not in _NOT_SHOWN_OPENLY},
        }
        for e in roots.values()
        if e["public"]
    ]


def share_decisions(db: Database) -> list[dict[str, Any]]:
    """Every share decision in force (as corrected) that names whom it shares with: the
    deciding council, its project, the capability, ``shared_with`` (council codes) and
    ``partner`` (an organisation's name), oldest first."""
    rows = db.all(
        "SELECT e.entry_id, e.entry_values, e.effective, e.root, p.project_id, p.title,"
        " p.cohort_id, p.council_code, c.name AS council_name FROM entries e"
        " JOIN entry_projects p ON p.project_id = e.project_id"
        " LEFT JOIN entry_councils c ON c.code = p.council_code"
        " LEFT JOIN entries r ON r.entry_id = e.root"
        " WHERE e.superseded_by IS NULL AND COALESCE(r.kind, e.kind) = 'capacity_decided'"
        " AND COALESCE(e.effective, e.entry_values) LIKE '%\"share\"%'"
        " ORDER BY e.position"
    )
    found = []
    for row in rows:
        values = json.loads(row["effective"] or row["entry_values"])
        if values.get("choice") != "share":
            continue
        if not values.get("shared_with") and not values.get("partner"):
            continue
        found.append(
            {
                "entry_id": row["root"] or row["entry_id"],
                "project_id": row["project_id"],
                "project_title": row["title"],
                "cohort_id": row["cohort_id"],
                "council_code": row["council_code"],
                "council_name": row["council_name"],
                "capability": values.get("capability", ""),
                "shared_with": list(values.get("shared_with") or []),
                "partner": values.get("partner", ""),
            }
        )
    return found
