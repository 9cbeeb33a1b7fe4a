"""Errors of the read-model database that callers may want to tell apart."""

from __future__ import annotations


class DatabaseUnavailable(Exception):
    """The database cannot be reached just now; the same request may succeed later."""
