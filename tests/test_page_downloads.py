"""Issue 18, points 4 and 7: an audit log in words, and downloads of what the pages show."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from services.demo import load_demo
from services.ledger import verify_export
from services.settings import Settings
from tests.helpers import make_user
from tests.test_pages import Parsed, caught_up, read_page, waymark_of
from web.app import create_app

UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
EXETER_COST = "Estimated cost: £4,800.00 → £48,000.00"


class VisibleText(HTMLParser):
    """The text a reader sees on a page: the body's text, without scripts or styles."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0
        self._in_body = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            self._in_body = True
        if tag in ("script", "style", "template"):
            self._hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template"):
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if self._in_body and not self._hidden:
            self.parts.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.parts).split())


@pytest.fixture
def demo(settings: Settings) -> Iterator[TestClient]:
    """The demo record, loaded and read by every read model, read by an admin."""
    app = create_app(settings)
    with TestClient(app) as client:
        assert load_demo(app.state.waymark.records) is True
        token = make_user(app.state.waymark, "pm.jones", "admin")
        client.headers["Authorization"] = f"Bearer {token}"
        client.get("/api/audit", params={"wait_for": caught_up(client)})
        yield client


def every_page(client: TestClient, path: str, caption: str) -> list[list[str]]:
    """The rows of a paged table, every page of it, following "Next page"."""
    rows: list[list[str]] = []
    next_path: str | None = path
    while next_path:
        page = read_page(client, next_path)
        rows += page.table(caption).rows[1:]
        next_path = dict(page.links).get("Next page")
    return rows


def read_csv(client: TestClient, path: str) -> list[dict[str, str]]:
    response = client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    return list(csv.DictReader(io.StringIO(response.text, newline="")))


# -- the audit log in words ---------------------------------------------------------------


def test_the_audit_log_names_every_record_and_shows_a_corrections_before_and_after(
    demo: TestClient,
) -> None:
    # Given the demo record, whose Exeter cost of £4,800 was corrected to £48,000 weeks later
    # When a reviewer reads every page of the audit log
    texts = []
    path: str | None = "/audit"
    while path:
        response = demo.get(path)
        texts.append(VisibleText(response.text).text)
        path = dict(Parsed(response.text).links).get("Next page")

    # Then no page shows a record's id, and the correction says what it changed
    assert texts
    for text in texts:
        assert not UUID_TEXT.search(text), UUID_TEXT.search(text)
    everything = " ".join(texts)
    assert EXETER_COST in everything

    # and its row names the project and council, the kind in words, and both dates
    corrections = every_page(demo, "/audit?kind=EntryCorrected", "Changes")
    exeter = next(r for r in corrections if EXETER_COST in r[4])
    assert exeter[2].startswith("Bin collection information online, Exeter City Council")
    assert exeter[3] == "Entry corrected"
    assert re.match(
        r"Recorded \d+ \w+ \d{4} at \d+:\d\d[ap]m UTC Decided on \d+ \w+ \d{4}$", exeter[0]
    )


def test_the_audit_log_links_each_change_to_its_record_and_the_records_to_their_trail(
    demo: TestClient,
) -> None:
    waymark = waymark_of(demo)
    exeter = next(
        p
        for c in waymark.queries.programmes()
        for co in waymark.queries.cohorts_of(UUID(c["programme_id"]))
        for p in waymark.queries.projects_of(UUID(co["cohort_id"]))
        if p["council_code"] == "GB-EXE"
    )
    project_page = demo.get(f"/projects/{exeter['project_id']}").text
    trail = Parsed(project_page).href(f"Audit trail of {exeter['title']}")
    assert trail == f"/audit?aggregate={exeter['project_id']}"

    page = read_page(demo, trail + "&order=asc")
    rows = page.table("Changes").rows[1:]
    assert rows[0][3] == "Started"
    assert all(r[2].startswith(f"{exeter['title']}, Exeter City Council") for r in rows)
    assert (
        page.href(f"{exeter['title']}, Exeter City Council") == f"/projects/{exeter['project_id']}"
    )
    assert (
        f"Only the changes to {exeter['title']}, Exeter City Council"
        in VisibleText(demo.get(trail).text).text
    )

    # The cohort's and the council's pages link to their own trails too
    cohort_page = Parsed(demo.get(f"/cohorts/{exeter['cohort_id']}").text)
    cohort = waymark.queries.cohort(UUID(exeter["cohort_id"]))
    assert cohort_page.href(f"Audit trail of {cohort['name']}") == (
        f"/audit?aggregate={exeter['cohort_id']}"
    )
    council_trail = Parsed(demo.get("/councils/GB-EXE").text).href(
        "Audit trail of Exeter City Council"
    )
    council_rows = read_page(demo, council_trail).table("Changes").rows[1:]
    assert council_rows and all(r[2].startswith("Exeter City Council") for r in council_rows)


