"""Turning domain objects into JSON-ready dicts for responses."""

from __future__ import annotations

from typing import Any

from services.queries import Freshness, plain
from services.records import Written

__all__ = ["freshness", "plain", "written"]


def written(w: Written) -> dict[str, Any]:
    return {"version": w.version, "position": w.position}


def freshness(f: Freshness) -> dict[str, Any]:
    return {"position": f.position, "lag": f.lag, "waited_for": f.waited_for, "reached": f.reached}


def funding_totals(found: dict[str, Any]) -> dict[str, str]:
    """The awarded, paid and matched totals (decimal strings in GBP)."""
    return {name: found[name] for name in ("awarded", "paid", "matched")}
