"""Issue 17 point 3, the optional part: an unfinished entry form kept as a draft for the
person who saved it alone, never part of the record, gone once the entry is recorded."""

from __future__ import annotations

from uuid import UUID

from fastapi.testclient import TestClient

from tests.helpers import cohort, council, make_user, programme, project
from tests.test_check_answers import hidden_fields
from tests.test_pages import waymark_of


def test_a_draft_is_kept_for_its_author_alone_and_is_not_part_of_the_record(
    client: TestClient,
) -> None:
    waymark = waymark_of(client)
    programme_id = programme(client)
    project_id = project(client, cohort(client, programme_id), council(client, "GB-E", "E"))
    path = f"/projects/{project_id}/entries/new/members_engaged"
    assert "Save as draft" in client.get(path).text
    head = waymark.projector.log.head()

    typed = {"how": "Briefing <b>half</b> written", "decided_on-day": "7", "save_draft": "yes"}
    saved = client.post(f"{path}/check", data=typed)
    assert saved.status_code == 200, saved.text
    assert "Draft saved" in saved.text and "Check your answers" not in saved.text
    assert waymark.projector.log.head() == head  # nothing recorded, no event at all

    # The form again: the draft's answers, said to be a draft
    again = client.get(path).text
    assert "Briefing &lt;b&gt;half&lt;/b&gt; written" in again
    assert 'value="7"' in again and "the answers of your draft" in again

    # Someone else who may record here sees an empty form
    other = make_user(waymark, "pm.two", "programme_manager", programme_id=programme_id)
    theirs = client.get(path, headers={"Authorization": f"Bearer {other}"}).text
    assert "written" not in theirs and "your draft" not in theirs

    # Recorded through "Check your answers": the draft is gone
    finished = {k: v for k, v in typed.items() if k not in ("save_draft", "decided_on-day")}
    check = client.post(f"{path}/check", data=finished)
    assert "Check your answers" in check.text
    recorded = client.post(path, data=hidden_fields(check.text), follow_redirects=False)
    assert recorded.status_code == 303, recorded.text
    assert "your draft" not in client.get(path).text
    assert waymark.drafts.find("pm.jones", UUID(project_id), "members_engaged") is None