def test_the_audit_log_filters_by_person_and_kind_and_refuses_from_after_to(
    demo: TestClient,
) -> None:
    checked_in = every_page(demo, "/audit?kind=SponsorCheckedIn", "Changes")
    assert checked_in and {r[3] for r in checked_in} == {"Sponsor check-in"}
    by_one = every_page(demo, f"/audit?actor={checked_in[0][1]}", "Changes")
    assert by_one and {r[1] for r in by_one} == {checked_in[0][1]}

    response = demo.get(
        "/audit?since-day=10&since-month=3&since-year=2026&until-day=9&until-month=3&until-year=2026"
    )
    assert response.status_code == 200
    # (the Design System's range rule, shared with the timeline: the error is on the "to")
    assert "Recorded up to must be the same as or after recorded from" in response.text
    assert 'href="#until-day"' in response.text
    assert "Correct the filters to see the changes." in response.text
    assert (
        demo.get(
            "/audit.csv?since-day=10&since-month=3&since-year=2026"
            "&until-day=9&until-month=3&until-year=2026"
        ).status_code
        == 400
    )


# -- CSVs of what the pages show ---------------------------------------------------------


@pytest.mark.parametrize(
    "filters", ["", "?order=asc", "?kind=EntryCorrected", "?aggregate_type=Council&order=asc"]
)
def test_the_audit_csv_holds_the_rows_the_page_shows(demo: TestClient, filters: str) -> None:
    shown = every_page(demo, f"/audit{filters}", "Changes")
    downloaded = read_csv(demo, f"/audit.csv{filters}")
    assert len(downloaded) == len(shown) > 0
    for page_row, csv_row in zip(shown, downloaded, strict=True):
        assert page_row[5] == csv_row["Position in the log"]
        assert page_row[1] == csv_row["By"]
        assert page_row[2].startswith(csv_row["Record"])
        assert page_row[3] == csv_row["Change"]
        assert page_row[0].startswith(f"Recorded {csv_row['Recorded']}")
        assert page_row[4].startswith(csv_row["What it says"].lstrip("'"))
        for line in filter(None, csv_row["What changed"].split("; ")):
            assert line in page_row[4]
    if filters == "?kind=EntryCorrected":
        assert any(EXETER_COST in r["What changed"] for r in downloaded)
    link = dict(Parsed(demo.get(f"/audit{filters}").text).links)[
        "Download these changes as a spreadsheet (CSV)"
    ]
    assert read_csv(demo, link) == downloaded


def _timeline_items(html: str) -> list[str]:
    """Each timeline item's heading on a cohort page: "Council: Kind of entry"."""
    return [
        " ".join(m.split())
        for m in re.findall(r'<h3 class="moj-timeline__title">\s*<a[^>]*>(.*?)</a>', html, re.S)
    ]


@pytest.mark.parametrize("filters", ["", "?order=decided_on", "?kind=capacity_decided"])
def test_the_timeline_csv_holds_the_entries_the_cohort_page_shows(
    demo: TestClient, filters: str
) -> None:
    waymark = waymark_of(demo)
    programme = waymark.queries.programmes()[0]
    cohort_id = waymark.queries.cohorts_of(UUID(programme["programme_id"]))[0]["cohort_id"]
    shown: list[str] = []
    path: str | None = f"/cohorts/{cohort_id}{filters}"
    while path:
        html = demo.get(path).text
        shown += _timeline_items(html)
        path = dict(Parsed(html).links).get("Older entries")
    downloaded = read_csv(demo, f"/cohorts/{cohort_id}/timeline.csv{filters}")
    assert (
        shown
        and [f"{r['Council']}: {r['Kind of entry']}".replace("&", "&amp;") for r in downloaded]
        == shown
    )
    first = demo.get(f"/cohorts/{cohort_id}{filters}").text
    link = dict(Parsed(first).links)["Download these entries as a spreadsheet (CSV)"]
    assert read_csv(demo, link) == downloaded


def test_the_comparison_csv_holds_the_councils_the_page_shows(demo: TestClient) -> None:
    waymark = waymark_of(demo)
    programme = waymark.queries.programmes()[0]
    cohort_id = waymark.queries.cohorts_of(UUID(programme["programme_id"]))[0]["cohort_id"]
    page = Parsed(demo.get(f"/cohorts/{cohort_id}/compare").text)
    table = page.table("One row per council")
    shown = table.rows[1:]
    downloaded = read_csv(
        demo, page.href("Download the councils side by side as a spreadsheet (CSV)")
    )
    assert len(downloaded) == len(shown) > 1
    for page_row, csv_row in zip(shown, downloaded, strict=True):
        assert page_row[0].startswith(f"{csv_row['Council']} {csv_row['Project']}")
        assert page_row[6] == csv_row["Phase"]
        assert page_row[9:13] == [csv_row[c] for c in ("Make", "Buy", "Share", "Experiment")]

    # As it stood on a day, the CSV holds what the page then shows
    day = waymark.queries.today()
    as_of = f"?as_of-day={day.day}&as_of-month={day.month}&as_of-year={day.year}"
    then = Parsed(demo.get(f"/cohorts/{cohort_id}/compare{as_of}").text)
    link = then.href("Download the councils side by side as a spreadsheet (CSV)")
    assert "as_of-day" in link
    assert [r["Council"] for r in read_csv(demo, link)] == [r["Council"] for r in downloaded]


