"""Issue 17 points 3 and 5: every entry form and the correction form show "Check your
answers" before anything is recorded, and say what is wrong in the Design System's words."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from uuid import UUID

from fastapi.testclient import TestClient

from tests.helpers import assert_problem, cohort, council, entry, programme, project
from tests.test_pages import waymark_of

FORM = "/projects/{}/entries/new/capacity_decided"


def hidden_fields(page: str) -> dict[str, str]:
    """The answers a check page carries to the next request, as a browser would send them."""
    return {
        html.unescape(name): html.unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page)
        if name != "csrf_token"
    }


def summary(page: str) -> dict[str, str]:
    """The summary list's rows: question, answer (lines joined by " / ")."""
    rows = re.findall(
        r'summary-list__key">(.*?)</dt>\s*<dd class="govuk-summary-list__value">(.*?)</dd>',
        page,
        re.S,
    )
    return {
        html.unescape(key.strip()): " / ".join(
            html.unescape(part.strip()) for part in value.split("<br>")
        ).strip()
        for key, value in rows
    }


def a_project(client: TestClient) -> UUID:
    return UUID(project(client, cohort(client, programme(client)), council(client, "GB-EXE", "E")))


def test_an_entry_is_recorded_only_after_its_answers_are_checked(client: TestClient) -> None:
    # Given a project, and its form for a capacity decision
    project_id = a_project(client)
    records = waymark_of(client).records
    before = records.get_project(project_id).version
    form = client.get(FORM.format(project_id))
    assert f'action="{FORM.format(project_id)}/check"' in form.text
    typed = {
        "decided_on-day": "6",
        "decided_on-month": "2",
        "decided_on-year": "2026",
        "capability": "Online booking <b>now</b>",
        "choice": "share",
        "estimated_cost": "£48,000.50",
        "decision_makers": "Chief Executive\nLeader of the council",
    }

    # When the answers are sent to be checked
    check = client.post(f"{FORM.format(project_id)}/check", data=typed)

    # Then the check page shows them as they will be recorded, and nothing is recorded yet
    assert check.status_code == 200, check.text
    assert "Check your answers" in check.text
    assert records.get_project(project_id).version == before
    shown = summary(check.text)
    assert shown["Date decided"] == "6 February 2026"
    assert shown["Capability"] == "Online booking <b>now</b>"  # as text, escaped
    assert "<b>now</b>" not in check.text
    assert shown["How the capability will be provided"] == "Share"
    assert shown["Estimated cost"] == "£48000.50"
    assert shown["Decision-makers"] == "Chief Executive / Leader of the council"
    assert shown["Rationale"] == "Not given"
    carried = hidden_fields(check.text)
    assert {k: carried[k] for k in typed} == typed
    assert f'action="{FORM.format(project_id)}"' in check.text
    assert f'formaction="{FORM.format(project_id)}/change#capability"' in check.text
    assert 'Change<span class="govuk-visually-hidden"> Capability</span>' in check.text

    # When the person changes an answer: the form comes back with what was typed
    again = client.post(f"{FORM.format(project_id)}/change", data=carried)
    assert again.status_code == 200
    assert 'value="Online booking &lt;b&gt;now&lt;/b&gt;"' in again.text
    assert 'value="£48,000.50"' in again.text
    assert "Leader of the council</textarea>" in again.text
    assert records.get_project(project_id).version == before

    # And when they record what they checked, it is recorded, once, as shown
    recorded = client.post(FORM.format(project_id), data=carried, follow_redirects=False)
    assert recorded.status_code == 303, recorded.text
    project_now = records.get_project(project_id)
    assert project_now.version == before + 1
    (kept,) = project_now.entries.values()
    assert str(kept.decided_on) == "2026-02-06"
    assert kept.fields["capability"] == "Online booking <b>now</b>"
    assert str(kept.fields["estimated_cost"]) == "48000.50"
    assert kept.fields["decision_makers"] == ["Chief Executive", "Leader of the council"]


def test_the_check_page_refuses_what_the_record_would_refuse_and_keeps_the_answers(
    client: TestClient,
) -> None:
    project_id = a_project(client)
    path = f"/projects/{project_id}/entries/new/phase_changed"
    entry(client, str(project_id), {"kind": "phase_changed", "phase": "alpha"})
    # Going back needs a reason: the domain says so before the check page, not after
    refused = client.post(f"{path}/check", data={"phase": "discovery"})
    assert refused.status_code == 400
    assert "There is a problem" in refused.text
    assert "Reason is required to go back, pause or stop" in refused.text
    assert 'value="discovery" checked' in refused.text


