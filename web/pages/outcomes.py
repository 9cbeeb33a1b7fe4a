"""Benefits and assessments as pages show them: each benefit's path from its baseline
towards its target as a chart (drawn by /static/app/charts.mjs) and, always, as a table
of the same figures."""

from __future__ import annotations

from typing import Any

from web.pages.rendering import long_date

STATUS_TAGS = {
    "met": ("Met", "govuk-tag--green"),
    "on_track": ("On track", "govuk-tag--blue"),
    "missed": ("Missed", "govuk-tag--red"),
    "abandoned": ("Abandoned", "govuk-tag--grey"),
}
RESULT_TAGS = {
    "met": ("Met", "govuk-tag--green"),
    "met_with_conditions": ("Met with conditions", "govuk-tag--yellow"),
    "not_met": ("Not met", "govuk-tag--red"),
}


def points(benefit: dict[str, Any]) -> list[dict[str, Any]]:
    """The benefit's figures in date order: its baseline, each measurement, its target."""
    found = [{"on": benefit["baseline_on"], "what": "Baseline", "value": benefit["baseline_value"]}]
    for m in benefit["measurements"]:
        found.append(
            {
                "on": m["measured_on"],
                "what": "Measured" + (f" ({m['source']})" if m.get("source") else ""),
                "value": m["value"],
                "link": m.get("link") or "",
            }
        )
    found.append({"on": benefit["target_on"], "what": "Target", "value": benefit["target_value"]})
    return sorted(found, key=lambda p: p["on"])


def chart(benefit: dict[str, Any]) -> dict[str, Any]:
    """A line chart of the measurements from the baseline, beside the straight path from
    the baseline to the target."""
    days = sorted(
        {benefit["baseline_on"], benefit["target_on"]}
        | {m["measured_on"] for m in benefit["measurements"]}
    )
    measured = {benefit["baseline_on"]: benefit["baseline_value"]}
    measured.update({m["measured_on"]: m["value"] for m in benefit["measurements"]})
    planned = {benefit["baseline_on"]: benefit["baseline_value"]}
    planned[benefit["target_on"]] = benefit["target_value"]
    return {
        "type": "path",
        "label": f"Line chart of {benefit['measure']} in {benefit['unit']}: the measurements "
        "from the baseline, and the path to the target. The table below has the same figures.",
        "labels": [long_date(d) for d in days],
        "series": [
            {"label": "Measured", "values": [_float(measured.get(d)) for d in days]},
            {"label": "Path to the target", "values": [_float(planned.get(d)) for d in days]},
        ],
        "axis": benefit["unit"],
    }


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def benefit_view(benefit: dict[str, Any]) -> dict[str, Any]:
    text, classes = STATUS_TAGS[benefit["status"]]
    return {
        **benefit,
        "status_text": text,
        "status_classes": classes,
        "points": points(benefit),
        "chart": chart(benefit),
    }


def assessment_view(assessment: dict[str, Any] | None) -> dict[str, Any] | None:
    if assessment is None:
        return None
    text, classes = RESULT_TAGS[assessment["result"]]
    return {**assessment, "result_text": text, "result_classes": classes}
