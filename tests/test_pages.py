"""Issue 5: pages sign in with the API's session and guard every form with its CSRF token."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from html.parser import HTMLParser
from typing import Any
from uuid import UUID

from fastapi.testclient import TestClient

from services.container import Waymark
from services.settings import Settings
from tests.helpers import bearer, cohort, council, entry, make_user, programme, project
from tests.tamper import BACKDATED, STAMP, tampering
from tests.test_search import HOSTILE
from web.deps import SESSION_COOKIE
from web.pages.compare import MAX_WEEKS, week_numbers
from web.pages.find import AUDIT_PAGE
from web.pages.rendering import long_date


def waymark_of(client: TestClient) -> Waymark:
    waymark: Waymark = client.app.state.waymark  # type: ignore[attr-defined]
    return waymark


def csrf_field(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the form carries no CSRF token"
    return found.group(1)


def test_a_form_without_the_sessions_csrf_token_records_nothing(client: TestClient) -> None:
    # Given a manager signed in through the sign-in page, with a project to record on
    project_id = UUID(
        project(client, cohort(client, programme(client)), council(client, "GB-EXE", "E"))
    )
    waymark = waymark_of(client)
    make_user(waymark, "jo", "admin")
    waymark.credentials.set_password("jo", "a long enough password")
    client.headers.pop("Authorization")
    signed_in = client.post(
        "/sign-in",
        data={"username": "jo", "password": "a long enough password", "next": "/councils"},
        follow_redirects=False,
    )
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/councils"
    cookie = signed_in.headers["set-cookie"]
    assert SESSION_COOKIE in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    form = client.get(f"/projects/{project_id}/entries/new/sponsor_check_in")
    token = csrf_field(form.text)
    path = f"/projects/{project_id}/entries/new/sponsor_check_in"
    before = waymark.records.get_project(project_id).version

    # When the form comes without its token, or with another one
    missing = client.post(path, data={"team_health": "red"}, follow_redirects=False)
    forged = client.post(
        path, data={"team_health": "red", "csrf_token": "0" * 64}, follow_redirects=False
    )

    # Then nothing is recorded; with the token, the entry is
    assert missing.status_code == forged.status_code == 403
    assert waymark.records.get_project(project_id).version == before
    recorded = client.post(
        path, data={"team_health": "red", "csrf_token": token}, follow_redirects=False
    )
    assert recorded.status_code == 303, recorded.text
    assert waymark.records.get_project(project_id).version == before + 1


def test_signing_out_ends_the_session(client: TestClient) -> None:
    waymark = waymark_of(client)
    make_user(waymark, "kim", "reviewer")
    waymark.credentials.set_password("kim", "another long password")
    client.headers.pop("Authorization")
    client.post("/sign-in", data={"username": "kim", "password": "another long password"})
    home = client.get("/")
    assert home.status_code == 200 and "Signed in as" in home.text

    refused = client.post("/sign-out", data={}, follow_redirects=False)
    assert refused.status_code == 403  # a signed-in session's form carries its token
    out = client.post(
        "/sign-out", data={"csrf_token": csrf_field(home.text)}, follow_redirects=False
    )
    assert out.status_code == 303 and out.headers["location"] == "/sign-in?signed_out=true"
    client.cookies.clear()  # the browser drops the cookie the response deleted
    again = client.get("/", follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == "/sign-in?next=%2F"


def test_a_wrong_password_is_told_on_the_sign_in_page(client: TestClient) -> None:
    waymark = waymark_of(client)
    make_user(waymark, "kim", "reviewer")
    waymark.credentials.set_password("kim", "the right password")
    client.headers.pop("Authorization")
    wrong = client.post("/sign-in", data={"username": "kim", "password": "a guess"})
    assert wrong.status_code == 401
    assert "The username or password is not right" in wrong.text
    assert 'value="kim"' in wrong.text  # what was typed stays
    assert SESSION_COOKIE not in wrong.headers.get("set-cookie", "")


def test_pages_carry_a_footer_landmark_without_govuk_s_crown_or_royal_arms(
    client: TestClient,
) -> None:
    # Waymark is not a GOV.UK service: the crown and the royal arms are not its to show.
    for path in ("/", "/councils", "/search"):
        page = client.get(path)
        assert page.status_code == 200, path
        footers = re.findall(r"<footer\b[^>]*>(.*?)</footer>", page.text, re.S)
        assert len(footers) == 1, path
        assert 'class="govuk-footer"' in footers[0], path
        assert 'href="/docs"' in footers[0], path
        for drawn in ("govuk-footer__crown", "govuk-footer__copyright-logo", "Crown copyright"):
            assert drawn not in page.text, (path, drawn)
    signed_out = client.get("/sign-in", headers={"Authorization": ""})
    assert signed_out.text.count("<footer") == 1
    assert "govuk-footer__crown" not in signed_out.text


def test_html_and_script_in_entries_are_shown_as_text_not_run(client: TestClient) -> None:
    hostile = "<script>alert('x')</script><img src=x onerror=alert(1)>"
    cohort_id = cohort(client, programme(client, name=hostile))
    project_id = project(client, cohort_id, council(client, "GB-EXE", hostile))
    entry(client, project_id, {"kind": "members_engaged", "how": hostile})
    for path in ("/", f"/cohorts/{cohort_id}", f"/projects/{project_id}", "/councils/GB-EXE"):
        page = client.get(path)
        assert page.status_code == 200, (path, page.text[:300])
        assert "<script>alert" not in page.text, path
        assert "<img src=x onerror" not in page.text, path
        assert "&lt;script&gt;alert(" in page.text, path


# -- reading pages: the comparison, the audit log, search --------------------------------


@dataclass
class Table:
    caption: str
    rows: list[list[str]] = field(default_factory=list)


class Parsed(HTMLParser):
    """What the tests read of a page: its tables (rows of cell texts), charts and links."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tables: list[Table] = []
        self.charts: list[dict[str, Any]] = []
        self.links: list[tuple[str, str]] = []
        self._text: list[str] | None = None
        self._caption: list[str] | None = None
        self._href: str | None = None
        self._link_text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "table":
            self.tables.append(Table(""))
        elif tag == "caption":
            self._caption = []
        elif tag == "tr":
            self.tables[-1].rows.append([])
        elif tag in ("td", "th"):
            self._text = []
        elif tag == "a":
            self._href, self._link_text = found.get("href") or "", []
        elif tag == "br":
            self.handle_data(" ")
        if found.get("data-chart"):
            self.charts.append(json.loads(found["data-chart"] or ""))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._text is not None:
            self.tables[-1].rows[-1].append(" ".join("".join(self._text).split()))
            self._text = None
        elif tag == "caption" and self._caption is not None:
            self.tables[-1].caption = " ".join("".join(self._caption).split())
            self._caption = None
        elif tag == "a" and self._href is not None:
            self.links.append((" ".join("".join(self._link_text).split()), self._href))
            self._href = None

    def handle_data(self, data: str) -> None:
        for collecting in (self._text, self._caption):
            if collecting is not None:
                collecting.append(data)
        if self._href is not None:
            self._link_text.append(data)

    def table(self, caption_starts: str) -> Table:
        return next(t for t in self.tables if t.caption.startswith(caption_starts))

    def href(self, text: str) -> str:
        return next(href for link_text, href in self.links if link_text == text)