def test_a_correction_is_recorded_only_after_its_answers_are_checked(client: TestClient) -> None:
    # Given an entry to correct
    project_id = a_project(client)
    first = entry(
        client, str(project_id), {"kind": "capacity_decided", "capability": "Bins", "choice": "buy"}
    )["entry_id"]
    path = f"/projects/{project_id}/entries/{first}/correction"
    records = waymark_of(client).records
    before = records.get_project(project_id).version
    assert f'action="{path}/check"' in client.get(path).text
    typed = {
        "capability": "Bins",
        "choice": "make",
        "correction-reason_kind": "recording_error",
        "correction-reason": "Typed the wrong choice.",
    }

    # When the correction is checked
    check = client.post(f"{path}/check", data=typed)

    # Then the page shows what changes and why, and records nothing yet
    assert check.status_code == 200, check.text
    assert "Check your correction" in check.text
    assert records.get_project(project_id).version == before
    shown = summary(check.text)
    assert shown["How the capability will be provided"] == "Make"
    assert "Capability" not in shown  # unchanged answers are not part of the correction
    assert shown["Why is it being corrected?"] == "Recording error"
    assert shown["Explanation"] == "Typed the wrong choice."
    carried = hidden_fields(check.text)
    changed = client.post(f"{path}/change", data=carried)
    assert changed.status_code == 200 and "Typed the wrong choice.</textarea>" in changed.text

    # And recording it supersedes the entry
    recorded = client.post(path, data=carried, follow_redirects=False)
    assert recorded.status_code == 303, recorded.text
    assert records.get_project(project_id).entries[UUID(first)].superseded_by is not None


def test_a_correction_that_changes_nothing_is_refused_on_the_form(client: TestClient) -> None:
    project_id = a_project(client)
    first = entry(client, str(project_id), {"kind": "members_engaged", "how": "Briefing"})
    path = f"/projects/{project_id}/entries/{first['entry_id']}/correction"
    refused = client.post(
        f"{path}/check",
        data={
            "how": "Briefing",
            "correction-reason_kind": "clarification",
            "correction-reason": "Nothing, really.",
        },
    )
    assert refused.status_code == 400
    assert "Change at least one answer to correct the entry" in refused.text


def test_dates_are_refused_in_the_design_systems_words(client: TestClient) -> None:
    project_id = a_project(client)
    path = f"{FORM.format(project_id)}/check"
    today = waymark_of(client).queries.today()
    tomorrow = today + timedelta(days=1)
    answers = {"capability": "Bins", "choice": "buy"}
    cases = [
        (("", "2", "2026"), "Date decided must include a day"),
        (("6", "", ""), "Date decided must include a month and year"),
        (("31", "2", "2026"), "Date decided must be a real date"),
        (("x", "2", "2026"), "Date decided must be a real date"),
        (("6", "2", "26"), "Year must include 4 numbers"),
        (
            (str(tomorrow.day), str(tomorrow.month), str(tomorrow.year)),
            "Date decided must be today or in the past",
        ),
    ]
    for (day, month, year), message in cases:
        page = client.post(
            path,
            data={
                **answers,
                "decided_on-day": day,
                "decided_on-month": month,
                "decided_on-year": year,
            },
        )
        assert page.status_code == 400, (day, month, year)
        assert message in page.text, (message, page.text[:3000])
        assert 'href="#decided_on-day"' in page.text
        assert str(tomorrow.year) + "-" not in page.text  # no ISO date, no programmer's words
        assert "must be a date such as" not in page.text


def test_long_text_shows_its_limit_and_is_refused_beyond_it_on_the_page_and_by_the_api(
    client: TestClient,
) -> None:
    project_id = a_project(client)
    form = client.get(FORM.format(project_id))
    # The rationale (a long text, 20,000 characters at most) has a character count
    assert 'data-module="govuk-character-count"' in form.text
    assert 'data-maxlength="20000"' in form.text
    too_long = "x" * 20_001
    page = client.post(
        f"{FORM.format(project_id)}/check",
        data={"capability": "Bins", "choice": "buy", "rationale": too_long},
    )
    assert page.status_code == 400
    assert "Rationale must be 20,000 characters or less" in page.text
    short = client.post(
        f"{FORM.format(project_id)}/check", data={"capability": "y" * 501, "choice": "buy"}
    )
    assert "Capability must be 500 characters or less" in short.text
    # The API takes the same limits from the same catalogue
    api = client.post(
        f"/api/projects/{project_id}/entries",
        json={
            "kind": "capacity_decided",
            "capability": "Bins",
            "choice": "buy",
            "rationale": too_long,
        },
    )
    assert_problem(api, 422, "rationale")
    api = client.post(
        f"/api/projects/{project_id}/entries",
        json={"kind": "capacity_decided", "capability": "y" * 501, "choice": "buy"},
    )
    assert_problem(api, 422, "capability")
