"""Issue 17, point 1: a programme is set up from the pages, each step checked before it is
recorded, with the Design System's wording when something is wrong."""

from __future__ import annotations

import re
import threading
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from uuid import UUID

from fastapi.testclient import TestClient

from services.container import Waymark
from tests.helpers import cohort, council, make_user, programme, project


def waymark_of(client: TestClient) -> Waymark:
    waymark: Waymark = client.app.state.waymark  # type: ignore[attr-defined]
    return waymark


def hidden_fields(html: str) -> dict[str, list[str]]:
    """What a check page's form will post: its hidden fields, as the browser sends them."""
    posted: dict[str, list[str]] = {}
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html):
        posted.setdefault(name, []).append(_unescape(value))
    return posted


def _unescape(text: str) -> str:
    for escaped, plain in (("&#39;", "'"), ("&#34;", '"'), ("&lt;", "<"), ("&gt;", ">")):
        text = text.replace(escaped, plain)
    return text.replace("&amp;", "&")


def confirm(client: TestClient, check_page: Any, action: str) -> Any:
    assert check_page.status_code == 200, check_page.text[:2000]
    assert "Check" in check_page.text and ">Change<" in check_page.text.replace("\n", "")
    return client.post(action, data=hidden_fields(check_page.text), follow_redirects=False)


def day(prefix: str, d: date) -> dict[str, str]:
    return {
        f"{prefix}-day": str(d.day),
        f"{prefix}-month": str(d.month),
        f"{prefix}-year": str(d.year),
    }


def test_an_admin_launches_a_programme_only_after_checking_the_answers(
    client: TestClient,
) -> None:
    waymark = waymark_of(client)
    home = client.get("/")
    assert 'href="/programmes/new"' in home.text  # the start button, for an admin
    answers = {"name": "Local Digital Accelerator 2027", "sponsor_body": "MHCLG"}

    managers = client.post("/programmes/new", data=answers)
    assert "Who will manage the programme?" in managers.text  # the next question
    check = client.post("/programmes/new/managers", data=hidden_fields(managers.text))
    assert waymark.queries.programmes() == []  # nothing recorded by the check page
    assert "Check the programme before you launch it" in check.text
    change = re.search(r'href="(/programmes/new\?[^"]+)"', check.text)
    assert change is not None
    again = client.get(_unescape(change.group(1)))
    assert 'value="Local Digital Accelerator 2027"' in again.text  # change keeps the answers

    done = confirm(client, check, "/programmes/new/confirm")
    assert done.status_code == 303
    programme_id = urlsplit(done.headers["location"]).path.split("/")[2]
    panel = client.get(done.headers["location"])
    assert "govuk-panel" in panel.text and "Programme launched" in panel.text
    found = waymark.records.get_programme(UUID(programme_id))
    assert (found.name, found.sponsor_body, found.launched_by) == (
        "Local Digital Accelerator 2027",
        "MHCLG",
        "pm.jones",
    )
    # Posting the checked answers again (a double click, a reload) launches nothing more
    confirm(client, check, "/programmes/new/confirm")
    assert sum(1 for _ in _events_of(waymark, "Programme.Launched")) == 1


def _events_of(waymark: Waymark, name: str) -> list[Any]:
    recorder = waymark.records.recorder
    found = []
    for notification in recorder.select_notifications(start=1, limit=10_000):
        if notification.topic.endswith(name):
            found.append(notification)
    return found