def read_page(client: TestClient, path: str, **headers: str) -> Parsed:
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    return Parsed(response.text)


def caught_up(client: TestClient) -> str:
    """A ``wait_for`` that makes a page show every write so far."""
    return str(client.get("/readyz").json()["head"])


def test_the_comparison_sets_councils_side_by_side_and_follows_them_week_by_week(
    client: TestClient,
) -> None:
    # Given a cohort of 25 weeks from 5 January 2026, with Exeter and Devon enrolled
    cohort_id = cohort(client, programme(client))
    exeter = project(client, cohort_id, council(client, "GB-EXE", "Exeter City Council"))
    project(client, cohort_id, council(client, "GB-DEV", "Devon County Council", "county"))
    # and Exeter's decisions: discovery in week 1, a check-in in week 2 corrected that
    # week from amber to red, alpha in week 3, and one capacity decision of each choice
    entry(
        client, exeter, {"kind": "phase_changed", "phase": "discovery", "decided_on": "2026-01-06"}
    )
    check_in = entry(
        client,
        exeter,
        {"kind": "sponsor_check_in", "team_health": "amber", "decided_on": "2026-01-14"},
    )
    entry(
        client,
        exeter,
        {
            "kind": "entry_corrected",
            "corrects": check_in["entry_id"],
            "reason_kind": "recording_error",
            "reason": "The sponsor said red.",
            "replacement": {"team_health": "red"},
            "decided_on": "2026-01-15",
        },
    )
    entry(client, exeter, {"kind": "phase_changed", "phase": "alpha", "decided_on": "2026-01-20"})
    for choice in ("make", "buy", "share", "experiment", "buy"):
        entry(client, exeter, {"kind": "capacity_decided", "capability": "Text", "choice": choice})

    # When the comparison page is read
    page = read_page(client, f"/cohorts/{cohort_id}/compare?wait_for={caught_up(client)}")

    # Then each council's project has a row, by council name
    side_by_side = page.table("One row per council’s project")
    devon, exe = side_by_side.rows[1:]
    assert devon[:3] == ["Devon County Council Bins", "County", "100,000 to 250,000"]
    assert devon[6] == "Not started" and devon[14] == "None yet"
    assert exe[0] == "Exeter City Council Bins"
    assert exe[6] == "Alpha"
    assert exe[9:13] == ["1", "2", "1", "1"]  # make, buy, share, experiment
    assert exe[13] == "None"  # shares with no council
    # the check-in, by its corrected values, with what the correction changed and a link to it
    assert exe[14] == (
        "14 January 2026 Red , was Amber See the correction of Exeter City Council’s check-in"
    )
    assert page.href("Exeter City Council") == "/councils/GB-EXE"
    # and the capacity chart carries the same figures as the table beside it
    choices, phases, health = page.charts
    assert choices["labels"] == ["Devon County Council", "Exeter City Council"]
    assert [s["values"] for s in choices["series"]] == [[0, 1], [0, 2], [0, 1], [0, 1]]
    assert page.table("Capacity decisions").rows[2] == [
        "Exeter City Council",
        "1",
        "2",
        "1",
        "1",
        "5",
    ]

    # and every week of the cohort so far is followed by what was decided by its end
    weeks = page.table("Each council’s phase at the end of each week").rows[1:]
    so_far = (waymark_of(client).queries.today() - date(2026, 1, 5)).days // 7 + 1
    assert len(weeks) == len(phases["labels"]) == min(25, so_far)
    assert weeks[0] == ["Week 1 to 11 January 2026", "Not started", "Discovery"]
    assert weeks[2] == ["Week 3 to 25 January 2026", "Not started", "Alpha"]
    by_phase = {s["key"]: s["values"][:3] for s in phases["series"]}
    assert by_phase == {"not_started": [1, 1, 1], "discovery": [1, 1, 0], "alpha": [0, 0, 1]}
    team = page.table("Each council’s team health").rows[1:]
    assert team[0][1:] == ["No check-in yet", "No check-in yet"]
    assert team[1][2] == "Red , was Amber 14 January 2026"  # in force, and what it was
    assert [s["values"][:3] for s in health["series"]] == [[None, None, None], [None, 1, 1]]
    assert health["levels"] == ["Red", "Amber", "Green"]


