"""Pages and reads of the current state come from the read models, not from replaying
the record's events.

The event store's reads are counted through the real recorder: a thin wrapper
on the instance's own methods counts each call and passes it on unchanged.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from domain.user import User
from services.container import Waymark
from services.queries import cohort_view, council_view, programme_view, project_view
from tests.helpers import assert_problem, cohort, council, entry, programme, project

#: The recorder's methods that read events: an aggregate's (``select_events``) and
#: the log's (``select_notifications``).
READS = ("select_events", "select_notifications")


class CountedReads:
    """The event store's reads made by the request threads while it is installed.

    The read-model worker's own reads (it follows the log on its own thread) are
    not a page's, and the signed-in user's record is read once per request to
    learn who is asking (its grants must never be stale): both are told apart.
    """

    def __init__(self, recorder: Any, username: str) -> None:
        self.recorder = recorder
        self.user_id = str(_user_id(username))
        self.reads: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def __enter__(self) -> CountedReads:
        for name in READS:
            setattr(self.recorder, name, self._counting(name, getattr(self.recorder, name)))
        return self

    def __exit__(self, *exc: object) -> None:
        for name in READS:
            delattr(self.recorder, name)  # the class's own method shows through again

    def _counting(self, name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def counted(*args: Any, **kwargs: Any) -> Any:
            if threading.current_thread().name != "waymark-projector":
                what = "the log"
                if name == "select_events":
                    what = str(args[0] if args else kwargs["originator_id"])
                with self._lock:
                    self.reads.append((name, what))
            return real(*args, **kwargs)

        return counted

    @property
    def of_the_page(self) -> list[tuple[str, str]]:
        """Every read but the one that finds out who is asking."""
        return [read for read in self.reads if read != ("select_events", self.user_id)]


def _user_id(username: str) -> UUID:
    return User.create_id(username)


@pytest.fixture
def recorded(client: TestClient) -> Iterator[dict[str, str]]:
    """A cohort with one project that has a few entries of each sort, one corrected."""
    programme_id = programme(client)
    cohort_id = cohort(client, programme_id)
    council(client, "GB-EXE", "Exeter")
    project_id = project(client, cohort_id, "GB-EXE")
    first = entry(
        client,
        project_id,
        {"kind": "problem_statement_iterated", "statement": "Residents wait weeks."},
    )
    entry(client, project_id, {"kind": "problem_statement_iterated", "statement": "Too slow."})
    entry(client, project_id, {"kind": "phase_changed", "phase": "alpha"})
    concern = entry(
        client,
        project_id,
        {"kind": "concern_raised", "category": "privacy", "description": "Case notes"},
    )
    entry(
        client,
        project_id,
        {
            "kind": "capacity_decided",
            "capability": "Booking",
            "choice": "buy",
            "estimated_cost": "12500.50",
        },
    )
    entry(client, project_id, {"kind": "stance_taken", "topic": "open_data", "position": "Yes"})
    entry(
        client,
        project_id,
        {
            "kind": "entry_corrected",
            "corrects": first["entry_id"],
            "reason_kind": "clarification",
            "reason": "Clearer",
            "replacement": {"statement": "Residents wait three weeks."},
        },
    )
    last = entry(
        client,
        project_id,
        {
            "kind": "concern_resolved",
            "concern_entry_id": concern["entry_id"],
            "resolution": "Consent asked",
        },
    )
    yield {"cohort_id": cohort_id, "project_id": project_id, "position": str(last["position"])}


def _waymark(client: TestClient) -> Waymark:
    waymark: Waymark = client.app.state.waymark  # type: ignore[attr-defined]
    return waymark


def test_a_project_page_view_reads_no_events(client: TestClient, recorded: dict[str, str]) -> None:
    waymark = _waymark(client)
    waymark.queries.fresh(int(recorded["position"]))

    with CountedReads(waymark.records.recorder, "pm.jones") as counted:
        page = client.get(f"/projects/{recorded['project_id']}")

    assert page.status_code == 200, page.text
    assert "Residents wait three weeks." in page.text  # the correction is in force
    assert "£12,500.50" in page.text
    assert counted.of_the_page == []
    assert counted.reads == [("select_events", counted.user_id)]  # who is asking, once


def test_a_timeline_page_view_reads_no_events(client: TestClient, recorded: dict[str, str]) -> None:
    waymark = _waymark(client)
    waymark.queries.fresh(int(recorded["position"]))

    with CountedReads(waymark.records.recorder, "pm.jones") as counted:
        page = client.get(f"/cohorts/{recorded['cohort_id']}")

    assert page.status_code == 200, page.text
    assert "Exeter" in page.text and "Cohort 1" in page.text
    assert counted.of_the_page == []
    assert counted.reads == [("select_events", counted.user_id)]


def test_the_api_s_project_reads_no_events_and_is_what_its_events_say(
    client: TestClient, recorded: dict[str, str]
) -> None:
    waymark = _waymark(client)
    project_id = recorded["project_id"]

    with CountedReads(waymark.records.recorder, "pm.jones") as counted:
        response = client.get(f"/api/projects/{project_id}")

    assert response.status_code == 200, response.text
    assert counted.of_the_page == []
    # The read models' answer is exactly the one replaying the project gives.
    replayed = project_view(waymark.records.get_project(UUID(project_id)))
    assert response.json() == replayed
    assert response.headers["ETag"] == f'"{replayed["version"]}"'
    assert replayed["version"] == 9


def test_a_counted_read_is_seen_when_a_page_replays_the_project(
    client: TestClient, recorded: dict[str, str]
) -> None:
    """The counting itself: a replay of the project, as pages once did, is counted."""
    waymark = _waymark(client)
    project_id = UUID(recorded["project_id"])

    with CountedReads(waymark.records.recorder, "pm.jones") as counted:
        waymark.records.get_project(project_id)

    assert counted.of_the_page == [("select_events", str(project_id))]


def test_a_project_just_recorded_is_shown_even_before_the_read_models_have_it(
    client: TestClient, recorded: dict[str, str]
) -> None:
    waymark = _waymark(client)
    waymark.projector.stop()  # the read models fall behind the record
    late = entry(client, recorded["project_id"], {"kind": "phase_changed", "phase": "private_beta"})
    assert waymark.projector.positions()["directory"] < late["position"]

    shown = client.get(f"/api/projects/{recorded['project_id']}").json()

    assert shown["phase"] == "private_beta"
    assert shown["version"] == late["version"]


# -- programmes, cohorts and councils ----------------------------------------------------


@pytest.fixture
def directory(client: TestClient, recorded: dict[str, str]) -> dict[str, str]:
    """The recorded cohort's programme, cohort and council, each changed by every sort of
    change that shows on its own read: a mapping and publishing; a second council
    enrolled and withdrawn; a profile, a new GSS code, assessments, the declaration and
    a successor."""
    waymark = _waymark(client)
    programme_id, cohort_id = programme_of(waymark, recorded["cohort_id"]), recorded["cohort_id"]
    mapping = waymark.records.get_programme(UUID(programme_id)).segment_mapping
    mapping["low/medium"] = "high_potential"
    writes = [
        ("PUT", f"/api/programmes/{programme_id}/segment-mapping", {"mapping": mapping}),
        ("PUT", f"/api/programmes/{programme_id}/publishing", {"allowed": True}),
    ]
    council(client, "GB-TOR", "Torridge")
    project(client, cohort_id, "GB-TOR")
    writes += [
        (
            "POST",
            f"/api/cohorts/{cohort_id}/withdrawals",
            {"council_code": "GB-TOR", "reason": "R"},
        ),
        ("PATCH", "/api/councils/GB-EXE", {"suppliers": ["Civica", "Idox"], "population": 131000}),
        ("POST", "/api/councils/GB-EXE/gss-code", {"gss_code": "E06000099", "effective_from": DAY}),
        (
            "POST",
            "/api/councils/GB-EXE/financial-context",
            {
                "assessed_on": DAY,
                "demand_pressure": "high",
                "financial_pressure": "low",
                "note": "N",
            },
        ),
        ("POST", "/api/councils/GB-EXE/maturity", {"assessed_on": DAY, "levels": LEVELS}),
        ("POST", "/api/councils/GB-EXE/declaration", {"signed_on": DAY}),
        (
            "POST",
            "/api/councils/GB-EXE/succession",
            {"successor_codes": ["GB-TOR"], "effective_from": DAY},
        ),
    ]
    for method, url, body in writes:
        written = client.request(method, url, json=body)
        assert written.status_code == 200, written.text
    waymark.queries.fresh(written.json()["position"])
    return {**recorded, "programme_id": programme_id}


DAY = "2026-01-02"
LEVELS = {
    "working_in_the_open": 3,
    "agile_methods": 1,
    "collaborative_tools": 5,
    "user_centred_design": 2,
    "new_technology": 4,
}


def programme_of(waymark: Waymark, cohort_id: str) -> str:
    return str(waymark.records.get_cohort(UUID(cohort_id)).programme_id)


def _as_replayed(waymark: Waymark, url: str) -> tuple[dict[str, Any], int]:
    """What the read at ``url`` shows of its record, worked out by replaying the record
    (as the API once did), with the record's version."""
    kind, key = url.split("/")[2:4]
    if kind == "programmes":
        programme = waymark.records.get_programme(UUID(key))
        return programme_view(programme), programme.version
    if kind == "cohorts":
        cohort = waymark.records.get_cohort(UUID(key))
        return cohort_view(cohort), cohort.version
    council = waymark.records.get_council(key)
    return {**council_view(council), "assessments": "in_full"}, council.version


