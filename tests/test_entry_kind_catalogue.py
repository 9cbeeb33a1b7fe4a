"""Issue 15: each entry kind is declared once, in the catalogue, and everything else follows.

The API's request models and examples, the pages' forms and words, the event
classes and the summaries are made from domain/entry_kinds.py. Where words
stay hand-written (choices, a page's own wording), these tests fail when they
and the catalogue disagree. The last test follows docs/DOMAIN.md's recipe: a
kind registered in the test itself is recorded over HTTP, shown on the project
page and the cohort timeline, and found by search, on every backend.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Iterator, Mapping
from dataclasses import fields as dataclass_fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, get_args
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient

from domain import fields as domain_fields
from domain.entry_kinds import (
    CATALOGUE,
    COMMON_ATTRIBUTES,
    DECIDED_ON,
    EARLIER_DECISION,
    LINKS,
    PUBLIC,
    EntryKind,
)
from domain.fields import Choice, Names, Text, clean_fields
from domain.project import ENTRY_KINDS, Project, register_entry_kind, unregister_entry_kind
from domain.vocabulary import (
    CouncilType,
    DigitalMeaning,
    Pressure,
    Region,
    Role,
    Segment,
)
from projections.comparison import SCALE_BANDS
from projections.summaries import SUMMARY_LINES, summarise_entry
from tests.helpers import assert_problem, cohort, council, entry, programme, project
from web.pages import words
from web.pages.entry_forms import CORRECTION_FIELDS, ENTRY_MODELS, FORMS, RECORDABLE
from web.schemas import ENTRY_TAGS

#: The event classes stored events name (their topics): renaming one strands every
#: event already recorded, so they are pinned here.
STORED_TOPICS = {
    "problem_statement_iterated": "domain.project:Project.ProblemStatementIterated",
    "capacity_decided": "domain.project:Project.CapacityDecided",
    "sponsor_check_in": "domain.project:Project.SponsorCheckedIn",
    "case_for_change": "domain.project:Project.CaseForChangeMade",
    "capacity_built": "domain.project:Project.CapacityBuilt",
    "way_of_working_chosen": "domain.project:Project.WayOfWorkingChosen",
    "stance_taken": "domain.project:Project.StanceTaken",
    "phase_changed": "domain.project:Project.PhaseChanged",
    "members_engaged": "domain.project:Project.MembersEngaged",
    "concern_raised": "domain.project:Project.ConcernRaised",
    "concern_resolved": "domain.project:Project.ConcernResolved",
    "support_requested": "domain.project:Project.SupportRequested",
    "support_answered": "domain.project:Project.SupportAnswered",
    "output_published": "domain.project:Project.OutputPublished",
    "output_reused": "domain.project:Project.OutputReused",
    "partner_joined": "domain.project:Project.PartnerJoined",
    "partner_left": "domain.project:Project.PartnerLeft",
    "grant_awarded": "domain.project:Project.GrantAwarded",
    "payment_made": "domain.project:Project.PaymentMade",
    "match_funding_committed": "domain.project:Project.MatchFundingCommitted",
    "grant_closed": "domain.project:Project.GrantClosed",
    "benefit_defined": "domain.project:Project.BenefitDefined",
    "benefit_measured": "domain.project:Project.BenefitMeasured",
    "benefit_closed": "domain.project:Project.BenefitClosed",
    "assessment_held": "domain.project:Project.AssessmentHeld",
    "entry_made_public": "domain.project:Project.EntryMadePublic",
    "entry_corrected": "domain.project:Project.EntryCorrected",
}
#: Vocabularies pages word that are not an entry field's choices.
OTHER_CODES = {
    *(
        m.value
        for enum in (CouncilType, Region, Pressure, Segment, DigitalMeaning, Role)
        for m in enum
    ),
    *(band for band, _ in SCALE_BANDS),
}


def choice_values() -> set[str]:
    return {
        member.value
        for event_class in ENTRY_KINDS.values()
        for spec in event_class.FIELDS.values()
        if isinstance(spec, Choice) and spec.choices is not None
        for member in spec.choices
    }


NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


# -- the catalogue, and what is made from it ------------------------------------------------


def test_every_kind_is_the_catalogues_and_declares_a_name_a_hint_and_a_label_per_field() -> None:
    assert [c.SPEC for c in ENTRY_KINDS.values()] == list(CATALOGUE)
    for spec in CATALOGUE:
        assert spec.problems() == [], spec.kind


def test_event_classes_keep_their_topics_and_carry_exactly_the_catalogues_fields() -> None:
    assert {k: f"{c.__module__}:{c.__qualname__}" for k, c in ENTRY_KINDS.items()} == (
        STORED_TOPICS
    )
    for kind, event_class in ENTRY_KINDS.items():
        assert getattr(Project, event_class.__name__) is event_class
        assert kind == event_class.KIND
        own = [f.name for f in dataclass_fields(event_class) if f.name not in COMMON_ATTRIBUTES]
        assert own == list(event_class.SPEC.fields), kind
        assert dict(event_class.SPEC.fields) == event_class.FIELDS


def test_the_api_models_are_the_catalogues_fields_and_its_examples_pass_the_domain_rules() -> None:
    assert set(ENTRY_TAGS) == set(ENTRY_KINDS) == set(ENTRY_MODELS)
    for kind, event_class in ENTRY_KINDS.items():
        spec = event_class.SPEC
        model = ENTRY_MODELS[kind]
        # every kind's, last: the earlier-decision confirmation (issue 17 point 4), links to
        # evidence and whether the entry is public (issue 19 points 4 and 6)
        common = ["earlier_decision_confirmed", "links", "public"]
        assert list(model.model_fields) == ["decided_on", "kind", *spec.fields, *common], kind
        assert model.model_fields["earlier_decision_confirmed"].default is False
        assert model.model_fields["public"].default is False
        assert not model.model_fields["links"].is_required()
        assert get_args(model.model_fields["kind"].annotation) == (kind,)
        for name, field_spec in spec.fields.items():
            assert model.model_fields[name].is_required() == field_spec.required, (kind, name)
        assert not model.model_fields["decided_on"].is_required()
        (example,) = model.model_json_schema()["examples"]
        assert example == {"kind": kind, **spec.example()}
        model.model_validate(example)
        values = {k: v for k, v in example.items() if k != "kind"}
        assert clean_fields(spec.fields, values).keys() == spec.fields.keys()


def test_forms_ask_for_the_catalogues_fields_in_its_words() -> None:
    assert list(RECORDABLE) == [s.kind for s in CATALOGUE if s.recordable]
    for kind, event_class in ENTRY_KINDS.items():
        spec = event_class.SPEC
        form = FORMS[kind]
        assert form[0].name == "decided_on"
        assert (form[0].label, form[0].hint) == (spec.decided_on.label, spec.decided_on.hint)
        assert (form[1].name, form[1].widget) == ("earlier_decision_confirmed", "confirm")
        assert form[1].label == EARLIER_DECISION.label and not form[1].required
        asked = {f.name: f for f in form[2:-2]}
        expected = [n for n in spec.fields if n not in ("corrects", "replacement")]
        assert list(asked) == expected, kind
        links, public = form[-2:]
        assert (links.name, links.widget, links.label) == ("links", "links", LINKS.label)
        assert (public.name, public.widget, public.label) == ("public", "public", PUBLIC.label)
        for name, field in asked.items():
            assert field.label == spec.fields[name].label
            assert field.hint == spec.fields[name].hint
            assert field.required == spec.fields[name].required
        assert words.kind_name(kind) == spec.name
        assert words.kind_hint(kind) == spec.hint
    assert [f.input_name for f in CORRECTION_FIELDS] == [
        "correction-reason_kind",
        "correction-reason",
        "correction-public",  # a correction is public by its own answer (issue 19 point 6)
    ]


def test_every_choice_has_words_and_no_wording_is_left_over() -> None:
    for value in choice_values():
        worded = words.label(value)
        assert worded and "_" not in worded and not worded[0].islower(), value
    stale = set(words.CHOICES) - choice_values() - OTHER_CODES
    assert not stale, f"words.CHOICES words codes nothing uses: {stale}"


def test_a_pages_own_wording_names_fields_that_exist() -> None:
    for place_field in words.PLACES:
        _, name = place_field.split(".")
        assert name == "decided_on" or any(name in c.FIELDS for c in ENTRY_KINDS.values())


def test_every_summary_line_is_for_a_kind_in_the_catalogue() -> None:
    assert set(SUMMARY_LINES) <= set(ENTRY_KINDS)


def test_a_kind_without_a_summary_line_is_summed_up_by_its_first_answers() -> None:
    spec = EntryKind(
        kind="note_taken",
        name="Note taken",
        hint="A note for the record",
        fields={
            "lesson": Text(label="What we learned"),
            "source": Text(required=False, max_length=200, label="Where it was learned"),
            "people": Names(required=False, label="Who learned it"),
        },
    )
    register_entry_kind(spec)
    try:
        assert (
            summarise_entry("note_taken", {"lesson": "Ask early", "source": "", "people": []})
            == "Ask early"
        )
        assert (
            summarise_entry("note_taken", {"lesson": "Ask", "source": "", "people": ["Ann"]})
            == "Ask: Ann"
        )
    finally:
        unregister_entry_kind("note_taken")
    assert summarise_entry("note_taken", {"lesson": "Ask"}) == "note_taken"


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        (EntryKind(kind="Bad Kind", name="n", hint="h"), "lower_case_with_underscores"),
        (EntryKind(kind="no_words", name="", hint=""), "needs a name and a hint"),
        (
            EntryKind(kind="no_label", name="n", hint="h", fields={"x": Text()}),
            "no_label.x needs a label",
        ),
        (
            EntryKind(kind="clash", name="n", hint="h", fields={"actor": Text(label="Actor")}),
            "every entry has actor already",
        ),
        (EntryKind(kind="phase_changed", name="n", hint="h"), "registered already"),
        (
            EntryKind(kind="new_phase", name="n", hint="h", event="PhaseChanged"),
            "Project.PhaseChanged is taken",
        ),
    ],
)
def test_a_kind_declared_wrongly_is_refused(spec: EntryKind, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        register_entry_kind(spec)
    assert set(ENTRY_KINDS) == set(STORED_TOPICS)


# -- the recipe, followed: a kind added in the test itself --------------------------------

RECIPE = (Path(__file__).resolve().parent.parent / "docs" / "DOMAIN.md").read_text()


def recipe() -> tuple[EntryKind, Callable[[Mapping[str, Any]], str]]:
    """The recipe's own worked example (docs/DOMAIN.md), as written there."""
    section = RECIPE.split("## Adding an entry kind", 1)[1].split("\n## ", 1)[0]
    code = textwrap.dedent(section.split("```python", 1)[1].split("```", 1)[0])
    spec = eval(code, {**vars(domain_fields), "EntryKind": EntryKind})  # noqa: S307
    assert isinstance(spec, EntryKind)
    line = re.search(r"`(\"lesson_learned\": lambda v: .*),`", section)
    assert line is not None, "the recipe's summary line"
    summary_lines = eval("{" + line.group(1) + "}", {})  # noqa: S307
    return spec, summary_lines["lesson_learned"]


