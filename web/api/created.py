"""The shape of every "created" response: the new id, its version and the log position."""

from __future__ import annotations

from typing import Any

from fastapi import Response

from services.records import Written
from web.deps import etag


def write_headers(response: Response, written: Written, location: str) -> None:
    """Where the written record is, its new version, and whether this was a replay."""
    response.headers["Location"] = location
    response.headers["ETag"] = etag(written.version)
    if written.replayed:
        response.headers["Idempotent-Replayed"] = "true"


def created(response: Response, written: Written, id_name: str, location: str) -> dict[str, Any]:
    write_headers(response, written, location)
    return {id_name: str(written.id), "version": written.version, "position": written.position}
