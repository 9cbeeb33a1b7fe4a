"""A programme's capabilities: the names its capacity decisions give, matched by slug.

``capacity_decided.capability`` stays free text. Two texts name the same
capability when their slugs are equal: letters are compared without case or
accents, and every run of anything else (spaces, punctuation) counts as one
gap. So "Case management", " case  management " and "Case-Management" are one
capability, ``case-management``. A text with no letters or digits a slug can
keep (all punctuation, or a script without Latin letters) gets a slug made
from a hash of its folded form, so it still names one capability.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

#: Longest slug kept (a longer name is cut at a gap where it can be).
MAX_SLUG = 80
_GAPS = re.compile(r"[^a-z0-9]+")
SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")


def capability_slug(text: str) -> str:
    """The slug of a capability's name: the key two spellings share."""
    folded = unicodedata.normalize("NFKD", text).casefold()
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    slug = _GAPS.sub("-", plain).strip("-")
    if len(slug) > MAX_SLUG:
        slug = slug[:MAX_SLUG].rsplit("-", 1)[0] if "-" in slug[:MAX_SLUG] else slug[:MAX_SLUG]
    if not slug:
        spaced = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
        slug = "capability-" + hashlib.sha256(spaced.encode()).hexdigest()[:12]
    return slug
