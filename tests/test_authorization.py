"""Issue 6: who may do what, for every operation in the OpenAPI schema and every page.

Each operation and each page has one row: how to call it on in-scope
resources, and what each kind of user gets. A new endpoint or page without a
row fails this test.
"""

from __future__ import annotations

import hashlib
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
    other_project: str

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

    def a_capability(self) -> str:
        """The slug of a capability the in-scope programme's councils decided on."""
        written = self.waymark.records.record_entry(
            project_id=_uuid(self.project),
            kind="capacity_decided",
            decided_on=None,
            values={"capability": "Case management", "choice": "share"},
            actor="test",
        )
        assert self.waymark.projector.wait_for(written.position, 10)
        return "case-management"

    def funded_programme(self) -> str:
        """The in-scope programme, a grant awarded to its project: its 360Giving exports
        have a grant to publish (a programme without one is a 409)."""
        funding = self.waymark.queries.funding_of_programme(_uuid(self.programme))
        if not any(project["grants"] for project in funding["projects"]):
            self.waymark.records.record_entry(
                project_id=_uuid(self.project),
                kind="grant_awarded",
                decided_on=None,
                values={"funder": "MHCLG", "amount": "1000.00", "purpose": "Discovery"},
                actor="test",
            )
        return self.programme

    def open_project(self) -> str:
        """The in-scope project, its programme allowing publishing: its open page is up."""
        self.waymark.records.allow_publishing(
            programme_id=_uuid(self.programme), allowed=True, actor="test"
        )
        return self.project

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

    def fresh_person(self, role: str | None = None) -> str:
        """A new person's username, holding ``role`` if given."""
        username = f"fresh.{next(_codes)}"
        self.waymark.records.register_user(username=username, display_name=None, actor="test")
        if role:
            self.waymark.records.grant_role(username=username, role=role, actor="test")
        return username

    def fresh_token_id(self, username: str) -> str:
        """The id pages name a new API token of ``username`` by."""
        token = self.waymark.credentials.issue_token(username, label="fresh")
        return hashlib.sha256(token.encode()).hexdigest()[:16]


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
    other_project = records.enrol_council(
        cohort_id=c2, council_code="GB-HCK", title="Z", actor="t"
    ).id
    tokens = {
        "admin": make_user(waymark, "admin.user", "admin"),
        "pm_in": make_user(waymark, "pm.in", "programme_manager", programme_id=str(p)),
        "pm_out": make_user(waymark, "pm.out", "programme_manager", programme_id=str(q)),
        "reviewer": make_user(waymark, "reviewer.user", "reviewer"),
        "part_in": make_user(waymark, "part.in", "participant", council_code="GB-EXE"),
        "part_out": make_user(waymark, "part.out", "participant", council_code="GB-HCK"),
    }
    return World(waymark, str(p), str(q), str(c), str(project), tokens, str(other_project))


def _head_as_witnessed(world: World) -> dict[str, Any]:
    head = world.waymark.ledger.head()
    assert head is not None
    return {"position": head.position, "chain_hash": head.chain_hash.hex()}


def _allowed(ok: int, *who: str) -> dict[str, int]:
    return {p: (ok if p in who else 401 if p == "anonymous" else 403) for p in PEOPLE}


def everyone(ok: int) -> dict[str, int]:
    return {p: (ok if p != "anonymous" else 401) for p in PEOPLE}


def public(ok: int) -> dict[str, int]:
    return dict.fromkeys(PEOPLE, ok)


READ_COHORT = _allowed(200, "admin", "pm_in", "reviewer", "part_in")
MANAGE = ("admin", "pm_in")
#: Any programme manager registers a council; only those of a programme it is enrolled in
#: (GB-EXE is in P's cohort) change it.
COUNCIL_REGISTRARS = ("admin", "pm_in", "pm_out")
COUNCIL_CHANGERS = ("admin", "pm_in")
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

