"""Issue 20, items 1 and 2: grants, payments, match funding and closures; the totals on the
project, cohort and programme pages, as they stand and stood; and the programme's grants
as a 360Giving data package that validates against the standard's own schemas."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from services.container import Waymark
from tests.helpers import assert_problem, entry

SCHEMAS = Path(__file__).parent / "fixtures" / "360giving"
COUNCILS = (
    ("GB-EXE", "Exeter City Council", "district", "E07000041"),
    ("GB-DEV", "Devon County Council", "county", "E10000008"),
)


def package_validator() -> Draft202012Validator:
    """The package schema, its reference to the grant schema resolved to the local copy,
    with date-time formats checked (SOURCE.md there says why)."""
    package = json.loads((SCHEMAS / "360-giving-package-schema.json").read_text())
    grant = json.loads((SCHEMAS / "360-giving-schema.json").read_text())
    reference = package["properties"]["grants"]["items"]["$ref"]
    # Their "$schema" is the http:// spelling of 2020-12, which referencing does not know.
    resource = DRAFT202012.create_resource(grant)
    registry: Registry = Registry().with_resources(
        [(reference, resource), (grant["$id"], resource)]
    )
    return Draft202012Validator(
        package, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
    )


@dataclass
class World:
    waymark: Waymark
    programme: UUID
    cohort: UUID
    exeter: UUID
    devon: UUID
    exeter_grant: str
    devon_grant: str
    #: The day the payments were recorded: before the correction and the closure.
    paid_on: date


def _at(day: date) -> datetime:
    return datetime.combine(day, time(10), UTC)


@pytest.fixture
def world(client: TestClient) -> World:
    """Two funded projects over simulated days: grants and match funding 30 days ago,
    payments 20 days ago, then (10 days ago) Exeter's amount corrected and Devon's grant
    paid again and closed."""
    waymark: Waymark = client.app.state.waymark  # type: ignore[attr-defined]
    records = waymark.records
    today = waymark.queries.today()
    set_up, awarded, paid, corrected = (today - timedelta(days=d) for d in (40, 30, 20, 10))
    projects = {}
    with records.recording_at(_at(set_up)):
        programme = records.launch_programme(
            name="Local Digital", description="", sponsor_body="MHCLG", actor="pm"
        )
        cohort = records.form_cohort(
            programme_id=programme.id,
            name="Cohort 1",
            starts_on=set_up,
            ends_on=set_up + timedelta(weeks=24),
            actor="pm",
        )
        for code, name, council_type, gss_code in COUNCILS:
            records.register_council(
                code=code,
                name=name,
                council_type=council_type,
                region="south_west",
                population=None,
                gss_code=gss_code,
                political_control=None,
                actor="pm",
            )
            projects[code] = records.enrol_council(
                cohort_id=cohort.id, council_code=code, title=f"{name} online", actor="pm"
            ).id

    def record(code: str, kind: str, on: date, **values: Any) -> str:
        with records.recording_at(_at(on)):
            written = records.record_entry(
                project_id=projects[code], kind=kind, decided_on=on, values=values, actor="pm"
            )
        return str(written.id)

    exeter_grant = record(
        "GB-EXE",
        "grant_awarded",
        awarded,
        funder="Ministry of Housing, Communities and Local Government",
        funder_id="GB-GOR-PB1",
        fund="Local Digital Fund, round 6",
        amount="120000.00",
        purpose="An online bin collection calendar.",
        planned_start="2026-04-01",
        planned_end="2027-03-31",
    )
    devon_grant = record(
        "GB-DEV",
        "grant_awarded",
        awarded,
        funder="=Ministry of Housing",  # a spreadsheet must not read this as a formula
        amount="80000",
        purpose="A front door for adult social care.",
    )
    record("GB-EXE", "match_funding_committed", awarded, amount="30000.00", source="Reserves")
    record("GB-EXE", "payment_made", paid, grant_entry_id=exeter_grant, amount="40000.00")
    record("GB-DEV", "payment_made", paid, grant_entry_id=devon_grant, amount="20000.00")
    record(
        "GB-EXE",
        "entry_corrected",
        corrected,
        corrects=exeter_grant,
        reason_kind="recording_error",
        reason="The award letter says £125,000.50.",
        replacement={"amount": "125000.50", "decided_on": str(awarded - timedelta(days=1))},
    )
    record("GB-DEV", "payment_made", corrected, grant_entry_id=devon_grant, amount="10000.00")
    record("GB-DEV", "grant_closed", corrected, grant_entry_id=devon_grant, amount_paid="30000.00")
    waymark.projector.catch_up()
    return World(
        waymark,
        programme.id,
        cohort.id,
        projects["GB-EXE"],
        projects["GB-DEV"],
        exeter_grant,
        devon_grant,
        paid,
    )


def _then(day: date) -> str:
    return f"{day}T23:59:59Z"


def _as_of_page(path: str, day: date) -> str:
    return f"{path}?as_of-day={day.day}&as_of-month={day.month}&as_of-year={day.year}"


def test_the_360giving_package_validates_with_the_amounts_in_force_and_agrees_with_the_pages(
    client: TestClient, world: World
) -> None:
    # Given two funded projects, one grant's amount corrected
    validator = package_validator()
    now = {"awarded": "205000.50", "paid": "70000.00", "matched": "30000.00"}
    then = {"awarded": "200000.00", "paid": "60000.00", "matched": "30000.00"}
    for as_of, totals in ((None, now), (world.paid_on, then)):
        params = {"as_of": _then(as_of)} if as_of else {}
        # When the programme's grants are exported, now and as of the day they were paid
        response = client.get(f"/api/programmes/{world.programme}/360giving.json", params=params)
        assert response.status_code == 200, response.text
        found = response.json()
        # Then the package validates against the standard's schemas
        errors = sorted(validator.iter_errors(found), key=lambda e: list(e.path))
        assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]
        grants = {g["id"]: g for g in found["grants"]}
        exeter = grants[f"360G-waymark-{world.exeter_grant}"]
        devon = grants[f"360G-waymark-{world.devon_grant}"]
        # ... with the amount in force, and the payments in force by then
        assert exeter["amountAwarded"] == (125000.5 if as_of is None else 120000)
        assert exeter["amountDisbursed"] == 40000
        assert devon["amountDisbursed"] == (30000 if as_of is None else 20000)
        assert exeter["recipientOrganization"] == [{"id": "GB-EXE", "name": "Exeter City Council"}]
        assert exeter["fundingOrganization"][0]["id"] == "GB-GOR-PB1"
        assert devon["fundingOrganization"][0]["id"].startswith("360G-waymark-funder-")
        assert exeter["plannedDates"] == [{"startDate": "2026-04-01", "endDate": "2027-03-31"}]
        assert devon["beneficiaryLocation"] == [
            {"name": "Devon County Council", "geoCode": "E10000008", "geoCodeType": "CTY"}
        ]
        assert exeter["currency"] == "GBP" and exeter["title"] == "Exeter City Council online"
        # ... and its sums are the totals the API and every page show
        export_awarded = sum(g["amountAwarded"] for g in found["grants"])
        export_paid = sum(g["amountDisbursed"] for g in found["grants"])
        assert (f"{export_awarded:.2f}", f"{export_paid:.2f}") == (
            totals["awarded"],
            totals["paid"],
        )
        money = client.get(f"/api/programmes/{world.programme}/funding", params=params).json()
        assert {k: money[k] for k in totals} == totals
        cohort = client.get(f"/api/cohorts/{world.cohort}/funding", params=params).json()
        assert {k: cohort[k] for k in totals} == totals
        compared = client.get(f"/api/cohorts/{world.cohort}/comparison", params=params).json()
        assert {
            k: f"{sum(Decimal(r['funding'][k]) for r in compared['items']):.2f}" for k in totals
        } == totals
        for path in (f"/programmes/{world.programme}", f"/cohorts/{world.cohort}"):
            page = client.get(_as_of_page(path, as_of) if as_of else path).text
            for amount in totals.values():
                assert f"£{float(amount):,.2f}" in page, (path, amount)
        # ... and the comparison page's money columns and its CSV show each project's
        exeter_awarded = "125000.50" if as_of is None else "120000.00"
        compare = f"/cohorts/{world.cohort}/compare"
        page = client.get(_as_of_page(compare, as_of) if as_of else compare).text
        assert "Grants awarded" in page and f"£{float(exeter_awarded):,.2f}" in page
        sheet = client.get(_as_of_page(f"{compare}.csv", as_of) if as_of else f"{compare}.csv")
        (exeter_row,) = [
            r for r in csv.DictReader(io.StringIO(sheet.text)) if r["Council"].startswith("Exeter")
        ]
        assert exeter_row["Grants awarded (GBP)"] == exeter_awarded
        assert exeter_row["Match funding (GBP)"] == "30000.00"
    # The project's JSON carries its totals now and as it stood
    exeter_now = client.get(f"/api/projects/{world.exeter}").json()["funding"]
    assert exeter_now == {"awarded": "125000.50", "paid": "40000.00", "matched": "30000.00"}
    past = client.get(f"/api/projects/{world.exeter}", params={"as_of": _then(world.paid_on)})
    assert past.json()["funding"]["awarded"] == "120000.00"
    project_page = client.get(f"/projects/{world.devon}").text
    assert "Closed, £30,000.00 paid in all" in project_page
    # And the CSV has the standard's columns, the corrected amount, and is spreadsheet-safe
    text = client.get(f"/api/programmes/{world.programme}/360giving.csv").text
    rows = list(csv.DictReader(io.StringIO(text)))
    by_id = {r["Identifier"]: r for r in rows}
    assert by_id[f"360G-waymark-{world.exeter_grant}"]["Amount Awarded"] == "125000.50"
    assert by_id[f"360G-waymark-{world.devon_grant}"]["Funding Org:Name"] == "'=Ministry of Housing"
    assert by_id[f"360G-waymark-{world.devon_grant}"]["Amount Disbursed"] == "30000.00"
    programme_page = client.get(f"/programmes/{world.programme}").text
    assert f"/api/programmes/{world.programme}/360giving.json" in programme_page
    # A programme with no grants, as it stood before any was awarded or as a new one stands,
    # has nothing the standard takes (a package needs a grant): a 409 naming why, and the
    # programme page says so instead of offering the downloads
    unfunded = world.waymark.records.launch_programme(
        name="Unfunded", description="", sponsor_body="", actor="pm"
    ).id
    before = world.paid_on - timedelta(days=11)
    for programme, as_of, words in (
        (world.programme, before, "had awarded no grants by then"),
        (unfunded, None, "has awarded no grants yet"),
    ):
        params = {"as_of": _then(as_of)} if as_of else {}
        for extension in ("json", "csv"):
            path = f"/api/programmes/{programme}/360giving.{extension}"
            refused = assert_problem(client.get(path, params=params), 409)
            assert refused["type"] == "/problems/no-grants", refused
            assert "no grants" in refused["detail"] and "at least one grant" in refused["detail"]
        page_path = f"/programmes/{programme}"
        page = client.get(_as_of_page(page_path, as_of) if as_of else page_path).text
        assert words in page and "360giving.json" not in page, page
    future = _as_of_page(f"/programmes/{world.programme}", date.today() + timedelta(days=2))
    assert "The date must be today or in the past" in client.get(future).text
    # The payment form offers the project's grants, by funder and amount in force
    form = client.get(f"/projects/{world.exeter}/entries/new/payment_made").text
    assert f'value="{world.exeter_grant}"' in form and "£125,000.50" in form


def test_money_and_grant_references_are_refused_with_the_field_at_fault(
    client: TestClient, world: World
) -> None:
    exeter, devon = str(world.exeter), str(world.devon)
    for amount in ("100.001", "-5.00", "lots", 12.5):
        response = client.post(
            f"/api/projects/{exeter}/entries",
            json={"kind": "match_funding_committed", "amount": amount, "source": "Reserves"},
        )
        assert_problem(response, 422, "amount")
    # A payment of another project's grant, or of an entry that is no grant
    concern = entry(
        client, exeter, {"kind": "concern_raised", "category": "skills", "description": "Few"}
    )
    for grant in (world.devon_grant, concern["entry_id"]):
        response = client.post(
            f"/api/projects/{exeter}/entries",
            json={"kind": "payment_made", "grant_entry_id": grant, "amount": "1.00"},
        )
        assert_problem(response, 422, "grant_entry_id")
    # A grant is closed once; a correction cannot point a payment at another's grant
    response = client.post(
        f"/api/projects/{devon}/entries",
        json={"kind": "grant_closed", "grant_entry_id": world.devon_grant, "amount_paid": "1"},
    )
    assert_problem(response, 409)
    payment = client.get(f"/api/projects/{exeter}/funding").json()["grants"][0]["payments"][0]
    response = client.post(
        f"/api/projects/{exeter}/entries",
        json={
            "kind": "entry_corrected",
            "corrects": payment["entry_id"],
            "reason_kind": "recording_error",
            "reason": "Wrong grant",
            "replacement": {"grant_entry_id": world.devon_grant},
        },
    )
    assert_problem(response, 422, "replacement.grant_entry_id")
