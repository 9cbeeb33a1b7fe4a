"""Issue 6: who may do what, for every operation in the OpenAPI schema and every page.

Each operation and each page has one row: how to call it on in-scope
resources, and what each kind of user gets. A new endpoint or page without a
row fails this test.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute

from services.container import Waymark
from tests.helpers import make_user

PEOPLE = ("anonymous", "admin", "pm_in", "pm_out", "reviewer", "part_in", "part_out")
_codes = itertools.count(1)


@dataclass
class World:
    """Programme P with cohort C (councils GB-EXE and GB-DEV); programme Q with GB-HCK."""

    waymark: Waymark
    programme: str
    other_programme: str
    cohort: str
    project: str
    tokens: dict[str, str]

    def fresh_council(self) -> str:
        code = f"GB-T{next(_codes)}"
        self.waymark.records.register_council(
            code=code,
            name=f"Council {code}",
            council_type="district",
            region="london",
            population=None,
            gss_code=None,
            political_control=None,
            actor="test",
        )
        return code

    def fresh_enrolled_council(self) -> str:
        code = self.fresh_council()
        self.waymark.records.enrol_council(
            cohort_id=_uuid(self.cohort), council_code=code, title="T", actor="test"
        )
        return code

    def fresh_entry(self) -> str:
        """The id of a new entry on the in-scope project, to be corrected."""
        return str(
            self.waymark.records.record_entry(
                project_id=_uuid(self.project),
                kind="sponsor_check_in",
                decided_on=None,
                values={"team_health": "green"},
                actor="test",
            ).id
        )

    def fresh_cohort(self) -> str:
        return str(
            self.waymark.records.form_cohort(
                programme_id=_uuid(self.programme),
                name="Fresh",
                starts_on=date(2026, 1, 1),
                ends_on=date(2026, 6, 1),
                actor="test",
            ).id
        )


def _uuid(value: str) -> UUID:
    return UUID(value)


def build_world(client: TestClient) -> World:
    waymark: Waymark = client.app.state.waymark  # type: ignore[attr-defined]
    records = waymark.records
    p = records.launch_programme(name="P", description="", sponsor_body="", actor="t").id
    q = records.launch_programme(name="Q", description="", sponsor_body="", actor="t").id
    c = records.form_cohort(
        programme_id=p, name="C", starts_on=date(2026, 1, 1), ends_on=date(2026, 6, 1), actor="t"
    ).id
    c2 = records.form_cohort(
        programme_id=q, name="C2", starts_on=date(2026, 1, 1), ends_on=date(2026, 6, 1), actor="t"
    ).id
    for code in ("GB-EXE", "GB-DEV", "GB-HCK"):
        records.register_council(
            code=code,
            name=code,
            council_type="district",
            region="south_west",
            population=None,
            gss_code=None,
            political_control=None,
            actor="t",
        )
    project = records.enrol_council(cohort_id=c, council_code="GB-EXE", title="X", actor="t").id
    records.enrol_council(cohort_id=c, council_code="GB-DEV", title="Y", actor="t")
    records.enrol_council(cohort_id=c2, council_code="GB-HCK", title="Z", actor="t")
    tokens = {
        "admin": make_user(waymark, "admin.user", "admin"),
        "pm_in": make_user(waymark, "pm.in", "programme_manager", programme_id=str(p)),
        "pm_out": make_user(waymark, "pm.out", "programme_manager", programme_id=str(q)),
        "reviewer": make_user(waymark, "reviewer.user", "reviewer"),
        "part_in": make_user(waymark, "part.in", "participant", council_code="GB-EXE"),
        "part_out": make_user(waymark, "part.out", "participant", council_code="GB-HCK"),
    }
    return World(waymark, str(p), str(q), str(c), str(project), tokens)


def _allowed(ok: int, *who: str) -> dict[str, int]:
    return {p: (ok if p in who else 401 if p == "anonymous" else 403) for p in PEOPLE}


def everyone(ok: int) -> dict[str, int]:
    return {p: (ok if p != "anonymous" else 401) for p in PEOPLE}


def public(ok: int) -> dict[str, int]:
    return dict.fromkeys(PEOPLE, ok)


READ_COHORT = _allowed(200, "admin", "pm_in", "reviewer", "part_in")
MANAGE = ("admin", "pm_in")
COUNCIL_KEEPERS = ("admin", "pm_in", "pm_out")
ENTRY_WRITERS = ("admin", "pm_in", "part_in")
AUDITORS = ("admin", "reviewer")

Call = Callable[[World], tuple[str, dict[str, Any] | None]]

MATURITY = {
    "assessed_on": "2026-01-01",
    "levels": {
        "working_in_the_open": 1,
        "agile_methods": 2,
        "collaborative_tools": 3,
        "user_centred_design": 4,
        "new_technology": 5,
    },
}

#: (method, path template) -> (how to call it, expected status per person)
MATRIX: dict[tuple[str, str], tuple[Call, dict[str, int]]] = {
    ("GET", "/api/programmes"): (lambda w: ("/api/programmes", None), everyone(200)),
    ("POST", "/api/programmes"): (
        lambda w: ("/api/programmes", {"name": "New"}),
        _allowed(201, "admin"),
    ),
    ("GET", "/api/programmes/{programme_id}"): (
        lambda w: (f"/api/programmes/{w.programme}", None),
        everyone(200),
    ),
    ("PUT", "/api/programmes/{programme_id}/segment-mapping"): (
        lambda w: (
            f"/api/programmes/{w.programme}/segment-mapping",
            {"mapping": w.waymark.records.get_programme(_uuid(w.programme)).segment_mapping},
        ),
        _allowed(200, *MANAGE),
    ),
    ("POST", "/api/programmes/{programme_id}/cohorts"): (
        lambda w: (
            f"/api/programmes/{w.programme}/cohorts",
            {"name": "New", "starts_on": "2026-01-01", "ends_on": "2026-02-01"},
        ),
        _allowed(201, *MANAGE),
    ),
    ("GET", "/api/cohorts/{cohort_id}"): (
        lambda w: (f"/api/cohorts/{w.cohort}", None),
        READ_COHORT,
    ),
    ("GET", "/api/cohorts/{cohort_id}/timeline"): (
        lambda w: (f"/api/cohorts/{w.cohort}/timeline", None),
        READ_COHORT,
    ),
    ("POST", "/api/cohorts/{cohort_id}/projects"): (
        lambda w: (
            f"/api/cohorts/{w.cohort}/projects",
            {"council_code": w.fresh_council(), "title": "New"},
        ),
        _allowed(201, *MANAGE),
    ),
    ("POST", "/api/cohorts/{cohort_id}/withdrawals"): (
        lambda w: (
            f"/api/cohorts/{w.cohort}/withdrawals",
            {"council_code": w.fresh_enrolled_council(), "reason": "Left."},
        ),
        _allowed(200, *MANAGE),
    ),
    ("POST", "/api/cohorts/{cohort_id}/close"): (
        lambda w: (f"/api/cohorts/{w.fresh_cohort()}/close", None),
        _allowed(200, *MANAGE),
    ),
    ("GET", "/api/councils"): (lambda w: ("/api/councils", None), everyone(200)),
    ("POST", "/api/councils"): (
        lambda w: (
            "/api/councils",
            {
                "code": f"GB-N{next(_codes)}",
                "name": "N",
                "council_type": "unitary",
                "region": "london",
            },
        ),
        _allowed(201, *COUNCIL_KEEPERS),
    ),
    ("GET", "/api/councils/{code}"): (lambda w: ("/api/councils/GB-EXE", None), everyone(200)),
    ("PATCH", "/api/councils/{code}"): (
        lambda w: ("/api/councils/GB-EXE", {"suppliers": ["A"]}),
        _allowed(200, *COUNCIL_KEEPERS),
    ),
    ("POST", "/api/councils/{code}/gss-code"): (
        lambda w: (
            "/api/councils/GB-EXE/gss-code",
            {"gss_code": f"E0{next(_codes):07d}", "effective_from": "2026-01-01"},
        ),
        _allowed(200, *COUNCIL_KEEPERS),
    ),
    ("POST", "/api/councils/{code}/financial-context"): (
        lambda w: (
            "/api/councils/GB-EXE/financial-context",
            {"assessed_on": "2026-01-01", "demand_pressure": "low", "financial_pressure": "high"},
        ),
        _allowed(200, *COUNCIL_KEEPERS),
    ),
    ("POST", "/api/councils/{code}/maturity"): (
        lambda w: ("/api/councils/GB-EXE/maturity", MATURITY),
        _allowed(200, *COUNCIL_KEEPERS),
    ),
    ("POST", "/api/councils/{code}/declaration"): (
        lambda w: (f"/api/councils/{w.fresh_council()}/declaration", {"signed_on": "2026-01-01"}),
        _allowed(200, *COUNCIL_KEEPERS),
    ),
    ("POST", "/api/councils/{code}/succession"): (
        lambda w: (
            f"/api/councils/{w.fresh_council()}/succession",
            {"successor_codes": ["GB-DEV"], "effective_from": "2026-01-01"},
        ),
        _allowed(200, *COUNCIL_KEEPERS),
    ),
    ("GET", "/api/projects/{project_id}"): (
        lambda w: (f"/api/projects/{w.project}", None),
        READ_COHORT,
    ),
    ("GET", "/api/projects/{project_id}/problem-statements/diff"): (
        lambda w: (f"/api/projects/{w.project}/problem-statements/diff?from=1&to=1", None),
        READ_COHORT,
    ),
    ("POST", "/api/projects/{project_id}/entries"): (
        lambda w: (
            f"/api/projects/{w.project}/entries",
            {"kind": "sponsor_check_in", "team_health": "green"},
        ),
        _allowed(201, *ENTRY_WRITERS),
    ),
    ("GET", "/api/me"): (lambda w: ("/api/me", None), everyone(200)),
    ("GET", "/api/projects/{project_id}/history"): (
        lambda w: (f"/api/projects/{w.project}/history", None),
        READ_COHORT,
    ),
    ("GET", "/api/cohorts/{cohort_id}/comparison"): (
        lambda w: (f"/api/cohorts/{w.cohort}/comparison", None),
        READ_COHORT,
    ),
    ("GET", "/api/programmes/{programme_id}/comparison"): (
        lambda w: (f"/api/programmes/{w.programme}/comparison?group_by=region", None),
        _allowed(200, "admin", "reviewer", "pm_in"),
    ),
    ("GET", "/api/audit"): (lambda w: ("/api/audit", None), _allowed(200, *AUDITORS)),
    ("GET", "/api/search"): (lambda w: ("/api/search?q=statement", None), everyone(200)),
    ("GET", "/api/ledger/verify"): (
        lambda w: ("/api/ledger/verify", None),
        _allowed(200, *AUDITORS),
    ),
    ("GET", "/api/ledger/checkpoints"): (
        lambda w: ("/api/ledger/checkpoints", None),
        _allowed(200, *AUDITORS),
    ),
    ("GET", "/api/ledger/public-key"): (lambda w: ("/api/ledger/public-key", None), public(200)),
    ("GET", "/api/export/events.ndjson"): (
        lambda w: ("/api/export/events.ndjson", None),
        _allowed(200, *AUDITORS),
    ),
    ("GET", "/api/export/timeline.csv"): (
        lambda w: (f"/api/export/timeline.csv?cohort={w.cohort}", None),
        _allowed(200, *AUDITORS),
    ),
    ("POST", "/auth/sign-out"): (lambda w: ("/auth/sign-out", None), public(200)),
    ("GET", "/healthz"): (lambda w: ("/healthz", None), public(200)),
    ("GET", "/readyz"): (lambda w: ("/readyz", None), public(200)),
    # Scrapers do not sign in: expose /metrics only to their network (docs/OPERATIONS.md).
    ("GET", "/metrics"): (lambda w: ("/metrics", None), public(200)),
}

#: Operations tested on their own (they take a form, not a token).
SEPARATELY_TESTED = {("POST", "/auth/sign-in")}


def operations(client: TestClient) -> set[tuple[str, str]]:
    paths = client.get("/openapi.json").json()["paths"]
    return {(method.upper(), path) for path, item in paths.items() for method in item}


def test_every_operation_has_a_row_in_the_matrix(client: TestClient) -> None:
    assert operations(client) == set(MATRIX) | SEPARATELY_TESTED


def test_each_kind_of_user_gets_what_the_matrix_says(client: TestClient) -> None:
    world = build_world(client)
    # Give the diff a statement to show, so that allowed reads are 200.
    world.waymark.records.record_entry(
        project_id=_uuid(world.project),
        kind="problem_statement_iterated",
        decided_on=None,
        values={"statement": "S"},
        actor="t",
    )
    failures = []
    for (method, _template), (call, expected) in MATRIX.items():
        for person in PEOPLE:
            path, body = call(world)
            headers = (
                {"Authorization": ""}
                if person == "anonymous"
                else {"Authorization": f"Bearer {world.tokens[person]}"}
            )
            response = client.request(method, path, json=body, headers=headers)
            if response.status_code != expected[person]:
                failures.append(
                    f"{method} {path} as {person}: {response.status_code} "
                    f"(expected {expected[person]}) {response.text[:200]}"
                )
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("person", ["reviewer", "part_in"])
def test_a_reviewer_or_participant_cannot_write_outside_their_scope(
    client: TestClient, person: str
) -> None:
    world = build_world(client)
    other = world.waymark.records.get_cohort(_uuid(world.cohort)).projects["GB-DEV"]
    before = world.waymark.records.get_project(other).version
    response = client.post(
        f"/api/projects/{other}/entries",
        json={"kind": "sponsor_check_in", "team_health": "red"},
        headers={"Authorization": f"Bearer {world.tokens[person]}"},
    )
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")
    assert world.waymark.records.get_project(other).version == before


def test_search_finds_entries_only_in_cohorts_the_asker_may_read(client: TestClient) -> None:
    world = build_world(client)
    records = world.waymark.records
    hackney = records.get_cohort(
        next(
            c
            for c in (
                UUID(r["cohort_id"])
                for r in world.waymark.database.all("SELECT cohort_id FROM dir_cohorts")
                if r["cohort_id"] != world.cohort
            )
        )
    ).projects["GB-HCK"]
    for project_id, text in ((UUID(world.project), "riverside"), (hackney, "riverside")):
        written = records.record_entry(
            project_id=project_id,
            kind="members_engaged",
            decided_on=None,
            values={"how": f"Walk along the {text}"},
            actor="t",
        )
    found = {
        person: {
            item["council_code"]
            for item in client.get(
                "/api/search",
                params={"q": "riverside", "wait_for": written.position},
                headers={"Authorization": f"Bearer {world.tokens[person]}"},
            ).json()["items"]
        }
        for person in ("admin", "reviewer", "pm_in", "pm_out", "part_in", "part_out")
    }
    assert found == {
        "admin": {"GB-EXE", "GB-HCK"},
        "reviewer": {"GB-EXE", "GB-HCK"},
        "pm_in": {"GB-EXE"},
        "pm_out": {"GB-HCK"},
        "part_in": {"GB-EXE"},
        "part_out": {"GB-HCK"},
    }


# -- pages ---------------------------------------------------------------------------------


def page(ok: int, *who: str) -> dict[str, int]:
    """Anonymous browsers are sent to sign in (303); others get ``ok`` or a 403 page."""
    return {p: (ok if p in who else 303 if p == "anonymous" else 403) for p in PEOPLE}


SIGNED_IN = ("admin", "pm_in", "pm_out", "reviewer", "part_in", "part_out")
PAGE_READ_COHORT = ("admin", "pm_in", "reviewer", "part_in")
PageCall = Callable[[World], tuple[str, dict[str, str] | None]]

#: (method, path template) -> (how to call it, expected status per person)
PAGES: dict[tuple[str, str], tuple[PageCall, dict[str, int]]] = {
    ("GET", "/"): (lambda w: ("/", None), page(200, *SIGNED_IN)),
    ("GET", "/councils"): (lambda w: ("/councils", None), page(200, *SIGNED_IN)),
    ("GET", "/councils/{code}"): (lambda w: ("/councils/GB-EXE", None), page(200, *SIGNED_IN)),
    ("GET", "/programmes/{programme_id}"): (
        lambda w: (f"/programmes/{w.programme}", None),
        page(200, *SIGNED_IN),
    ),
    ("GET", "/cohorts/{cohort_id}"): (
        lambda w: (f"/cohorts/{w.cohort}", None),
        page(200, *PAGE_READ_COHORT),
    ),
    ("GET", "/projects/{project_id}"): (
        lambda w: (f"/projects/{w.project}", None),
        page(200, *PAGE_READ_COHORT),
    ),
    ("GET", "/cohorts/{cohort_id}/compare"): (
        lambda w: (f"/cohorts/{w.cohort}/compare", None),
        page(200, *PAGE_READ_COHORT),
    ),
    ("GET", "/audit"): (lambda w: ("/audit", None), page(200, *AUDITORS)),
    ("GET", "/ledger"): (lambda w: ("/ledger?check=every-event", None), page(200, *AUDITORS)),
    ("GET", "/search"): (lambda w: ("/search?q=statement", None), page(200, *SIGNED_IN)),
    ("GET", "/projects/{project_id}/entries/new"): (
        lambda w: (f"/projects/{w.project}/entries/new", None),
        page(200, *ENTRY_WRITERS),
    ),
    ("GET", "/projects/{project_id}/entries/new/{kind}"): (
        lambda w: (f"/projects/{w.project}/entries/new/sponsor_check_in", None),
        page(200, *ENTRY_WRITERS),
    ),
    ("POST", "/projects/{project_id}/entries/new/{kind}"): (
        lambda w: (
            f"/projects/{w.project}/entries/new/sponsor_check_in",
            {"team_health": "green"},
        ),
        page(303, *ENTRY_WRITERS),
    ),
    ("GET", "/projects/{project_id}/entries/{entry_id}/correction"): (
        lambda w: (f"/projects/{w.project}/entries/{w.fresh_entry()}/correction", None),
        page(200, *ENTRY_WRITERS),
    ),
    ("POST", "/projects/{project_id}/entries/{entry_id}/correction"): (
        lambda w: (
            f"/projects/{w.project}/entries/{w.fresh_entry()}/correction",
            {
                "team_health": "amber",
                "correction-reason_kind": "recording_error",
                "correction-reason": "Typed the wrong colour.",
            },
        ),
        page(303, *ENTRY_WRITERS),
    ),
    ("GET", "/sign-in"): (lambda w: ("/sign-in", None), public(200)),
    ("POST", "/sign-in"): (lambda w: ("/sign-in", {"username": "", "password": ""}), public(400)),
    ("POST", "/sign-out"): (lambda w: ("/sign-out", {}), public(303)),
}


def routes(client: TestClient) -> list[tuple[str, BaseRoute]]:
    """Every route with its full path, looking inside included routers."""
    app_routes = client.app.routes  # type: ignore[attr-defined]
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI keeps included routes in one flat list
        return [(getattr(r, "path", ""), r) for r in app_routes]
    return [(c.path or "", c.original_route) for c in iter_route_contexts(app_routes)]


def pages(client: TestClient) -> set[tuple[str, str]]:
    """Every HTML route: the API routes left out of the OpenAPI schema."""
    return {
        (method, path)
        for path, route in routes(client)
        if isinstance(route, APIRoute) and not route.include_in_schema
        for method in route.methods - {"HEAD"}
    }


def test_every_page_has_a_row_in_the_matrix(client: TestClient) -> None:
    assert pages(client) == set(PAGES)


def test_each_kind_of_user_gets_the_pages_the_matrix_says(client: TestClient) -> None:
    world = build_world(client)
    failures = []
    for (method, _template), (call, expected) in PAGES.items():
        for person in PEOPLE:
            path, form = call(world)
            headers = (
                {"Authorization": ""}
                if person == "anonymous"
                else {"Authorization": f"Bearer {world.tokens[person]}"}
            )
            response = client.request(
                method, path, data=form, headers=headers, follow_redirects=False
            )
            if response.status_code != expected[person]:
                failures.append(
                    f"{method} {path} as {person}: {response.status_code} "
                    f"(expected {expected[person]}) {response.text[:200]}"
                )
            elif expected[person] == 303 and person == "anonymous" and method == "GET":
                assert response.headers["location"].startswith("/sign-in?next=")
            elif expected[person] in (200, 403):
                assert response.headers["content-type"].startswith("text/html")
    assert not failures, "\n".join(failures)


def test_a_participant_cannot_record_on_another_councils_project_through_a_form(
    client: TestClient,
) -> None:
    world = build_world(client)
    other = world.waymark.records.get_cohort(_uuid(world.cohort)).projects["GB-DEV"]
    before = world.waymark.records.get_project(other).version
    response = client.post(
        f"/projects/{other}/entries/new/sponsor_check_in",
        data={"team_health": "red"},
        headers={"Authorization": f"Bearer {world.tokens['part_in']}"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert "You cannot see or do this" in response.text
    assert world.waymark.records.get_project(other).version == before