def test_the_comparison_as_it_stood_on_a_date(client: TestClient) -> None:
    cohort_id = cohort(client, programme(client))
    project(client, cohort_id, council(client, "GB-EXE", "Exeter City Council"))
    path = f"/cohorts/{cohort_id}/compare"
    today = waymark_of(client).queries.today()

    def as_of(day: date | str) -> str:
        d, m, y = (day.day, day.month, day.year) if isinstance(day, date) else day.split()
        return f"{path}?as_of-day={d}&as_of-month={m}&as_of-year={y}&wait_for={caught_up(client)}"

    stood = client.get(as_of(today)).text
    assert "as it stood at the end of" in stood and "Exeter City Council" in stood
    before = client.get(as_of(today - timedelta(days=1))).text
    # Before anything was recorded: an empty state, and nothing of today's record
    yesterday = today - timedelta(days=1)
    assert (
        f"Nothing had been recorded by {long_date(yesterday)}; "
        f"the first council was enrolled on {long_date(today)}."
    ) in before
    assert "Exeter City Council" not in before
    for wrong, message in [
        (today + timedelta(days=1), "The date must be today or in the past"),
        ("31 2 2026", "The date must be a real date"),
        ("x 1 2026", "The date must be a real date"),
    ]:
        response = client.get(as_of(wrong))
        assert response.status_code == 200
        assert "There is a problem" in response.text and message in response.text
        assert "Exeter City Council" in response.text  # the comparison as it stands


def test_a_comparison_before_its_cohort_starts_has_no_weeks(client: TestClient) -> None:
    programme_id = programme(client)
    starts = waymark_of(client).queries.today() + timedelta(days=30)
    body = client.post(
        f"/api/programmes/{programme_id}/cohorts",
        json={"name": "Spring", "starts_on": starts.isoformat(), "ends_on": "2099-01-01"},
    ).json()
    project(client, body["cohort_id"], council(client, "GB-EXE", "Exeter City Council"))
    page = client.get(f"/cohorts/{body['cohort_id']}/compare?wait_for={caught_up(client)}")
    assert page.status_code == 200
    assert "there are no weeks to show yet" in page.text
    assert len(Parsed(page.text).charts) == 1  # capacity choices only