SESSION = {
    "session_kind": "workshop",
    "held_on": "2026-02-01",
    "topic": "Service design",
    "run_by": "LGA",
    "attendance": [{"council_code": "GB-EXE", "role": "officer", "people": 2}],
}
SESSION_FORM = {
    "session_kind": "workshop",
    **{f"held_on-{k}": v for k, v in (("day", "1"), ("month", "2"), ("year", "2026"))},
    "topic": "Service design",
    "run_by": "LGA",
    "attendance": "GB-EXE, officer, 2",
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
    ("PUT", "/api/programmes/{programme_id}/publishing"): (
        lambda w: (f"/api/programmes/{w.programme}/publishing", {"allowed": True}),
        _allowed(200, *MANAGE),
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
        _allowed(201, *COUNCIL_REGISTRARS),
    ),
    ("GET", "/api/councils/{code}"): (lambda w: ("/api/councils/GB-EXE", None), everyone(200)),
    ("PATCH", "/api/councils/{code}"): (
        lambda w: ("/api/councils/GB-EXE", {"suppliers": ["A"]}),
        _allowed(200, *COUNCIL_CHANGERS),
    ),
    ("POST", "/api/councils/{code}/gss-code"): (
        lambda w: (
            "/api/councils/GB-EXE/gss-code",
            {"gss_code": f"E0{next(_codes):07d}", "effective_from": "2026-01-01"},
        ),
        _allowed(200, *COUNCIL_CHANGERS),
    ),
    ("POST", "/api/councils/{code}/financial-context"): (
        lambda w: (
            "/api/councils/GB-EXE/financial-context",
            {"assessed_on": "2026-01-01", "demand_pressure": "low", "financial_pressure": "high"},
        ),
        _allowed(200, *COUNCIL_CHANGERS),
    ),
    ("POST", "/api/councils/{code}/maturity"): (
        lambda w: ("/api/councils/GB-EXE/maturity", MATURITY),
        _allowed(200, *COUNCIL_CHANGERS),
    ),
    ("POST", "/api/councils/{code}/declaration"): (
        lambda w: (
            f"/api/councils/{w.fresh_enrolled_council()}/declaration",
            {"signed_on": "2026-01-01"},
        ),
        _allowed(200, *COUNCIL_CHANGERS),
    ),
    ("POST", "/api/councils/{code}/succession"): (
        lambda w: (
            f"/api/councils/{w.fresh_enrolled_council()}/succession",
            {"successor_codes": ["GB-DEV"], "effective_from": "2026-01-01"},
        ),
        _allowed(200, *COUNCIL_CHANGERS),
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
    # -- issue 21: a cohort's sessions, and the programme's support requests --------------
    ("POST", "/api/cohorts/{cohort_id}/sessions"): (
        lambda w: (f"/api/cohorts/{w.cohort}/sessions", SESSION),
        _allowed(201, *MANAGE),
    ),
    ("GET", "/api/cohorts/{cohort_id}/sessions"): (
        lambda w: (f"/api/cohorts/{w.cohort}/sessions", None),
        READ_COHORT,
    ),
    ("GET", "/api/programmes/{programme_id}/support-requests"): (
        lambda w: (f"/api/programmes/{w.programme}/support-requests", None),
        _allowed(200, "admin", "reviewer", "pm_in"),
    ),
    # Outputs and capabilities across councils are read by anyone who reads the programme.
    ("GET", "/api/programmes/{programme_id}/outputs"): (
        lambda w: (f"/api/programmes/{w.programme}/outputs?kind=code_repository", None),
        everyone(200),
    ),
    ("GET", "/api/programmes/{programme_id}/capabilities"): (
        lambda w: (f"/api/programmes/{w.programme}/capabilities", None),
        everyone(200),
    ),
    ("GET", "/api/programmes/{programme_id}/capabilities/{slug}"): (
        lambda w: (f"/api/programmes/{w.programme}/capabilities/{w.a_capability()}", None),
        everyone(200),
    ),
    ("GET", "/api/programmes/{programme_id}/funding"): (
        lambda w: (f"/api/programmes/{w.programme}/funding", None),
        _allowed(200, "admin", "reviewer", "pm_in"),
    ),
    ("GET", "/api/programmes/{programme_id}/360giving.json"): (
        lambda w: (f"/api/programmes/{w.funded_programme()}/360giving.json", None),
        _allowed(200, "admin", "reviewer", "pm_in"),
    ),
    ("GET", "/api/programmes/{programme_id}/360giving.csv"): (
        lambda w: (f"/api/programmes/{w.funded_programme()}/360giving.csv", None),
        _allowed(200, "admin", "reviewer", "pm_in"),
    ),
    ("GET", "/api/cohorts/{cohort_id}/funding"): (
        lambda w: (f"/api/cohorts/{w.cohort}/funding", None),
        READ_COHORT,
    ),
    ("GET", "/api/projects/{project_id}/funding"): (
        lambda w: (f"/api/projects/{w.project}/funding", None),
        READ_COHORT,
    ),
    ("GET", "/api/projects/{project_id}/outcomes"): (
        lambda w: (f"/api/projects/{w.project}/outcomes", None),
        READ_COHORT,
    ),
    ("GET", "/api/cohorts/{cohort_id}/outcomes"): (
        lambda w: (f"/api/cohorts/{w.cohort}/outcomes", None),
        READ_COHORT,
    ),
    ("GET", "/api/programmes/{programme_id}/outcomes"): (
        lambda w: (f"/api/programmes/{w.programme}/outcomes", None),
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
    ("GET", "/api/ledger/chain"): (
        lambda w: ("/api/ledger/chain?positions=1,2", None),
        _allowed(200, *AUDITORS),
    ),
    ("POST", "/api/ledger/witnessed"): (
        lambda w: ("/api/ledger/witnessed", _head_as_witnessed(w)),
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
    # Scrapers do not sign in: they send WAYMARK_METRICS_TOKEN, which no user's token is
    # (tests/test_exposure.py scrapes with it).
    ("GET", "/metrics"): (lambda w: ("/metrics", None), dict.fromkeys(PEOPLE, 401)),
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
    hackney = UUID(world.other_project)
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
#: What a page that is a download sends, by the end of its path.
DOWNLOADS = {"csv": "text/csv", "zip": "application/zip"}

COHORT_FORM = {
    "name": "C",
    **{f"starts_on-{k}": v for k, v in (("day", "1"), ("month", "1"), ("year", "2026"))},
    **{f"ends_on-{k}": v for k, v in (("day", "1"), ("month", "6"), ("year", "2026"))},
}
DAY_ASSESSED = {"assessed_on-day": "1", "assessed_on-month": "1", "assessed_on-year": "2026"}
FINANCIAL_FORM = {**DAY_ASSESSED, "demand_pressure": "low", "financial_pressure": "high"}
MATURITY_FORM = {
    **DAY_ASSESSED,
    **{f"level_{meaning}": str(level) for meaning, level in MATURITY["levels"].items()},
}


def _segment_form(w: World) -> dict[str, str]:
    mapping = w.waymark.records.get_programme(_uuid(w.programme)).segment_mapping
    return {f"segment-{key.replace('/', '-')}": segment for key, segment in mapping.items()}


def _enrolment(code: str) -> dict[str, str]:
    return {"councils": code, f"title-{code}": "T"}


def _council_form() -> dict[str, str]:
    return {
        "code": f"GB-R{next(_codes)}",
        "name": "R",
        "council_type": "unitary",
        "region": "london",
    }


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
    ("GET", "/audit.csv"): (lambda w: ("/audit.csv", None), page(200, *AUDITORS)),
    ("GET", "/ledger"): (lambda w: ("/ledger?check=every-event", None), page(200, *AUDITORS)),
    ("GET", "/ledger/bundle.zip"): (
        lambda w: ("/ledger/bundle.zip", None),
        page(200, *AUDITORS),
    ),
    ("GET", "/cohorts/{cohort_id}/timeline.csv"): (
        lambda w: (f"/cohorts/{w.cohort}/timeline.csv", None),
        page(200, *PAGE_READ_COHORT),
    ),
    ("GET", "/cohorts/{cohort_id}/compare.csv"): (
        lambda w: (f"/cohorts/{w.cohort}/compare.csv", None),
        page(200, *PAGE_READ_COHORT),
    ),
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
    ("POST", "/projects/{project_id}/entries/new/{kind}/check"): (
        lambda w: (
            f"/projects/{w.project}/entries/new/sponsor_check_in/check",
            {"team_health": "green"},
        ),
        page(200, *ENTRY_WRITERS),
    ),
    ("POST", "/projects/{project_id}/entries/new/{kind}/change"): (
        lambda w: (
            f"/projects/{w.project}/entries/new/sponsor_check_in/change",
            {"team_health": "green"},
        ),
        page(200, *ENTRY_WRITERS),
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
    # An earlier entry made public from the page, where the programme allows publishing.
    ("GET", "/projects/{project_id}/entries/{entry_id}/make-public"): (
        lambda w: (f"/projects/{w.open_project()}/entries/{w.fresh_entry()}/make-public", None),
        page(200, *ENTRY_WRITERS),
    ),
    ("POST", "/projects/{project_id}/entries/{entry_id}/make-public"): (
        lambda w: (
            f"/projects/{w.open_project()}/entries/{w.fresh_entry()}/make-public",
            {"reason": "Agreed at the board."},
        ),
        page(303, *ENTRY_WRITERS),
    ),
    # -- issue 17: people and roles (admins), and each person's own account --------------
    ("GET", "/people"): (lambda w: ("/people", None), page(200, "admin")),
    ("GET", "/people/{username}"): (lambda w: ("/people/pm.in", None), page(200, "admin")),
    ("GET", "/people/new/person"): (lambda w: ("/people/new/person", None), page(200, "admin")),
    ("POST", "/people/new/person"): (
        lambda w: ("/people/new/person", {"username": f"new.{next(_codes)}", "role": "reviewer"}),
        page(200, "admin"),
    ),
    ("POST", "/people/new/confirmation"): (
        lambda w: (
            "/people/new/confirmation",
            {"username": f"new.{next(_codes)}", "role": "reviewer"},
        ),
        page(303, "admin"),
    ),
    ("GET", "/people/{username}/roles/new"): (
        lambda w: ("/people/pm.in/roles/new", None),
        page(200, "admin"),
    ),
    ("POST", "/people/{username}/roles/new"): (
        lambda w: ("/people/pm.in/roles/new", {"role": "reviewer"}),
        page(200, "admin"),
    ),
    ("POST", "/people/{username}/roles/confirmation"): (
        lambda w: (f"/people/{w.fresh_person()}/roles/confirmation", {"role": "reviewer"}),
        page(303, "admin"),
    ),
    ("GET", "/people/{username}/roles/removal"): (
        lambda w: ("/people/reviewer.user/roles/removal?grant=reviewer.user/reviewer//", None),
        page(200, "admin"),
    ),
    ("POST", "/people/{username}/roles/removal"): (
        lambda w: (
            f"/people/{(name := w.fresh_person('reviewer'))}/roles/removal",
            {"grant": f"{name}/reviewer//"},
        ),
        page(303, "admin"),
    ),
    ("GET", "/people/{username}/tokens/new"): (
        lambda w: ("/people/pm.in/tokens/new", None),
        page(200, "admin"),
    ),
    ("POST", "/people/{username}/tokens/new"): (
        lambda w: ("/people/pm.in/tokens/new", {"label": "A witness"}),
        page(200, "admin"),
    ),
    ("POST", "/people/{username}/tokens/{token_id}/revocation"): (
        lambda w: (f"/people/pm.in/tokens/{w.fresh_token_id('pm.in')}/revocation", {}),
        page(303, "admin"),
    ),
    ("POST", "/people/{username}/tokens/revocation"): (
        lambda w: (f"/people/{w.fresh_person('reviewer')}/tokens/revocation", {}),
        page(303, "admin"),
    ),
    ("GET", "/people/{username}/sessions/end"): (
        lambda w: ("/people/pm.in/sessions/end", None),
        page(200, "admin"),
    ),
    ("POST", "/people/{username}/sessions/end"): (
        lambda w: (f"/people/{w.fresh_person('reviewer')}/sessions/end", {}),
        page(303, "admin"),
    ),
    ("GET", "/account"): (lambda w: ("/account", None), page(200, *SIGNED_IN)),
    # -- the weekly digest (issue 21): one's own, and its sending (admins)
    ("GET", "/digest"): (lambda w: ("/digest", None), page(200, *SIGNED_IN)),
    ("POST", "/digest/choice"): (
        lambda w: ("/digest/choice", {"wanted": "no"}),
        page(303, *SIGNED_IN),
    ),
    ("GET", "/operations"): (lambda w: ("/operations", None), page(200, "admin")),
    ("GET", "/account/password"): (lambda w: ("/account/password", None), page(200, *SIGNED_IN)),
    # Nobody here has a password, so the current one given is never right.
    ("POST", "/account/password"): (
        lambda w: (
            "/account/password",
            {
                "current_password": "not the password",
                "new_password": "three random words",
                "confirm_password": "three random words",
            },
        ),
        page(400, *SIGNED_IN),
    ),
    # A token of the admin's own: the admin revokes it; nobody else finds it (404).
    ("POST", "/account/tokens/{token_id}/revocation"): (
        lambda w: (f"/account/tokens/{w.fresh_token_id('admin.user')}/revocation", {}),
        {p: 303 if p in ("anonymous", "admin") else 404 for p in PEOPLE},
    ),
    # -- set-up journeys (issue 17): the questions, the check page, the recording, the panel
    ("GET", "/programmes/new"): (lambda w: ("/programmes/new", None), page(200, "admin")),
    ("POST", "/programmes/new"): (lambda w: ("/programmes/new", {"name": "N"}), page(200, "admin")),
    ("GET", "/programmes/new/managers"): (
        lambda w: ("/programmes/new/managers?name=N", None),
        page(200, "admin"),
    ),
    ("POST", "/programmes/new/managers"): (
        lambda w: ("/programmes/new/managers", {"name": "N", "managers": "pm.in"}),
        page(200, "admin"),
    ),
    ("POST", "/programmes/new/confirm"): (
        lambda w: ("/programmes/new/confirm", {"name": "N"}),
        page(303, "admin"),
    ),
    ("GET", "/programmes/{programme_id}/done"): (
        lambda w: (f"/programmes/{w.programme}/done?what=launched", None),
        page(200, *SIGNED_IN),
    ),
    ("GET", "/programmes/{programme_id}/segments"): (
        lambda w: (f"/programmes/{w.programme}/segments", None),
        page(200, *SIGNED_IN),
    ),
    ("GET", "/programmes/{programme_id}/outputs"): (
        lambda w: (f"/programmes/{w.programme}/outputs?phase=alpha", None),
        page(200, *SIGNED_IN),
    ),
    ("GET", "/programmes/{programme_id}/capabilities"): (
        lambda w: (f"/programmes/{w.programme}/capabilities", None),
        page(200, *SIGNED_IN),
    ),
    ("GET", "/programmes/{programme_id}/capabilities/{slug}"): (
        lambda w: (f"/programmes/{w.programme}/capabilities/{w.a_capability()}", None),
        page(200, *SIGNED_IN),
    ),
    ("GET", "/programmes/{programme_id}/segments/change"): (
        lambda w: (f"/programmes/{w.programme}/segments/change", None),
        page(200, *MANAGE),
    ),
    ("POST", "/programmes/{programme_id}/segments/change"): (
        lambda w: (f"/programmes/{w.programme}/segments/change", _segment_form(w)),
        page(200, *MANAGE),
    ),
    ("POST", "/programmes/{programme_id}/segments/change/confirm"): (
        lambda w: (f"/programmes/{w.programme}/segments/change/confirm", _segment_form(w)),
        page(303, *MANAGE),
    ),
    ("GET", "/programmes/{programme_id}/cohorts/new"): (
        lambda w: (f"/programmes/{w.programme}/cohorts/new", None),
        page(200, *MANAGE),
    ),
    ("POST", "/programmes/{programme_id}/cohorts/new"): (
        lambda w: (f"/programmes/{w.programme}/cohorts/new", COHORT_FORM),
        page(200, *MANAGE),
    ),
    ("POST", "/programmes/{programme_id}/cohorts/new/confirm"): (
        lambda w: (f"/programmes/{w.programme}/cohorts/new/confirm", COHORT_FORM),
        page(303, *MANAGE),
    ),
    ("GET", "/cohorts/{cohort_id}/done"): (
        lambda w: (f"/cohorts/{w.cohort}/done?what=formed", None),
        page(200, *PAGE_READ_COHORT),
    ),
    ("GET", "/cohorts/{cohort_id}/sessions/new"): (
        lambda w: (f"/cohorts/{w.cohort}/sessions/new", None),
        page(200, *MANAGE),
    ),
    ("POST", "/cohorts/{cohort_id}/sessions/new"): (
        lambda w: (f"/cohorts/{w.cohort}/sessions/new", SESSION_FORM),
        page(200, *MANAGE),
    ),
    ("POST", "/cohorts/{cohort_id}/sessions/new/confirm"): (
        lambda w: (f"/cohorts/{w.cohort}/sessions/new/confirm", SESSION_FORM),
        page(303, *MANAGE),
    ),
    ("GET", "/programmes/{programme_id}/support"): (
        lambda w: (f"/programmes/{w.programme}/support", None),
        page(200, "admin", "reviewer", "pm_in"),
    ),
    ("GET", "/cohorts/{cohort_id}/details"): (
        lambda w: (f"/cohorts/{w.cohort}/details", None),
        page(200, *MANAGE),
    ),
    ("POST", "/cohorts/{cohort_id}/details"): (
        lambda w: (f"/cohorts/{w.cohort}/details", COHORT_FORM),
        page(200, *MANAGE),
    ),
    ("POST", "/cohorts/{cohort_id}/details/confirm"): (
        lambda w: (f"/cohorts/{w.fresh_cohort()}/details/confirm", COHORT_FORM),
        page(303, *MANAGE),
    ),
    ("GET", "/cohorts/{cohort_id}/close"): (
        lambda w: (f"/cohorts/{w.cohort}/close", None),
        page(200, *MANAGE),
    ),
    ("POST", "/cohorts/{cohort_id}/close"): (
        lambda w: (f"/cohorts/{w.fresh_cohort()}/close", {}),
        page(303, *MANAGE),
    ),
    ("GET", "/cohorts/{cohort_id}/enrol"): (
        lambda w: (f"/cohorts/{w.cohort}/enrol", None),
        page(200, *MANAGE),
    ),
    ("POST", "/cohorts/{cohort_id}/enrol"): (
        lambda w: (f"/cohorts/{w.cohort}/enrol", {"councils": w.fresh_council()}),
        page(200, *MANAGE),
    ),
    ("GET", "/cohorts/{cohort_id}/enrol/titles"): (
        lambda w: (f"/cohorts/{w.cohort}/enrol/titles?councils={w.fresh_council()}", None),
        page(200, *MANAGE),
    ),
    ("POST", "/cohorts/{cohort_id}/enrol/check"): (
        lambda w: (f"/cohorts/{w.cohort}/enrol/check", _enrolment(w.fresh_council())),
        page(200, *MANAGE),
    ),
    ("POST", "/cohorts/{cohort_id}/enrol/confirm"): (
        lambda w: (f"/cohorts/{w.cohort}/enrol/confirm", _enrolment(w.fresh_council())),
        page(303, *MANAGE),
    ),
    ("GET", "/cohorts/{cohort_id}/withdraw"): (
        lambda w: (f"/cohorts/{w.cohort}/withdraw", None),
        page(200, *MANAGE),
    ),
    ("POST", "/cohorts/{cohort_id}/withdraw"): (
        lambda w: (f"/cohorts/{w.cohort}/withdraw", {"council_code": "GB-DEV", "reason": "R"}),
        page(200, *MANAGE),
    ),
    ("POST", "/cohorts/{cohort_id}/withdraw/confirm"): (
        lambda w: (
            f"/cohorts/{w.cohort}/withdraw/confirm",
            {"council_code": w.fresh_enrolled_council(), "reason": "Left."},
        ),
        page(303, *MANAGE),
    ),
    ("GET", "/cohorts/{cohort_id}/projects/new"): (
        lambda w: (f"/cohorts/{w.cohort}/projects/new", None),
        page(200, *MANAGE),
    ),
    ("POST", "/cohorts/{cohort_id}/projects/new"): (
        lambda w: (f"/cohorts/{w.cohort}/projects/new", {"council_code": "GB-DEV", "title": "T"}),
        page(200, *MANAGE),
    ),
    ("POST", "/cohorts/{cohort_id}/projects/new/confirm"): (
        lambda w: (
            f"/cohorts/{w.cohort}/projects/new/confirm",
            {"council_code": "GB-DEV", "title": f"Another {next(_codes)}"},
        ),
        page(303, *MANAGE),
    ),
    ("GET", "/councils/find"): (
        lambda w: ("/councils/find?q=ex", None),
        page(200, *COUNCIL_REGISTRARS),
    ),
    ("GET", "/councils/new"): (lambda w: ("/councils/new", None), page(200, *COUNCIL_REGISTRARS)),
    ("POST", "/councils/new"): (
        lambda w: ("/councils/new", _council_form()),
        page(200, *COUNCIL_REGISTRARS),
    ),
    ("POST", "/councils/new/confirm"): (
        lambda w: ("/councils/new/confirm", _council_form()),
        page(303, *COUNCIL_REGISTRARS),
    ),
    ("GET", "/councils/{code}/done"): (
        lambda w: ("/councils/GB-EXE/done?what=registered", None),
        page(200, *SIGNED_IN),
    ),
    ("GET", "/councils/{code}/financial-context"): (
        lambda w: ("/councils/GB-EXE/financial-context", None),
        page(200, *COUNCIL_CHANGERS),
    ),
    ("POST", "/councils/{code}/financial-context"): (
        lambda w: ("/councils/GB-EXE/financial-context", FINANCIAL_FORM),
        page(200, *COUNCIL_CHANGERS),
    ),
    ("POST", "/councils/{code}/financial-context/confirm"): (
        lambda w: ("/councils/GB-EXE/financial-context/confirm", FINANCIAL_FORM),
        page(303, *COUNCIL_CHANGERS),
    ),
    ("GET", "/councils/{code}/maturity"): (
        lambda w: ("/councils/GB-EXE/maturity", None),
        page(200, *COUNCIL_CHANGERS),
    ),
    ("POST", "/councils/{code}/maturity"): (
        lambda w: ("/councils/GB-EXE/maturity", MATURITY_FORM),
        page(200, *COUNCIL_CHANGERS),
    ),
    ("POST", "/councils/{code}/maturity/confirm"): (
        lambda w: ("/councils/GB-EXE/maturity/confirm", MATURITY_FORM),
        page(303, *COUNCIL_CHANGERS),
    ),
    ("POST", "/projects/{project_id}/entries/{entry_id}/correction/check"): (
        lambda w: (
            f"/projects/{w.project}/entries/{w.fresh_entry()}/correction/check",
            {
                "team_health": "amber",
                "correction-reason_kind": "recording_error",
                "correction-reason": "Typed the wrong colour.",
            },
        ),
        page(200, *ENTRY_WRITERS),
    ),
    ("POST", "/projects/{project_id}/entries/{entry_id}/correction/change"): (
        lambda w: (
            f"/projects/{w.project}/entries/{w.fresh_entry()}/correction/change",
            {"team_health": "amber"},
        ),
        page(200, *ENTRY_WRITERS),
    ),
    # Working in the open: anyone, signed in or not, while the programme allows publishing.
    ("GET", "/open/projects/{project_id}"): (
        lambda w: (f"/open/projects/{w.open_project()}", None),
        public(200),
    ),
    ("GET", "/sign-in"): (lambda w: ("/sign-in", None), public(200)),
    ("POST", "/sign-in"): (lambda w: ("/sign-in", {"username": "", "password": ""}), public(400)),
    ("POST", "/sign-out"): (lambda w: ("/sign-out", {}), public(303)),
    ("GET", "/docs"): (lambda w: ("/docs", None), public(200)),
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
                kind = DOWNLOADS.get(_template.rpartition(".")[2], "text/html")
                shown = kind if response.status_code == 200 else "text/html"
                assert response.headers["content-type"].startswith(shown)
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
    assert "You cannot do this" in response.text
    assert world.waymark.records.get_project(other).version == before


# -- councils: who changes them, who sees their assessments in full (issue 16, point 10) --

#: Every change to a council, as (method, path under /api/councils/{code}, body).
COUNCIL_CHANGES: list[tuple[str, str, dict[str, Any]]] = [
    ("PATCH", "", {"suppliers": ["A"]}),
    ("POST", "/gss-code", {"gss_code": "E06000099", "effective_from": "2026-01-01"}),
    (
        "POST",
        "/financial-context",
        {"assessed_on": "2026-01-01", "demand_pressure": "low", "financial_pressure": "high"},
    ),
    ("POST", "/maturity", MATURITY),
    ("POST", "/declaration", {"signed_on": "2026-01-01"}),
    ("POST", "/succession", {"successor_codes": ["GB-DEV"], "effective_from": "2026-01-01"}),
]


def _as(world: World, person: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.tokens[person]}"}


def test_a_programme_manager_changes_only_councils_enrolled_in_their_programmes(
    client: TestClient,
) -> None:
    # Given GB-HCK enrolled in programme Q only, and a council enrolled nowhere
    world = build_world(client)
    records = world.waymark.records
    nowhere = world.fresh_council()
    failures = []
    for method, suffix, body in COUNCIL_CHANGES:
        for code, person in (("GB-HCK", "pm_in"), (nowhere, "pm_in"), (nowhere, "pm_out")):
            before = records.get_council(code).version
            # When a manager of another programme (or of none it is in) tries to change it
            response = client.request(
                method, f"/api/councils/{code}{suffix}", json=body, headers=_as(world, person)
            )
            # Then it is refused and nothing is recorded
            if response.status_code != 403 or records.get_council(code).version != before:
                failures.append(f"{method} {code}{suffix} as {person}: {response.status_code}")
    assert not failures, "\n".join(failures)
    # And the manager of Q changes GB-HCK (the lower-case code is the same council)
    changed = client.patch(
        "/api/councils/gb-hck", json={"suppliers": ["B"]}, headers=_as(world, "pm_out")
    )
    assert changed.status_code == 200, changed.text
    assert records.get_council("GB-HCK").suppliers == ["B"]


def test_a_council_enrolled_a_moment_ago_can_be_changed_by_its_programmes_manager(
    client: TestClient,
) -> None:
    # Given a council the manager of P registers and enrols, through the API
    world = build_world(client)
    pm = _as(world, "pm_in")
    registered = client.post(
        "/api/councils",
        json={"code": "GB-NEW", "name": "New", "council_type": "unitary", "region": "london"},
        headers=pm,
    )
    assert registered.status_code == 201
    # (before it is enrolled, it is no council of theirs to change)
    assert client.patch("/api/councils/GB-NEW", json={}, headers=pm).status_code == 403
    enrolled = client.post(
        f"/api/cohorts/{world.cohort}/projects",
        json={"council_code": "GB-NEW", "title": "New"},
        headers=pm,
    )
    assert enrolled.status_code == 201
    # When they change it straight away, before the read models might have caught up
    response = client.post(
        "/api/councils/GB-NEW/maturity", json={**MATURITY, "note": "First look"}, headers=pm
    )
    # Then it is allowed
    assert response.status_code == 200, response.text
    # And once it withdraws from P's cohort, it is no longer theirs to change
    withdrawn = client.post(
        f"/api/cohorts/{world.cohort}/withdrawals",
        json={"council_code": "GB-NEW", "reason": "Left."},
        headers=pm,
    )
    assert withdrawn.status_code == 200
    refused = client.patch("/api/councils/GB-NEW", json={"suppliers": ["C"]}, headers=pm)
    assert refused.status_code == 403


#: Who sees a council's assessments in full (pressures and notes): GB-EXE's own
#: participant, programme staff and reviewers; a participant of another council sees
#: segments and levels only.
IN_FULL = {
    "admin": True,
    "pm_in": True,
    "pm_out": True,
    "reviewer": True,
    "part_in": True,
    "part_out": False,
}


def _assess_exeter(world: World) -> None:
    records = world.waymark.records
    records.assess_financial_context(
        code="GB-EXE",
        assessed_on=date(2026, 1, 10),
        demand_pressure="high",
        financial_pressure="low",
        note="Reserves cover two years; demand from adult social care rising",
        actor="t",
    )
    records.assess_maturity(
        code="GB-EXE",
        assessed_on=date(2026, 1, 11),
        levels=MATURITY["levels"],
        note="Strong on tools, weak on user research",
        actor="t",
    )


def test_council_assessments_are_in_full_for_staff_and_its_own_people_summary_for_peers(
    client: TestClient,
) -> None:
    world = build_world(client)
    _assess_exeter(world)
    expected_segment = client.get("/api/councils/GB-EXE").json()["financial_contexts"][0]["segment"]
    for person, in_full in IN_FULL.items():
        body = client.get("/api/councils/GB-EXE", headers=_as(world, person)).json()
        [money] = body["financial_contexts"]
        [maturity] = body["maturity"]
        # Everyone sees the dates, the segment and the levels
        assert money["assessed_on"] == "2026-01-10"
        assert money["segment"] == expected_segment
        assert maturity["levels"] == MATURITY["levels"]
        if in_full:
            assert body["assessments"] == "in_full", person
            assert money["note"].startswith("Reserves cover")
            assert (money["demand_pressure"], money["financial_pressure"]) == ("high", "low")
            assert maturity["note"] == "Strong on tools, weak on user research"
        else:
            assert body["assessments"] == "summary", person
            assert set(money) == {"assessed_on", "segment"}, person
            assert set(maturity) == {"assessed_on", "levels"}, person
            assert "Reserves" not in str(body) and "user research" not in str(body)


def test_the_council_page_shows_assessment_notes_only_to_those_who_may_see_them(
    client: TestClient,
) -> None:
    world = build_world(client)
    _assess_exeter(world)
    for person, in_full in IN_FULL.items():
        page_text = client.get("/councils/GB-EXE", headers=_as(world, person)).text
        assert ("Strong on tools, weak on user research" in page_text) is in_full, person
        assert "Reserves cover two years" not in page_text  # the page shows no such note
        assert "Level 5 of 5" in page_text, person  # the levels, for everyone
        assert ("You see each assessment as its segment" in page_text) is not in_full, person
