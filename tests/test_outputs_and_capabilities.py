"""Issue 19, items 3 and 5: outputs and their reuse, and capabilities across councils.

One world per backend: three councils in two cohorts of one programme (and a council in
another programme). An output published by one council and reused by another shows a
reuse count of one, with who reused it; the capability page lists the choices of three
councils for one capability, with the values in force after corrections; the read
models rebuild to the same answers.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.helpers import (
    assert_problem,
    cohort,
    council,
    entry,
    programme,
    project,
    read_model_rows,
)

OUTPUT = {
    "kind": "output_published",
    "output_kind": "code_repository",
    "title": "Bin day finder",
    "url": "https://github.com/example/bin-day-finder",
    "licence": "MIT",
    "phase": "alpha",
}


def _answers(client: TestClient, programme_id: str) -> dict[str, Any]:
    """What the API says of outputs and capabilities, without the freshness of each read."""
    base = f"/api/programmes/{programme_id}"
    found = {}
    for path in ("/outputs", "/capabilities", "/capabilities/case-management"):
        body = client.get(base + path).json()
        body.pop("freshness")
        found[path] = body
    return found


def test_outputs_reused_and_capabilities_chosen_across_councils(client: TestClient) -> None:
    p = programme(client)
    first, second = cohort(client, p, "Cohort 1"), cohort(client, p, "Cohort 2")
    for code, name in (("EXE", "Exeter"), ("TEI", "Teignbridge"), ("HCK", "Hackney")):
        council(client, code, f"{name} Council")
    exe, tei = project(client, first, "EXE"), project(client, first, "TEI")
    hck = project(client, second, "HCK")
    other = project(client, cohort(client, programme(client, "Another"), "Elsewhere"), "HCK")

    # Exeter publishes; Teignbridge reuses it, recorded on its own project.
    output_id = entry(client, exe, OUTPUT)["entry_id"]
    reuse = {
        "kind": "output_reused",
        "output_entry_id": output_id,
        "council_code": "tei",
        "how": "Forked it for our collection rounds.",
        "saving": "1200.50",
    }
    reuse_id = entry(client, tei, reuse)["entry_id"]

    # An output of another programme, an unknown one or an unregistered council is refused.
    posted = f"/api/projects/{other}/entries"
    assert_problem(client.post(posted, json=reuse), 422, "output_entry_id")
    unknown = {**reuse, "output_entry_id": "9f1c6a52-3c1e-4f57-9b8e-0c7d2b8f4e11"}
    assert_problem(client.post(f"/api/projects/{tei}/entries", json=unknown), 422)
    nobody = {**reuse, "council_code": "NOWHERE"}
    assert_problem(client.post(f"/api/projects/{tei}/entries", json=nobody), 422, "council_code")
    wrong = {
        "kind": "entry_corrected",
        "corrects": reuse_id,
        "reason_kind": "recording_error",
        "reason": "Wrong output.",
        "replacement": {"output_entry_id": unknown["output_entry_id"]},
    }
    refused = client.post(f"/api/projects/{tei}/entries", json=wrong)
    assert_problem(refused, 422, "replacement.output_entry_id")
    bad_link = {**OUTPUT, "url": "javascript:alert(1)"}
    assert_problem(client.post(f"/api/projects/{exe}/entries", json=bad_link), 422, "url")

    # Three councils choose for one capability, each in its own words; one corrects its cost.
    choices = (
        (exe, "Case management", "share", "1000.00"),
        (tei, "  case   MANAGEMENT ", "buy", "2000.00"),
        (hck, "Case-management", "make", "300.00"),
    )
    decided = {}
    for project_id, words, choice, cost in choices:
        body = {"kind": "capacity_decided", "capability": words, "choice": choice}
        decided[project_id] = entry(client, project_id, {**body, "estimated_cost": cost})
    correction = {
        "kind": "entry_corrected",
        "corrects": decided[hck]["entry_id"],
        "reason_kind": "recording_error",
        "reason": "A digit was lost.",
        "replacement": {"estimated_cost": "3000.00"},
    }
    entry(client, hck, correction)
    renamed = {**correction, "corrects": output_id, "replacement": {"title": "Bin day API"}}
    position = entry(client, exe, renamed)["position"]

    # The outputs: a reuse count of one, with who reused it, under the title in force.
    outputs = client.get(f"/api/programmes/{p}/outputs?wait_for={position}").json()["items"]
    assert [(o["title"], o["council_code"], o["reuse_count"]) for o in outputs] == [
        ("Bin day API", "EXE", 1)
    ]
    (reused_by,) = outputs[0]["reused_by"]
    assert (reused_by["council_code"], reused_by["council_name"], reused_by["saving"]) == (
        "TEI",
        "Teignbridge Council",
        "1200.50",
    )
    # Filters, and bad values refused naming the filter.
    base = f"/api/programmes/{p}/outputs"
    assert len(client.get(f"{base}?kind=code_repository&phase=alpha&council=exe").json()["items"])
    assert client.get(f"{base}?kind=guidance").json()["items"] == []
    assert client.get(f"{base}?cohort={second}").json()["items"] == []
    assert_problem(client.get(f"{base}?kind=novel"), 422, "kind")
    assert_problem(client.get(f"{base}?phase=finished"), 422, "phase")
    assert_problem(client.get(f"{base}?council=NOWHERE"), 422, "council")
    assert_problem(client.get(f"{base}?cohort=not-a-cohort"), 422, "cohort")

    # The capabilities: one, chosen three ways, with the costs in force.
    (listed,) = client.get(f"/api/programmes/{p}/capabilities").json()["items"]
    assert (listed["slug"], listed["name"], listed["councils"]) == (
        "case-management",
        "Case management",
        3,
    )
    assert listed["choices"] == {"make": 1, "buy": 1, "share": 1, "experiment": 0}
    capability = client.get(f"/api/programmes/{p}/capabilities/case-management").json()
    assert sorted(
        (d["council_code"], d["choice"], d["estimated_cost"]) for d in capability["decisions"]
    ) == [("EXE", "share", "1000.00"), ("HCK", "make", "3000.00"), ("TEI", "buy", "2000.00")]
    assert_problem(client.get(f"/api/programmes/{p}/capabilities/no-such-thing"), 404)

    # The pages: the outputs, the capability, and a project's and a council's outputs.
    page = client.get(f"/programmes/{p}/outputs")
    assert page.status_code == 200
    assert "Bin day API" in page.text and "Teignbridge Council" in page.text
    refused = client.get(f"/programmes/{p}/outputs?kind=novel")
    assert refused.status_code == 400 and "Select a kind of output from the list" in refused.text
    page = client.get(f"/programmes/{p}/capabilities/case-management")
    assert all(name in page.text for name in ("Exeter", "Teignbridge", "Hackney", "£3,000"))
    assert "/capabilities/case-management" in client.get(f"/programmes/{p}/capabilities").text
    assert "Bin day API" in client.get(f"/projects/{exe}").text
    assert "Forked it for our collection rounds" in client.get("/councils/TEI").text

    # Rebuilt from the log, the read models hold the same rows and give the same answers.
    waymark = client.app.state.waymark  # type: ignore[attr-defined]
    before, answers = read_model_rows(waymark), _answers(client, p)
    waymark.projector.rebuild(["collaboration"])
    assert read_model_rows(waymark) == before
    assert _answers(client, p) == answers