def test_the_launcher_names_the_managers_among_people_or_invites_them_by_name(
    client: TestClient,
) -> None:
    waymark = waymark_of(client)
    client.post("/programmes/new", data={"name": "Accelerator"})  # the route is ready
    waymark.projector.stop()  # the read models are behind when the page is asked for
    make_user(waymark, "sam.lee", "reviewer")
    starter = threading.Timer(1.0, waymark.projector.start)
    starter.start()
    managers = client.post("/programmes/new", data={"name": "Accelerator"})
    starter.join()
    # a person added a moment ago is offered: the page waits for the read models
    assert 'name="managers" type="checkbox" value="sam.lee"' in managers.text
    details = hidden_fields(managers.text)

    # A name that is not a username, or one that has an account already, is said in words
    wrong = client.post("/programmes/new/managers", data={**details, "invited": "Not A Name!"})
    assert wrong.status_code == 400
    assert "‘Not A Name!’ is not a username" in wrong.text and 'href="#invited"' in wrong.text
    taken = client.post("/programmes/new/managers", data={**details, "invited": "sam.lee"})
    assert "sam.lee already has an account: select them instead" in taken.text
    unknown = client.post("/programmes/new/managers", data={**details, "managers": "nobody"})
    assert "Select people who have an account" in unknown.text

    named = {**details, "managers": "sam.lee", "invited": "kim.roe\n"}
    check = client.post("/programmes/new/managers", data=named)
    assert "sam.lee, kim.roe (invited: an account is added)" in check.text
    # the change link goes back to the managers step, with every answer
    change = re.search(r'href="(/programmes/new/managers\?[^"]+)"', check.text)
    assert change is not None
    again = client.get(_unescape(change.group(1)))
    assert 'value="sam.lee" checked' in again.text and "kim.roe" in again.text
    assert waymark.queries.programmes() == []

    done = confirm(client, check, "/programmes/new/confirm")
    assert done.status_code == 303, done.text
    programme_id = urlsplit(done.headers["location"]).path.split("/")[2]
    confirm(client, check, "/programmes/new/confirm")  # again: nothing more, no error
    for name in ("sam.lee", "kim.roe"):
        user = waymark.records.get_user(name)
        held = [(g.role, str(g.programme_id)) for g in user.grants]
        assert ("programme_manager", programme_id) in held, name
    # one grant each, recorded once, by the signed-in admin
    granted = [
        n.state.decode()
        for n in _events_of(waymark, "User.RoleGranted")
        if programme_id.replace("-", "") in n.state.decode()
    ]
    assert len(granted) == 2 and all('"actor":"pm.jones"' in g for g in granted)


def test_the_programme_form_says_what_is_missing_in_govuk_words(client: TestClient) -> None:
    page = client.post("/programmes/new", data={"name": "  "})
    assert page.status_code == 400
    assert "There is a problem" in page.text
    assert "Enter programme name" in page.text
    assert 'href="#name"' in page.text


def test_a_manager_forms_changes_and_closes_a_cohort(client: TestClient) -> None:
    waymark = waymark_of(client)
    programme_id = programme(client)
    manager = make_user(waymark, "pat", "programme_manager", programme_id=programme_id)
    as_pat = {"Authorization": f"Bearer {manager}"}
    page = client.get(f"/programmes/{programme_id}", headers=as_pat)
    assert f'href="/programmes/{programme_id}/cohorts/new"' in page.text
    assert 'href="/programmes/new"' not in client.get("/", headers=as_pat).text

    start, end = date(2026, 1, 5), date(2026, 6, 26)
    # An end before the start, and a date without its month, are said in GOV.UK's words
    wrong = client.post(
        f"/programmes/{programme_id}/cohorts/new",
        data={"name": "Cohort 1", **day("starts_on", end), **day("ends_on", start)},
        headers=as_pat,
    )
    assert wrong.status_code == 400
    assert "End date must be the same as or after the start date" in wrong.text
    partial = client.post(
        f"/programmes/{programme_id}/cohorts/new",
        data={
            "name": "Cohort 1",
            **day("starts_on", start),
            "ends_on-day": "26",
            "ends_on-year": "2026",
        },
        headers=as_pat,
    )
    assert "End date must include a month" in partial.text

    check = client.post(
        f"/programmes/{programme_id}/cohorts/new",
        data={"name": "Cohort 1", **day("starts_on", start), **day("ends_on", end)},
        headers=as_pat,
    )
    assert "5 January 2026" in check.text
    formed = client.post(
        f"/programmes/{programme_id}/cohorts/new/confirm",
        data=hidden_fields(check.text),
        headers=as_pat,
        follow_redirects=False,
    )
    assert formed.status_code == 303
    cohort_id = UUID(urlsplit(formed.headers["location"]).path.split("/")[2])
    assert waymark.records.get_cohort(cohort_id).formed_by == "pat"

    # Changing the details: the form starts from what the cohort has now
    form = client.get(f"/cohorts/{cohort_id}/details", headers=as_pat)
    assert 'value="Cohort 1"' in form.text
    check = client.post(
        f"/cohorts/{cohort_id}/details",
        data={
            "name": "Spring cohort",
            **day("starts_on", start),
            **day("ends_on", end + timedelta(days=7)),
        },
        headers=as_pat,
    )
    changed = client.post(
        f"/cohorts/{cohort_id}/details/confirm",
        data=hidden_fields(check.text),
        headers=as_pat,
        follow_redirects=False,
    )
    assert changed.status_code == 303
    found = waymark.records.get_cohort(cohort_id)
    assert (found.name, found.ends_on) == ("Spring cohort", date(2026, 7, 3))
    waymark.queries.fresh(waymark.projector.log.head())
    assert waymark.queries.cohort(cohort_id)["name"] == "Spring cohort"  # the read model follows

    # Closing: a warning first, then nothing more can be recorded
    warning = client.get(f"/cohorts/{cohort_id}/close", headers=as_pat)
    assert "nothing more can be recorded in it" in warning.text
    closed = client.post(f"/cohorts/{cohort_id}/close", headers=as_pat, follow_redirects=False)
    assert closed.status_code == 303
    assert waymark.records.get_cohort(cohort_id).closed
    assert "Cohort closed" in client.get(closed.headers["location"], headers=as_pat).text
    again = client.get(f"/cohorts/{cohort_id}/details", headers=as_pat)
    assert again.status_code == 409