LESSON_LEARNED, LESSON_SUMMARY = recipe()


@pytest.fixture
def lesson_learned(monkeypatch: pytest.MonkeyPatch) -> Iterator[EntryKind]:
    """The kind registered before the application is made, and taken away after."""
    register_entry_kind(LESSON_LEARNED)  # step 1 of the recipe
    monkeypatch.setitem(SUMMARY_LINES, "lesson_learned", LESSON_SUMMARY)  # step 2
    try:
        yield LESSON_LEARNED
    finally:
        unregister_entry_kind("lesson_learned")


def test_a_kind_added_by_the_recipe_is_recorded_shown_on_the_timeline_and_found(
    lesson_learned: EntryKind, client: TestClient
) -> None:
    # Given a council's project
    cohort_id = cohort(client, programme(client))
    project_id = project(client, cohort_id, council(client, "GB-EXE", "Exeter City Council"))

    # When a lesson is recorded over HTTP
    body = {
        "kind": "lesson_learned",
        "lesson": "Residents trust the paper calendar more than the app.",
        "source": "Door-knocking in Exwick",
        "decided_on": "2026-02-03",
    }
    written = entry(client, project_id, body)

    # Then the API documents it, and checks it as it checks every kind
    schema = client.get("/openapi.json").json()
    assert schema["components"]["schemas"]["LessonLearned"]["examples"] == [
        {"kind": "lesson_learned", **LESSON_LEARNED.example()}
    ]
    post = schema["paths"]["/api/projects/{project_id}/entries"]["post"]
    mapping = post["requestBody"]["content"]["application/json"]["schema"]["discriminator"]
    assert mapping["mapping"]["lesson_learned"] == "#/components/schemas/LessonLearned"
    url = f"/api/projects/{project_id}/entries"
    assert_problem(client.post(url, json={"kind": "lesson_learned"}), 422, field="lesson")
    assert_problem(client.post(url, json={**body, "source": "x" * 201}), 422, field="source")
    assert_problem(client.post(url, json={**body, "colour": "red"}), 422, field="colour")
    assert_problem(client.post(url, json={**body, "lesson": " "}), 422, field="lesson")

    # And the cohort timeline shows it, with its summary line, filtered by its kind too
    timeline = client.get(
        f"/api/cohorts/{cohort_id}/timeline",
        params={"wait_for": written["position"], "kind": "lesson_learned"},
    ).json()
    assert timeline["freshness"]["reached"] is True
    (item,) = timeline["items"]
    assert item["entry_id"] == written["entry_id"]
    assert item["kind"] == "lesson_learned"
    assert item["decided_on"] == "2026-02-03"
    assert item["summary"] == "Learned: Residents trust the paper calendar more than the app."

    # And search finds it by its words
    found = client.get(
        "/api/search", params={"q": "paper calendar exwick", "wait_for": written["position"]}
    ).json()
    assert [i["entry_id"] for i in found["items"]] == [written["entry_id"]]
    assert found["items"][0]["kind"] == "lesson_learned"

    # And the project's history keeps its values
    history = client.get(
        f"/api/projects/{project_id}/history", params={"wait_for": written["position"]}
    ).json()
    (recorded,) = [e for e in history["entries"] if e["entry_id"] == written["entry_id"]]
    assert recorded["kind"] == "lesson_learned"

    # And the project page shows it in the catalogue's words
    page = client.get(
        f"/projects/{project_id}",
        params={"recorded": written["entry_id"], "position": written["position"]},
    )
    assert page.status_code == 200, page.text
    assert "Lesson learned recorded" in page.text
    for text in (
        "What we learned",
        "Residents trust the paper calendar more than the app.",
        "Where it was learned",
        "Door-knocking in Exwick",
    ):
        assert text in page.text, text

    # And it has a form of its own, offered beside the others
    chooser = client.get(f"/projects/{project_id}/entries/new")
    assert "Lesson learned" in chooser.text
    assert "What the team learned, and where it learned it" in chooser.text
    form = client.get(f"/projects/{project_id}/entries/new/lesson_learned")
    assert form.status_code == 200, form.text
    assert "A visit, a test, a meeting" in form.text