def test_the_audit_log_filters_by_actor_record_kind_and_dates_and_pages_on(
    client: TestClient,
) -> None:
    # Given a project with entries by two people
    project_id = project(client, cohort(client, programme(client)), council(client, "GB-EXE", "E"))
    smith = bearer(client, "pm.smith")
    waymark = waymark_of(client)
    for _ in range(45):  # more than a page of the log
        waymark.records.record_entry(
            project_id=UUID(project_id),
            kind="sponsor_check_in",
            decided_on=None,
            values={"team_health": "green"},
            actor="pm.jones",
        )
    for n in range(3):
        entry(client, project_id, {"kind": "members_engaged", "how": f"Visit {n}"}, smith)
    wait = caught_up(client)
    waymark.queries.fresh(int(wait))
    everything = waymark.queries.audit(limit=1000)[0]
    today = waymark.queries.today()

    # When the log is filtered by who
    by_smith = read_page(client, f"/audit?actor=pm.smith&wait_for={wait}")
    rows = by_smith.table("Changes").rows[1:]
    assert [r[3] for r in rows] == ["Members engaged"] * 3
    assert all(r[1] == "pm.smith" for r in rows)
    assert [r[4] for r in rows] == ["Visit 2", "Visit 1", "Visit 0"]  # newest first

    # by one record, oldest first
    one = read_page(client, f"/audit?aggregate={project_id}&order=asc")
    rows = one.table("Changes").rows[1:]
    assert rows[0][3] == "Started" and rows[1][3] == "Sponsor check-in"  # the kind in words
    assert all(r[2].startswith("Bins, E") for r in rows)  # named, never by its id
    assert all(project_id not in r[2] for r in rows)
    assert one.href("Bins, E") == f"/projects/{project_id}"

    # by kind of record, and by dates
    councils = read_page(client, "/audit?aggregate_type=Council").table("Changes").rows[1:]
    assert [r[3] for r in councils] == ["Registered"]
    assert councils[0][2].startswith("E")  # the council's name
    assert client.get("/audit?aggregate_type=Council").text.count('href="/councils/GB-EXE"') == 1
    d = today
    in_range = f"since-day={d.day}&since-month={d.month}&since-year={d.year}"
    since_today = read_page(client, f"/audit?{in_range}").table("Changes").rows[1:]
    newest_first = [str(row["position"]) for row in reversed(everything)]
    assert [r[5] for r in since_today] == newest_first[:AUDIT_PAGE]  # all today: a full page
    later = today + timedelta(days=1)
    after = f"since-day={later.day}&since-month={later.month}&since-year={later.year}"
    assert "No changes match." in client.get(f"/audit?{after}").text

    # and the whole log is reached page by page, newest first, each change once
    seen: list[str] = []
    path: str | None = "/audit"
    while path:
        page = read_page(client, path)
        seen += [r[5] for r in page.table("Changes").rows[1:]]
        path = dict(page.links).get("Next page")
    assert seen == [str(row["position"]) for row in reversed(everything)]
    # two users registered and granted a role (the client fixture), a programme, a cohort,
    # a council, an enrolment (the cohort's and the project's events), and 45 + 3 entries
    assert len(everything) == 2 * 2 + 1 + 1 + 1 + 2 + 45 + 3
    assert len(everything) > AUDIT_PAGE  # so the log did page on


def test_the_audit_log_says_what_is_wrong_with_a_filter(client: TestClient) -> None:
    response = client.get("/audit?aggregate=not-an-id&since-day=40&since-month=1&since-year=2026")
    assert response.status_code == 200
    assert "Record id must be an id like" in response.text
    assert "Recorded from must be a real date" in response.text
    assert 'value="not-an-id"' in response.text
    assert "Correct the filters to see the changes." in response.text
    assert client.get("/audit?cursor=nonsense").status_code == 400
    nul = client.get("/audit?actor=pm.jones%00")  # PostgreSQL text cannot hold NUL
    assert nul.status_code == 200 and "By must be a username" in nul.text


