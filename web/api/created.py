"""The shape of every "created" response: the new id, its version and the log position."""

from __future__ import annotations

from typing import Any

from fastapi import Response

from services.records import Written
from web.deps import etag


def created(response: Response, written: Written, id_name: str, location: str) -> dict[str, Any]:
    response.headers["Location"] = location
    response.headers["ETag"] = etag(written.version)
    if written.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return {id_name: str(written.id), "version": written.version, "position": written.position}
