"""Turning domain objects into JSON-ready dicts for responses."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.cohort import Cohort
from domain.council import Council
from domain.programme import Programme
from domain.project import Entry, Project
from domain.segments import segment_for
from projections.base import instant
from services.container import Freshness
from services.records import Written


def written(w: Written) -> dict[str, Any]:
    return {"version": w.version, "position": w.position}


def plain(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return instant(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [plain(v) for v in value]
    return value


def programme(p: Programme) -> dict[str, Any]:
    return {
        "programme_id": str(p.id),
        "name": p.name,
        "description": p.description,
        "sponsor_body": p.sponsor_body,
        "launched_at": instant(p.created_on),
        "launched_by": p.launched_by,
        "segment_mapping": p.segment_mapping,
        "version": p.version,
    }


def cohort(c: Cohort) -> dict[str, Any]:
    return {
        "cohort_id": str(c.id),
        "programme_id": str(c.programme_id),
        "name": c.name,
        "starts_on": c.starts_on.isoformat(),
        "ends_on": c.ends_on.isoformat(),
        "closed": c.closed,
        "withdrawn": sorted(c.withdrawn),
        "version": c.version,
    }


def council(c: Council) -> dict[str, Any]:
    return {
        "code": c.code,
        "name": c.name,
        "council_type": c.council_type,
        "region": c.region,
        "population": c.population,
        "gss_code": c.gss_code,
        "political_control": c.political_control,
        "suppliers": c.suppliers,
        "tried_before": c.tried_before,
        "innovation_history": c.innovation_history,
        "gss_codes": [
            {"gss_code": g.code, "effective_from": plain(g.effective_from)} for g in c.gss_codes
        ],
        "financial_contexts": [
            {
                "assessed_on": a.assessed_on.isoformat(),
                "demand_pressure": a.demand_pressure,
                "financial_pressure": a.financial_pressure,
                "segment": segment_for(a.demand_pressure, a.financial_pressure),
                "note": a.note,
            }
            for a in c.financial_contexts
        ],
        "maturity": [
            {"assessed_on": a.assessed_on.isoformat(), "levels": a.levels, "note": a.note}
            for a in c.maturity
        ],
        "declaration_signed_on": plain(c.declaration_signed_on),
        "successor_codes": c.successor_codes,
        "succeeded_on": plain(c.succeeded_on),
        "version": c.version,
    }


def entry(e: Entry) -> dict[str, Any]:
    body: dict[str, Any] = {
        "entry_id": str(e.entry_id),
        "kind": e.kind,
        "decided_on": e.decided_on.isoformat(),
        "recorded_at": instant(e.recorded_at),
        "actor": e.actor,
        "superseded_by": str(e.superseded_by) if e.superseded_by else None,
        **plain(e.fields),
    }
    if e.corrects is not None:
        body["effective"] = plain(e.effective)
    if e.statement_version is not None:
        body["statement_version"] = e.statement_version
    return body


def project(p: Project) -> dict[str, Any]:
    statements = [
        {"version": e.statement_version, "entry_id": str(e.entry_id)} for e in p.statements()
    ]
    return {
        "project_id": str(p.id),
        "cohort_id": str(p.cohort_id),
        "council_code": p.council_code,
        "title": p.title,
        "phase": p.phase,
        "withdrawn": p.withdrawn,
        "phase_since": plain(p.phase_since),
        "open_concerns": [str(c) for c in p.open_concerns()],
        "problem_statements": statements,
        "as_of": instant(p.modified_on),
        "version": p.version,
        "entries": [entry(e) for e in sorted(p.entries.values(), key=lambda e: e.recorded_at)],
    }


def freshness(f: Freshness) -> dict[str, Any]:
    return {"position": f.position, "lag": f.lag, "waited_for": f.waited_for, "reached": f.reached}