def _reads(directory: dict[str, str]) -> list[str]:
    return [
        f"/api/programmes/{directory['programme_id']}",
        f"/api/cohorts/{directory['cohort_id']}",
        "/api/councils/GB-EXE",
    ]


def test_the_api_s_programme_cohort_and_council_read_no_events_and_are_what_their_events_say(
    client: TestClient, directory: dict[str, str]
) -> None:
    waymark = _waymark(client)
    for url in _reads(directory):
        with CountedReads(waymark.records.recorder, "pm.jones") as counted:
            response = client.get(url)

        assert response.status_code == 200, response.text
        assert counted.of_the_page == [], url
        # The read models' answer is the one replaying the record gives, key for key
        # and in the same order, and its ETag is the record's version.
        replayed, version = _as_replayed(waymark, url)
        shown = {k: v for k, v in response.json().items() if k in replayed}
        assert json.dumps(shown) == json.dumps(replayed), url
        assert response.headers["ETag"] == f'"{version}"'
    assert version == 7  # registered, then six changes


def test_a_programme_page_and_a_council_page_read_no_events(
    client: TestClient, directory: dict[str, str]
) -> None:
    waymark = _waymark(client)
    for url, shown in (
        (f"/programmes/{directory['programme_id']}", "Local Digital Accelerator"),
        ("/councils/GB-EXE", "Civica"),
    ):
        with CountedReads(waymark.records.recorder, "pm.jones") as counted:
            page = client.get(url)

        assert page.status_code == 200, page.text
        assert shown in page.text
        assert counted.of_the_page == [], url


