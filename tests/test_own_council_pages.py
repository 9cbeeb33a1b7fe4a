"""Issue 18, points 5 and 6: participants start from their own council, and the
comparison marks it, shows the cohort's medians, the support asks by whom they are
asked of, and lets a reader choose which group of columns to see."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.helpers import cohort, council, entry, make_user, programme, project
from tests.test_pages import Parsed, caught_up, read_page, waymark_of
from web.pages.compare import ALL_COLUMNS, COLUMN_GROUPS


def a_cohort_of_three(client: TestClient) -> dict[str, str]:
    """Exeter, Devon and Hackney in Cohort 1, with statements, a check-in and two asks;
    Exeter also in a second cohort of another programme."""
    cohort_id = cohort(client, programme(client))
    exeter = project(client, cohort_id, council(client, "GB-EXE", "Exeter City Council"))
    devon = project(
        client, cohort_id, council(client, "GB-DEV", "Devon County Council", "county"), "Care"
    )
    hackney = project(client, cohort_id, council(client, "GB-HCK", "London Borough of Hackney"))
    for text in ("Missed bins", "When is my bin collected"):
        entry(client, exeter, {"kind": "problem_statement_iterated", "statement": text})
    entry(client, hackney, {"kind": "problem_statement_iterated", "statement": "Repairs"})
    entry(client, exeter, {"kind": "phase_changed", "phase": "discovery"})
    entry(
        client,
        hackney,
        {"kind": "support_requested", "wish": "A peer council", "from_whom": "localgov_digital"},
    )
    entry(
        client,
        exeter,
        {
            "kind": "support_requested",
            "wish": "A masterclass on data",
            "from_whom": "masterclasses",
        },
    )
    entry(
        client,
        devon,
        {"kind": "support_requested", "wish": "Help from <b>LGA</b>", "from_whom": "lga"},
    )
    later = cohort(client, programme(client, "Second Accelerator"), "Spring")
    second = project(client, later, "GB-EXE", "Housing repairs")
    token = make_user(waymark_of(client), "part.exe", "participant", council_code="GB-EXE")
    return {
        "cohort": cohort_id,
        "exeter": exeter,
        "devon": devon,
        "hackney": hackney,
        "second": second,
        "later": later,
        "token": token,
    }


def test_a_participant_starts_from_their_councils_projects_then_its_cohorts(
    client: TestClient,
) -> None:
    made = a_cohort_of_three(client)
    participant = {"Authorization": f"Bearer {made['token']}"}

    home = client.get("/", headers=participant)
    assert home.status_code == 200
    page = Parsed(home.text)
    # Their council's projects come first, each one link from home
    assert '<h1 class="govuk-heading-l">Exeter City Council</h1>' in home.text
    first_links = [href for _, href in page.links if href.startswith(("/projects/", "/cohorts/"))]
    # (both cohorts start on the same day: by the cohort's name then)
    assert first_links[:2] == [f"/projects/{made['exeter']}", f"/projects/{made['second']}"]
    assert page.href("Bins") == f"/projects/{made['exeter']}"
    assert page.href("Housing repairs") == f"/projects/{made['second']}"
    # then their cohorts, and each cohort's comparison
    assert home.text.index("Your council’s projects") < home.text.index("Your cohorts")
    assert page.href("Cohort 1") == f"/cohorts/{made['cohort']}"
    assert page.href("Spring") == f"/cohorts/{made['later']}"
    assert (
        "Compare the councils",
        f"/cohorts/{made['cohort']}/compare",
    ) in page.links
    # Other councils' projects are not listed there
    assert "Care" not in [text for text, _ in page.links]
    # and the programmes follow
    assert page.href("Local Digital Accelerator").startswith("/programmes/")

    # Someone with no council of their own sees the programmes, as before
    manager = client.get("/")
    assert '<h1 class="govuk-heading-l">Programmes</h1>' in manager.text
    assert "Your council’s projects" not in manager.text


def test_a_councils_page_lists_its_cohorts_and_projects_for_whoever_may_see_it(
    client: TestClient,
) -> None:
    made = a_cohort_of_three(client)
    participant = {"Authorization": f"Bearer {made['token']}"}

    # The council's own participant sees both its projects, linked
    own = read_page(client, "/councils/GB-EXE", **participant)
    projects = own.table("The council’s projects")
    assert [r[:3] for r in projects.rows[1:]] == [
        ["Bins", "Cohort 1", "Local Digital Accelerator"],
        ["Housing repairs", "Spring", "Second Accelerator"],
    ]
    assert own.href("Bins") == f"/projects/{made['exeter']}"
    assert own.href("Spring") == f"/cohorts/{made['later']}"
    # and so does the programme team
    manager = read_page(client, "/councils/GB-DEV")
    assert manager.table("The council’s projects").rows[1][:2] == ["Care", "Cohort 1"]
    assert manager.href("Care") == f"/projects/{made['devon']}"
    # A participant of Exeter sees Devon's project in their own cohort, linked
    devon = read_page(client, "/councils/GB-DEV", **participant)
    assert devon.href("Care") == f"/projects/{made['devon']}"

    # A participant of a council in no cohort with Exeter sees Exeter's projects by name only
    council(client, "GB-XYZ", "Elsewhere Council")
    token = make_user(waymark_of(client), "part.xyz", "participant", council_code="GB-XYZ")
    outside = read_page(client, "/councils/GB-EXE", Authorization=f"Bearer {token}")
    rows = outside.table("The council’s projects").rows[1:]
    assert [r[0] for r in rows] == ["Bins", "Housing repairs"]
    assert not [href for _, href in outside.links if href.startswith(("/projects/", "/cohorts/"))]


def test_the_comparison_marks_the_participants_council_and_shows_the_cohorts_medians(
    client: TestClient,
) -> None:
    made = a_cohort_of_three(client)
    participant = {"Authorization": f"Bearer {made['token']}"}
    path = f"/cohorts/{made['cohort']}/compare?wait_for={caught_up(client)}"

    response = client.get(path, headers=participant)
    assert response.status_code == 200
    page = Parsed(response.text)
    side_by_side = page.table("One row per council’s project")
    # The caption says which row is theirs, and the row says so in words
    assert side_by_side.caption.endswith(
        "Your council’s row (Exeter City Council) is marked “Your council”"
    )
    devon, exeter, hackney = side_by_side.rows[1:]
    assert exeter[0] == "Exeter City Council Your council Bins"
    assert "Your council" not in devon[0] + hackney[0]
    rows = [line.strip() for line in response.text.splitlines() if "<tr " in line]
    assert [line for line in rows if 'aria-current="true"' in line] == [
        '<tr class="govuk-table__row app-own-row" aria-current="true">'
    ]

    # The cohort's medians, beside their council's figures
    medians = {r[0]: r[1:] for r in page.table("The cohort’s median").rows[1:]}
    assert medians["Residents"] == ["130,000", "3 councils", "130,000"]
    assert medians["Problem statement iterations"] == ["1", "3 projects", "2"]
    assert medians["Days in the current phase"] == ["0", "1 project", "0"]
    assert medians["Digital maturity (average level, 1 to 5)"] == [
        "None yet",
        "0 councils",
        "None yet",
    ]
    assert page.table("The cohort’s median").rows[0][-1] == "Your council: Exeter City Council"

    # Someone of no council sees no mark and no column of their own
    manager = client.get(path)
    assert "Your council" not in manager.text
    assert Parsed(manager.text).table("The cohort’s median").rows[0] == [
        "Figure",
        "Cohort median",
        "Counted",
    ]


def test_the_support_asks_are_grouped_by_whom_they_are_asked_of(client: TestClient) -> None:
    made = a_cohort_of_three(client)
    participant = {"Authorization": f"Bearer {made['token']}"}
    path = f"/cohorts/{made['cohort']}/compare?wait_for={caught_up(client)}"
    text = client.get(path, headers=participant).text
    support = text[text.index('id="support"') : text.index('id="capacity-choices"')]
    # In the order of the talk's sources: masterclasses, LGA, LocalGov Digital
    groups = [support.index(name) for name in ("Masterclasses", "LGA</h3>", "LocalGov Digital")]
    assert groups == sorted(groups)
    assert "A masterclass on data" in support and "A peer council" in support
    assert "Help from &lt;b&gt;LGA&lt;/b&gt;" in support  # what was typed, as text
    page = Parsed(support)
    assert ("London Borough of Hackney", f"/projects/{made['hackney']}") in page.links


def test_a_cohort_without_support_asks_says_so(client: TestClient) -> None:
    cohort_id = cohort(client, programme(client))
    project(client, cohort_id, council(client, "GB-EXE", "Exeter City Council"))
    text = client.get(f"/cohorts/{cohort_id}/compare?wait_for={caught_up(client)}").text
    assert "No council has asked for support yet." in text


def test_the_comparisons_columns_come_in_groups_a_reader_chooses_between(
    client: TestClient,
) -> None:
    made = a_cohort_of_three(client)
    path = f"/cohorts/{made['cohort']}/compare"
    wait = caught_up(client)
    every = read_page(client, f"{path}?wait_for={wait}")
    headings = every.table("One row per council’s project").rows[0]
    assert len(headings) == 1 + len(ALL_COLUMNS)
    # Each group is a link, without JavaScript, that keeps the rest of the query
    seen = set()
    for key, columns in COLUMN_GROUPS.items():
        group = read_page(client, f"{path}?wait_for={wait}&columns={key}")
        shown = group.table("One row per council’s project").rows[0]
        assert len(shown) == 1 + len(columns), key
        assert shown[0] == "Council and project"
        seen.update(shown[1:])
        assert group.href(next(t for t, _ in group.links if t.startswith("All columns"))) == (
            "?columns=all#councils"
        )
    # and together the groups show every column
    assert seen == set(headings[1:])
    progress = read_page(client, f"{path}?columns=progress&wait_for={wait}")
    assert progress.table("One row per council’s project").rows[0] == [
        "Council and project",
        "Phase",
        "Days in phase",
        "Problem statement iterations",
        "Member engagements",
        "Latest service assessment",
    ]
    # The date asked for is kept when another group is chosen
    today = waymark_of(client).queries.today()
    on = f"as_of-day={today.day}&as_of-month={today.month}&as_of-year={today.year}"
    dated = client.get(f"{path}?{on}&columns=health&wait_for={wait}").text
    assert "as it stood at the end of" in dated
    assert f'href="?{on.replace("&", "&amp;")}&amp;columns=profile#councils"' in dated
    # A group that is not one shows every column
    wrong = read_page(client, f"{path}?columns=nonsense&wait_for={wait}")
    assert wrong.table("One row per council’s project").rows[0] == headings
