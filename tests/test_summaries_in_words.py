"""Summaries and answers say a choice as its words do: "LGA", not "lga" or "Lga"."""

from __future__ import annotations

from projections.summaries import in_words, summarise_entry


def test_choices_are_said_in_their_words() -> None:
    wish = {"from_whom": "lga", "wish": "An hour with a data protection officer"}

    assert summarise_entry("support_requested", wish) == (
        "From LGA: An hour with a data protection officer"
    )
    assert in_words("support_requested", "from_whom", "lga") == "LGA"
    assert in_words("support_requested", "from_whom", "localgov_digital") == "LocalGov Digital"
    assert in_words("capacity_decided", "choice", "share") == "Share"
    concern = {"category": "digital_exclusion_poverty", "description": "No broadband"}
    assert summarise_entry("concern_raised", concern) == (
        "Digital exclusion: relative poverty: No broadband"
    )
