"""Search terms: text cut into terms once, in Python, the same for PostgreSQL and SQLite.

Case-folded, accents dropped, split at anything that is not a letter or a digit
(``projections.search`` says how the backends index and match them).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

#: Longer runs of letters are cut, so a term always fits a PostgreSQL lexeme.
MAX_TERM = 60
_WORD = re.compile(r"[^\W_]+")


def terms(text: str) -> list[str]:
    """The search terms of a text, in order, without repeats."""
    if text.isascii():
        bare = text.lower()
    else:
        folded = unicodedata.normalize("NFKD", text.casefold())
        kept = "".join(c for c in folded if not unicodedata.combining(c))
        bare = unicodedata.normalize("NFC", kept)
    return list(dict.fromkeys(word[:MAX_TERM] for word in _WORD.findall(bare)))


def texts(value: Any) -> Iterable[str]:
    """Every string in a JSON value, in order."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from texts(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from texts(item)
