"""Small helpers for API scenarios: create things, and read what was written."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi.testclient import TestClient

from domain.errors import NotFound
from services.container import Waymark

#: Requests carry the default user's token (see the ``client`` fixture); tests pass
#: this where they mean "as the programme team".
MANAGER: dict[str, str] = {}


def make_user(
    waymark: Waymark,
    username: str,
    role: str,
    *,
    programme_id: str | None = None,
    council_code: str | None = None,
) -> str:
    """Register a user with one grant; returns a fresh API token."""
    try:
        waymark.records.get_user(username)
    except NotFound:
        waymark.records.register_user(username=username, display_name=None, actor="test")
    waymark.records.grant_role(
        username=username,
        role=role,
        programme_id=UUID(programme_id) if programme_id else None,
        council_code=council_code,
        actor="test",
    )
    return waymark.credentials.issue_token(username)


def bearer(client: TestClient, username: str) -> dict[str, str]:
    """Headers that act as one of the users the ``client`` fixture made."""
    return {"Authorization": f"Bearer {client.tokens[username]}"}  # type: ignore[attr-defined]


def created(response: Any, status: int = 201) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def programme(client: TestClient, name: str = "Local Digital Accelerator") -> str:
    body = created(
        client.post(
            "/api/programmes",
            json={"name": name, "description": "Senior leaders", "sponsor_body": "MHCLG"},
            headers=MANAGER,
        )
    )
    return str(body["programme_id"])


def cohort(client: TestClient, programme_id: str, name: str = "Cohort 1") -> str:
    body = created(
        client.post(
            f"/api/programmes/{programme_id}/cohorts",
            json={"name": name, "starts_on": "2026-01-05", "ends_on": "2026-06-26"},
            headers=MANAGER,
        )
    )
    return str(body["cohort_id"])


def council(client: TestClient, code: str, name: str, council_type: str = "district") -> str:
    body = created(
        client.post(
            "/api/councils",
            json={
                "code": code,
                "name": name,
                "council_type": council_type,
                "region": "south_west",
                "population": 130000,
                "gss_code": "E07000041",
                "political_control": "Labour",
            },
            headers=MANAGER,
        )
    )
    return str(body["code"])


def project(client: TestClient, cohort_id: str, council_code: str, title: str = "Bins") -> str:
    body = created(
        client.post(
            f"/api/cohorts/{cohort_id}/projects",
            json={"council_code": council_code, "title": title},
            headers=MANAGER,
        )
    )
    return str(body["project_id"])


def entry(
    client: TestClient, project_id: str, body: dict[str, Any], headers: dict[str, str] | None = None
) -> dict[str, Any]:
    return created(
        client.post(f"/api/projects/{project_id}/entries", json=body, headers=headers or MANAGER)
    )


def assert_problem(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"].startswith("/problems/")
    assert body["title"] and body["detail"]
    if field is not None:
        assert body["field"] == field, body
    return body


def read_model_rows(waymark: Waymark) -> dict[str, list[tuple[str, ...]]]:
    """Every read-model table's rows, in a fixed order, to compare two states of the views."""
    found = {}
    with waymark.database.reading() as tx:
        for model in waymark.projector.read_models.values():
            for table in model.tables:
                sql = f"SELECT * FROM {table}"  # noqa: S608 - table names are ours
                found[table] = sorted(tuple(map(str, row.values())) for row in tx.all(sql))
    return found