def test_councils_are_found_registered_enrolled_assessed_and_withdrawn(
    client: TestClient,
) -> None:
    waymark = waymark_of(client)
    cohort_id = cohort(client, programme(client))
    council(client, "GB-EXE", "Exeter")

    found = client.get("/councils/find", params={"q": "exe"})
    assert 'href="/councils/GB-EXE"' in found.text
    assert "No council matches" in client.get("/councils/find", params={"q": "Plymouth"}).text

    answers = {
        "code": "GB-PLY",
        "name": "Plymouth",
        "council_type": "unitary",
        "region": "south_west",
        "population": "264,700",
        "gss_code": "E06000026",
        "political_control": "Labour",
        "suppliers": "Civica\nIdox",
        "tried_before": "A chatbot",
        "innovation_history": "Early cloud adopter",
    }
    taken = client.post("/councils/new", data={**answers, "code": "gb-exe"})
    assert taken.status_code == 200  # the check page: only the record knows it is taken
    refused = client.post("/councils/new/confirm", data=hidden_fields(taken.text))
    assert refused.status_code == 400
    assert "A council with this code is already registered" in refused.text
    bad = client.post("/councils/new", data={**answers, "population": "lots"})
    assert "Population must be a whole number, like 130000" in bad.text

    check = client.post("/councils/new", data=answers)
    assert "Civica, Idox" in check.text
    registered = confirm(client, check, "/councils/new/confirm")
    assert registered.headers["location"].startswith("/councils/GB-PLY/done")
    plymouth = waymark.records.get_council("GB-PLY")
    assert (plymouth.population, plymouth.suppliers, plymouth.innovation_history) == (
        264700,
        ["Civica", "Idox"],
        "Early cloud adopter",
    )

    # Enrolling two at once, each with its project title
    waymark.queries.fresh(waymark.projector.log.head())
    choose = client.get(f"/cohorts/{cohort_id}/enrol")
    assert 'value="GB-EXE"' in choose.text and 'value="GB-PLY"' in choose.text
    none = client.post(f"/cohorts/{cohort_id}/enrol", data={})
    assert none.status_code == 400 and "Select the councils to enrol" in none.text
    titles = client.post(f"/cohorts/{cohort_id}/enrol", data={"councils": ["GB-EXE", "GB-PLY"]})
    assert "Project title for Exeter" in titles.text
    missing = client.post(
        f"/cohorts/{cohort_id}/enrol/check",
        data={"councils": ["GB-EXE", "GB-PLY"], "title-GB-EXE": "Bins"},
    )
    assert "Enter project title for plymouth" in missing.text.replace("Plymouth", "plymouth")
    check = client.post(
        f"/cohorts/{cohort_id}/enrol/check",
        data={"councils": ["GB-EXE", "GB-PLY"], "title-GB-EXE": "Bins", "title-GB-PLY": "Parking"},
    )
    enrolled = confirm(client, check, f"/cohorts/{cohort_id}/enrol/confirm")
    assert enrolled.status_code == 303
    assert set(waymark.records.get_cohort(UUID(cohort_id)).projects) == {"GB-EXE", "GB-PLY"}
    assert "2 councils enrolled" in client.get(enrolled.headers["location"]).text

    # Assessments from the council page, dated
    page = client.get("/councils/GB-PLY")
    assert 'href="/councils/GB-PLY/financial-context"' in page.text
    assert 'href="/councils/GB-PLY/maturity"' in page.text
    tomorrow = date.today() + timedelta(days=2)
    future = client.post(
        "/councils/GB-PLY/financial-context",
        data={
            **day("assessed_on", tomorrow),
            "demand_pressure": "high",
            "financial_pressure": "low",
        },
    )
    refused = client.post(
        "/councils/GB-PLY/financial-context/confirm", data=hidden_fields(future.text)
    )
    assert refused.status_code == 400
    assert "Date assessed must be today or in the past" in refused.text
    check = client.post(
        "/councils/GB-PLY/financial-context",
        data={
            **day("assessed_on", date(2026, 1, 10)),
            "demand_pressure": "high",
            "financial_pressure": "low",
            "note": "Reserves",
        },
    )
    assert confirm(client, check, "/councils/GB-PLY/financial-context/confirm").status_code == 303
    form = client.get("/councils/GB-PLY/maturity")
    assert "Shared documents, chat and video" in form.text  # each meaning described
    assert "Agile is the usual way to deliver" in form.text  # each level described
    levels = {
        "working_in_the_open": "2",
        "agile_methods": "3",
        "collaborative_tools": "4",
        "user_centred_design": "1",
        "new_technology": "5",
    }
    unanswered = client.post(
        "/councils/GB-PLY/maturity",
        data={
            **day("assessed_on", date(2026, 1, 11)),
            **{f"level_{k}": v for k, v in levels.items() if k != "agile_methods"},
        },
    )
    assert unanswered.status_code == 400 and "Select a level for agile methods" in unanswered.text
    check = client.post(
        "/councils/GB-PLY/maturity",
        data={
            **day("assessed_on", date(2026, 1, 11)),
            **{f"level_{k}": v for k, v in levels.items()},
        },
    )
    assert "Level 3: Several teams work in iterations" in check.text
    assert confirm(client, check, "/councils/GB-PLY/maturity/confirm").status_code == 303
    plymouth = waymark.records.get_council("GB-PLY")
    assert plymouth.financial_contexts[0].demand_pressure == "high"
    assert plymouth.maturity[0].levels == {k: int(v) for k, v in levels.items()}

    # Withdrawing one, with a reason
    check = client.post(
        f"/cohorts/{cohort_id}/withdraw", data={"council_code": "GB-EXE", "reason": "No capacity"}
    )
    assert "Exeter: Bins" in check.text
    withdrawn = confirm(client, check, f"/cohorts/{cohort_id}/withdraw/confirm")
    assert withdrawn.status_code == 303
    assert waymark.records.get_cohort(UUID(cohort_id)).withdrawn == {"GB-EXE"}