def test_search_shows_what_the_reader_may_see_page_by_page(client: TestClient) -> None:
    # Given 25 entries about a riverside walk in Exeter's cohort, and one in Hackney's
    exeter = project(client, cohort(client, programme(client)), council(client, "GB-EXE", "Exeter"))
    other = cohort(client, programme(client, "Another"))
    hackney = project(client, other, council(client, "GB-HCK", "Hackney"), "Repairs")
    for n in range(25):
        entry(client, exeter, {"kind": "members_engaged", "how": f"Riverside walk {n}"})
    entry(client, hackney, {"kind": "members_engaged", "how": "Riverside walk in Hackney"})
    token = make_user(waymark_of(client), "part.exe", "participant", council_code="GB-EXE")
    participant = {"Authorization": f"Bearer {token}"}
    wait = caught_up(client)

    # When a participant of Exeter searches, they find Exeter's entries, newest first
    first = client.get(f"/search?q=riverside+WALK&wait_for={wait}", headers=participant)
    assert first.status_code == 200
    assert first.text.count('class="app-result"') == 20
    assert "Exeter: Members engaged" in first.text and "Riverside walk 24" in first.text
    assert "Hackney" not in first.text
    assert f'href="/projects/{exeter}"' in first.text
    # and the next page has the rest
    following = Parsed(first.text).href("Next page")
    rest = client.get(following, headers=participant).text
    assert rest.count('class="app-result"') == 5 and "Riverside walk 0" in rest
    assert "Next page" not in rest and "First page" in rest
    # while an admin finds Hackney's entry too
    assert "Riverside walk in Hackney" in client.get("/search?q=hackney").text


def test_search_without_words_or_with_no_match_or_hostile_words_still_answers(
    client: TestClient,
) -> None:
    exeter = project(client, cohort(client, programme(client)), council(client, "GB-EXE", "Exeter"))
    entry(client, exeter, {"kind": "members_engaged", "how": "A walk along the river"})
    empty = client.get("/search")
    assert empty.status_code == 200 and "Search the record" in empty.text
    assert "Entries that match" not in empty.text and "No entries match" not in empty.text
    assert "No entries match" in client.get("/search?q=nowhere").text
    for q in [*HOSTILE, "<script>alert(1)</script>", "&amp;", "   "]:
        response = client.get("/search", params={"q": q})
        assert response.status_code == 200, q
        assert "<script>alert" not in response.text
    too_long = client.get("/search", params={"q": "a" * 501})
    assert "Search words must be 500 characters or fewer" in too_long.text
    assert client.get("/search?q=walk&cursor=nonsense").status_code == 400


def test_the_comparison_charts_the_weeks_begun_and_at_most_the_latest_52() -> None:
    starts = date(2026, 1, 5)
    assert list(week_numbers(starts, starts + timedelta(weeks=24), starts)) == [1]
    assert list(week_numbers(starts, starts + timedelta(weeks=24), date(2026, 1, 12))) == [1, 2]
    assert list(week_numbers(starts, date(2026, 6, 26), date(2027, 1, 1))) == list(range(1, 26))
    assert list(week_numbers(starts, date(2026, 6, 26), date(2026, 1, 4))) == []
    long = week_numbers(starts, date(2030, 1, 1), date(2028, 1, 2))
    assert (long.start, long.stop - 1, len(long)) == (53, 104, MAX_WEEKS)


def test_record_integrity_shows_the_chain_and_checks_every_event_when_asked(
    client: TestClient, settings: Settings
) -> None:
    # Given a record with a few changes, signed
    project_id = project(client, cohort(client, programme(client)), council(client, "GB-EXE", "E"))
    entry(client, project_id, {"kind": "members_engaged", "how": "A workshop"})
    waymark = waymark_of(client)
    waymark.ledger.checkpoint()
    head = waymark.ledger.head()
    assert head is not None

    # The page shows the chain's head, its last signature and the key, without checking
    page = client.get("/ledger")
    assert page.status_code == 200
    assert head.chain_hash.hex() in page.text
    assert f"Position {head.position:,}, " in page.text  # signed at the head
    assert waymark.ledger.key_id in page.text
    assert "check-result" not in page.text

    # Asked, it checks every event and says so
    checked = client.get("/ledger", params={"check": "every-event"})
    assert checked.status_code == 200
    assert "The record checks out" in checked.text
    assert f"events up to position {head.position:,}" in checked.text

    # and, once an event was changed behind Waymark's back, says where
    with tampering(settings) as sql:
        sql.replace_in_state(3, STAMP, BACKDATED)
    tampered = client.get("/ledger", params={"check": "every-event"})
    assert tampered.status_code == 200
    assert "The record does not check out" in tampered.text
    assert "At position 3:" in tampered.text
    assert tampered.text.count('role="alert"') == 1