def test_a_programme_cohort_or_council_just_changed_is_shown_before_the_read_models_have_it(
    client: TestClient, directory: dict[str, str]
) -> None:
    waymark = _waymark(client)
    waymark.projector.stop()  # the read models fall behind the record
    programme_id, cohort_id = directory["programme_id"], directory["cohort_id"]
    changes = [
        ("PUT", f"/api/programmes/{programme_id}/publishing", {"allowed": False}),
        ("POST", f"/api/cohorts/{cohort_id}/close", None),
        ("POST", "/api/councils/GB-EXE/maturity", {"assessed_on": DAY, "levels": LEVELS}),
    ]
    for (method, url, body), read in zip(changes, _reads(directory), strict=True):
        written = client.request(method, url, json=body)
        assert written.status_code == 200, written.text

        response = client.get(read)

        assert response.headers["ETag"] == f'"{written.json()["version"]}"'
        assert response.json() | _as_replayed(waymark, read)[0] == response.json()
    assert waymark.projector.positions()["directory"] < written.json()["position"]


def test_a_programme_cohort_or_council_that_does_not_exist_is_not_found(
    client: TestClient, directory: dict[str, str]
) -> None:
    nowhere = "00000000-0000-4000-8000-000000000000"
    for url in (
        f"/api/programmes/{nowhere}",
        f"/api/cohorts/{nowhere}",
        "/api/councils/GB-NOWHERE",
    ):
        assert_problem(client.get(url), 404)
    for url in (f"/programmes/{nowhere}", "/councils/GB-NOWHERE"):
        assert client.get(url).status_code == 404
