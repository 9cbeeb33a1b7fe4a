"""From demand and financial pressure to a financial-context segment.

The default reads the talk's figure (demand pressure against financial
pressure): high demand with high financial pressure is *Besieged*; high
financial pressure with less demand makes *Cost Innovators*; high demand with
less financial pressure makes *Future Innovators*; low on both is *High
Potential*; the middle ground is *Fast Followers*. A programme may configure
its own mapping.
"""

from __future__ import annotations

from collections.abc import Mapping

from domain.errors import InvalidValue
from domain.vocabulary import Pressure, Segment

H, M, L = Pressure.HIGH, Pressure.MEDIUM, Pressure.LOW

#: (demand pressure, financial pressure) -> segment
DEFAULT_SEGMENT_MAPPING: dict[tuple[str, str], str] = {
    (H, H): Segment.BESIEGED,
    (H, M): Segment.FUTURE_INNOVATORS,
    (H, L): Segment.FUTURE_INNOVATORS,
    (M, H): Segment.COST_INNOVATORS,
    (M, M): Segment.FAST_FOLLOWERS,
    (M, L): Segment.FAST_FOLLOWERS,
    (L, H): Segment.COST_INNOVATORS,
    (L, M): Segment.FAST_FOLLOWERS,
    (L, L): Segment.HIGH_POTENTIAL,
}


def mapping_key(demand: str, financial: str) -> str:
    return f"{demand}/{financial}"


def default_mapping() -> dict[str, str]:
    """The default as ``{"demand/financial": segment}``, the form programmes store."""
    return {mapping_key(d, f): str(s) for (d, f), s in DEFAULT_SEGMENT_MAPPING.items()}


def check_mapping(mapping: Mapping[str, str]) -> dict[str, str]:
    """A complete mapping: every pressure pair names one of the talk's segments."""
    expected = set(default_mapping())
    given = set(mapping)
    if given != expected:
        missing = sorted(expected - given)
        extra = sorted(given - expected)
        problem = f"missing {', '.join(missing)}" if missing else f"unknown {', '.join(extra)}"
        raise InvalidValue("segment_mapping", f"must give a segment for every pair: {problem}")
    checked = {}
    for key, segment in mapping.items():
        try:
            checked[key] = str(Segment(segment))
        except ValueError:
            allowed = ", ".join(s.value for s in Segment)
            raise InvalidValue(f"segment_mapping.{key}", f"must be one of: {allowed}") from None
    return checked


def segment_for(demand: str, financial: str, mapping: Mapping[str, str] | None = None) -> str:
    return (mapping or default_mapping())[mapping_key(demand, financial)]
