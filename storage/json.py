"""Values as stored JSON text: compact, keys sorted, written by orjson."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not a value an entry holds")


def to_json(values: dict[str, Any]) -> str:
    """Entry values as JSON: decimals as strings (exact), ids and dates as text.

    Compact, keys sorted, non-ASCII as itself: the text ``json.dumps(...,
    ensure_ascii=False, sort_keys=True, separators=(",", ":"))`` gives, written
    by orjson (which writes UUIDs and dates as their text itself).
    """
    return orjson.dumps(values, default=_plain, option=orjson.OPT_SORT_KEYS).decode()


def dump_json(value: Any) -> str:
    """Plain JSON values as compact text with sorted keys (what read models store)."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