def test_a_kind_registered_again_is_the_same_class_and_never_another_declaration() -> None:
    first = register_entry_kind(LESSON_LEARNED)
    unregister_entry_kind("lesson_learned")
    assert register_entry_kind(LESSON_LEARNED) is first
    unregister_entry_kind("lesson_learned")
    other = EntryKind(kind="lesson_learned", name="Lesson", hint="Another lesson")
    with pytest.raises(ValueError, match="Project.LessonLearned was made from another"):
        register_entry_kind(other)
    assert "lesson_learned" not in ENTRY_KINDS


def test_a_stored_entry_of_a_registered_kind_is_read_back_through_its_event_class() -> None:
    register_entry_kind(LESSON_LEARNED)
    try:
        project_ = Project.start(
            cohort_id=uuid4(), council_code="GB-EXE", title="Bins", actor="pm", now=NOW
        )
        project_.record(
            kind="lesson_learned",
            entry_id=uuid4(),
            decided_on=None,
            actor="pm",
            now=NOW,
            values={"lesson": "  Ask early.  "},
        )
        (event,) = [e for e in project_.collect_events() if isinstance(e, Project.EntryRecorded)]
        assert type(event).__qualname__ == "Project.LessonLearned"
        assert event.values() == {"lesson": "Ask early.", "source": ""}
        (recorded,) = project_.entries.values()
        assert recorded.kind == "lesson_learned"
        assert isinstance(recorded.entry_id, UUID)
    finally:
        unregister_entry_kind("lesson_learned")
    assert not hasattr(Project, "LessonLearned")


def test_the_common_date_has_the_words_every_kind_uses_unless_it_says_otherwise() -> None:
    differ = {s.kind for s in CATALOGUE if s.decided_on != DECIDED_ON}
    # A grant's date decided is its award date, a payment's the day it was paid.
    assert differ == {"entry_corrected", "grant_awarded", "payment_made"}