def test_the_segment_mapping_is_shown_as_a_table_and_changed_by_the_programme_s_manager(
    client: TestClient,
) -> None:
    waymark = waymark_of(client)
    programme_id = programme(client)
    shown = client.get(f"/programmes/{programme_id}/segments")
    assert "Besieged" in shown.text and "<table" in shown.text
    form = client.get(f"/programmes/{programme_id}/segments/change")
    assert form.status_code == 200
    answers = dict(
        parse_qsl(
            "&".join(
                f"segment-{k.replace('/', '-')}={v}"
                for k, v in waymark.records.get_programme(
                    UUID(programme_id)
                ).segment_mapping.items()
            )
        )
    )
    answers["segment-high-high"] = "fast_followers"
    check = client.post(f"/programmes/{programme_id}/segments/change", data=answers)
    done = confirm(client, check, f"/programmes/{programme_id}/segments/change/confirm")
    assert done.status_code == 303
    mapping = waymark.records.get_programme(UUID(programme_id)).segment_mapping
    assert mapping["high/high"] == "fast_followers"
    missing = client.post(
        f"/programmes/{programme_id}/segments/change",
        data={k: v for k, v in answers.items() if k != "segment-low-low"},
    )
    assert missing.status_code == 400
    assert "Select low demand pressure and low financial pressure" in missing.text


def test_start_buttons_are_shown_only_to_those_who_may_use_them(client: TestClient) -> None:
    waymark = waymark_of(client)
    programme_id = programme(client)
    cohort_id = cohort(client, programme_id)
    project(client, cohort_id, council(client, "GB-EXE", "Exeter"))
    make_user(waymark, "rev", "reviewer")
    as_reviewer = {"Authorization": f"Bearer {waymark.credentials.issue_token('rev')}"}
    for path, start in (
        ("/", "/programmes/new"),
        (f"/programmes/{programme_id}", f"/programmes/{programme_id}/cohorts/new"),
        (f"/cohorts/{cohort_id}", f"/cohorts/{cohort_id}/enrol"),
        (f"/cohorts/{cohort_id}", f"/cohorts/{cohort_id}/close"),
        ("/councils", "/councils/find"),
        ("/councils/GB-EXE", "/councils/GB-EXE/maturity"),
        (f"/programmes/{programme_id}/segments", f"/programmes/{programme_id}/segments/change"),
    ):
        assert f'href="{start}"' in client.get(path).text, (path, start)
        assert f'href="{start}"' not in client.get(path, headers=as_reviewer).text, (path, start)


def test_long_text_shows_its_limit_and_is_refused_beyond_it_in_govuk_words(
    client: TestClient,
) -> None:
    form = client.get("/programmes/new")
    assert "govuk-character-count" in form.text
    assert 'data-maxlength="20000"' in form.text
    too_long = client.post("/programmes/new", data={"name": "P", "description": "x" * 20_001})
    assert too_long.status_code == 400
    assert "Description must be 20,000 characters or less" in too_long.text