def test_csv_downloads_refuse_wrong_filters_with_a_page_not_a_broken_file(
    demo: TestClient,
) -> None:
    waymark = waymark_of(demo)
    programme = waymark.queries.programmes()[0]
    cohort_id = waymark.queries.cohorts_of(UUID(programme["programme_id"]))[0]["cohort_id"]
    for path in (
        f"/cohorts/{cohort_id}/timeline.csv?since-day=40&since-month=1&since-year=2026",
        f"/cohorts/{cohort_id}/compare.csv?as_of-day=1&as_of-month=1&as_of-year=9999",
        "/audit.csv?aggregate=not-an-id",
        "/audit.csv?actor=pm.jones%00",
    ):
        response = demo.get(path)
        assert response.status_code == 400, path
        assert response.headers["content-type"].startswith("text/html"), path
    assert demo.get("/cohorts/00000000-0000-0000-0000-000000000000/timeline.csv").status_code == 404
    odd = read_csv(demo, f"/cohorts/{cohort_id}/timeline.csv?kind=nonsense&council=%3D1%2B1")
    assert odd == read_csv(demo, f"/cohorts/{cohort_id}/timeline.csv")  # ignored, as the page does


# -- the verifiable export, from the ledger page --------------------------------------------


def test_the_ledger_page_offers_a_bundle_that_verifies_offline(
    demo: TestClient, tmp_path: Path
) -> None:
    waymark = waymark_of(demo)
    link = Parsed(demo.get("/ledger").text).href("Download the record to check it (zip)")
    response = demo.get(link)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"

    with zipfile.ZipFile(io.BytesIO(response.content)) as bundle:
        assert sorted(bundle.namelist()) == [
            "HOW-TO-CHECK.txt",
            "checkpoints.json",
            "events.ndjson",
            "public-key.pem",
        ]
        bundle.extractall(tmp_path)
    verdict = verify_export(tmp_path, trusted=[waymark.ledger.public_key])
    head = waymark.ledger.head()
    assert head is not None
    assert verdict.ok, verdict.problem
    assert verdict.head == head.position and verdict.signed_up_to == head.position
    how_to = (tmp_path / "HOW-TO-CHECK.txt").read_text(encoding="utf-8")
    assert "waymark verify --offline DIR" in how_to and waymark.ledger.key_id in how_to

    # A line changed in the bundle is caught
    events = (tmp_path / "events.ndjson").read_text(encoding="utf-8").splitlines(keepends=True)
    events[3] = (
        events[3].replace("Exeter", "Exmouth", 1)
        if "Exeter" in events[3]
        else events[3][:-2] + " \n"
    )
    (tmp_path / "events.ndjson").write_text("".join(events), encoding="utf-8")
    assert not verify_export(tmp_path, trusted=[waymark.ledger.public_key]).ok


def test_the_bundle_is_sent_in_pieces_as_it_is_written(demo: TestClient) -> None:
    waymark = waymark_of(demo)
    exported, chunks = waymark.ledger.export_bundle()
    assert exported.checkpoint is not None and exported.problem is None
    pieces = list(chunks)
    assert pieces and all(isinstance(p, bytes) for p in pieces)
    with zipfile.ZipFile(io.BytesIO(b"".join(pieces))) as bundle:
        lines = bundle.read("events.ndjson").decode().splitlines()
    assert len(lines) == exported.checkpoint.position


def test_breadcrumbs_name_the_programme_on_cohort_project_and_comparison_pages(
    demo: TestClient,
) -> None:
    waymark = waymark_of(demo)
    programme = waymark.queries.programmes()[0]
    cohort_id = waymark.queries.cohorts_of(UUID(programme["programme_id"]))[0]["cohort_id"]
    project_id = waymark.queries.projects_of(UUID(cohort_id))[0]["project_id"]
    for path in (
        f"/cohorts/{cohort_id}",
        f"/projects/{project_id}",
        f"/cohorts/{cohort_id}/compare",
    ):
        html = demo.get(path).text
        crumbs = html.split('class="govuk-breadcrumbs', 1)[1].split("</nav>", 1)[0]
        assert f'href="/programmes/{programme["programme_id"]}"' in crumbs, path


def test_the_api_refuses_an_audit_from_after_its_to_naming_the_field(client: TestClient) -> None:
    response = client.get(
        "/api/audit",
        params={"since": "2026-03-10T00:00:00Z", "until": "2026-03-09T00:00:00Z"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "since" in response.text
