"""Issue 7: the benchmarks write their figures to bench/results.json and into the
tables of docs/PERFORMANCE.md, each target marked met or not; the prose around
the tables is kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.common import REPORT, RESULTS, Results
from bench.report import TABLES, target_met, write_report


@pytest.mark.parametrize(
    ("value", "target", "met"),
    [
        (12.5, "< 15 ms", True),
        (15.0, "< 15 ms", False),
        (5_276, ">= 25,000 events/s", False),
        (25_000, ">= 25,000 events/s", True),
        (0.18, ">= 1.0x", False),
        (94, "< 250 MB", True),
        (3.0, None, None),
        (3.0, "as fast as possible", None),
    ],
)
def test_a_target_is_read_from_its_text(value: float, target: str | None, met: bool | None) -> None:
    assert target_met(value, target) is met


def run(figures: list[tuple[str, float, str, int, str | None]]) -> Results:
    results = Results(record=True, where="a test machine")
    for figure in figures:
        results.add(*figure)
    return results


def block(name: str, inside: str = "") -> str:
    return f"<!-- figures: {name} -->\n{inside}<!-- end of figures -->\n"


def test_a_run_writes_the_tables_between_their_markers_and_keeps_the_prose(
    tmp_path: Path,
) -> None:
    results_file, report = tmp_path / "results.json", tmp_path / "PERFORMANCE.md"
    old = block("targets", "old table\n")
    report.write_text(
        f"# Performance\n\nProse before.\n\n{old}\nProse between.\n\n"
        f"{block('catch-up')}\n## How to run\n\nProse after.\n"
    )

    run(
        [
            ("catch_up_postgres", 5_276, "events/s", 1_000_000, ">= 25,000 events/s"),
            ("catch_up_stock_runner_postgres", 1_262, "events/s", 1_000_000, None),
            ("read_timeline_page_p95", 12.5, "ms", 1_000_000, "< 15 ms"),
            ("read_timeline_page_p95", 8.9, "ms", 10_000, "< 15 ms"),
        ]
    ).save(results_file, report)
    # A later run at one size replaces that size's figures and keeps the others.
    run([("read_timeline_page_p95", 16.0, "ms", 10_000, "< 15 ms")]).save(results_file, report)

    kept = {(f["name"], f["size"]): f for f in json.loads(results_file.read_text())}
    assert kept[("read_timeline_page_p95", 10_000)]["value"] == 16.0
    assert kept[("read_timeline_page_p95", 1_000_000)]["value"] == 12.5
    assert kept[("catch_up_postgres", 1_000_000)]["machine"] == "a test machine"
    text = report.read_text()
    assert text.startswith("# Performance\n\nProse before.\n\n<!-- figures: targets -->\n")
    assert "<!-- end of figures -->\n\nProse between.\n\n<!-- figures: catch-up -->\n" in text
    assert text.endswith("<!-- end of figures -->\n\n## How to run\n\nProse after.\n")
    assert "old table" not in text
    lines = text.splitlines()
    assert "| figure | target | 10,000 | 1,000,000 |" in lines
    assert "| read_timeline_page_p95 | < 15 ms | 16 ms **not met** | 12.5 ms met |" in lines
    assert "| catch_up_postgres | >= 25,000 events/s |  | 5,276 events/s **not met** |" in lines
    # The catch-up table: sizes that have its figures, a blank for one not measured.
    assert "| 1,000,000 | 5,276 events/s |  | 1,262 events/s |  |  |  |" in lines
    assert not any(line.startswith("| 10,000 |") for line in lines)


def test_a_report_without_tables_gets_the_targets_at_its_end(tmp_path: Path) -> None:
    report = tmp_path / "PERFORMANCE.md"
    report.write_text("# Performance\n\nProse.\n")

    run([("server_memory_rss", 94, "MB", 10_000, "< 250 MB")]).save(
        tmp_path / "results.json", report
    )

    text = report.read_text()
    assert text.startswith("# Performance\n\nProse.\n\n## Figures\n\n<!-- figures: targets -->\n")
    assert "| server_memory_rss | < 250 MB | 94 MB met |" in text


def test_a_table_the_benchmarks_do_not_know_is_refused(tmp_path: Path) -> None:
    report = tmp_path / "PERFORMANCE.md"
    report.write_text(block("nonsense"))
    with pytest.raises(ValueError, match="nonsense"):
        write_report([], report)


def test_the_project_report_shows_the_figures_on_record(tmp_path: Path) -> None:
    """docs/PERFORMANCE.md is what the benchmarks would write from bench/results.json."""
    copy = tmp_path / "PERFORMANCE.md"
    copy.write_text(REPORT.read_text())
    write_report(json.loads(RESULTS.read_text()), copy)
    assert copy.read_text() == REPORT.read_text()
    for name in TABLES:
        assert f"<!-- figures: {name} -->" in REPORT.read_text(), name
