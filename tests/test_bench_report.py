"""Issue 7: the benchmarks write their figures to bench/results.json and into the
tables of docs/PERFORMANCE.md, each target marked met or not; the prose around
the tables is kept. Issue 22: a target is a number a program reads (``target``,
``better``, ``target_text``), and a ratio names the reference measured beside it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.common import REPORT, RESULTS, Results
from bench.report import TABLES, Target, target_met, verdicts, write_report

BELOW_15 = Target.below(15, "< 15 ms")
TENFOLD = Target.at_least(10, ">= 10x the stock runner, same run")


@pytest.mark.parametrize(
    ("value", "target", "better", "met"),
    [
        (12.5, 15, "lower", True),
        (15.0, 15, "lower", False),
        (16.0, 15, "lower", False),
        (0.75, 0.75, "higher", True),
        (0.33, 0.75, "higher", False),
        (11.2, 10, "higher", True),
        (3.0, None, None, None),
    ],
)
def test_a_target_is_read_from_its_number_and_direction(
    value: float, target: float | None, better: str | None, met: bool | None
) -> None:
    figure = {"name": "f", "value": value, "target": target, "better": better}
    assert target_met(figure) is met


def test_a_target_without_a_direction_is_refused() -> None:
    with pytest.raises(ValueError, match="better"):
        target_met({"name": "f", "value": 1.0, "target": 2, "better": "more"})


def run(figures: list[tuple[str, float, str, int, Target | None]]) -> Results:
    results = Results(record=True, where="a test machine")
    for figure in figures:
        results.add(*figure)
    return results


def test_a_recorded_ratio_carries_its_target_and_the_figures_it_divides(tmp_path: Path) -> None:
    results = Results(record=True, where="a test machine")
    ours = results.add("catch_up_postgres", 5_276, "events/s", 1_000_000)
    stock = results.add("catch_up_stock_runner_postgres", 1_262, "events/s", 1_000_000)
    results.add("catch_up_vs_stock", 4.18, "x", 1_000_000, TENFOLD, of=ours, reference=stock)
    results.save(tmp_path / "results.json", tmp_path / "PERFORMANCE.md")

    kept = {f["name"]: f for f in json.loads((tmp_path / "results.json").read_text())}
    ratio = kept["catch_up_vs_stock"]
    assert ratio["target"] == 10
    assert ratio["better"] == "higher"
    assert ratio["target_text"] == ">= 10x the stock runner, same run"
    assert ratio["of"] == {"name": "catch_up_postgres", "value": 5_276, "unit": "events/s"}
    assert ratio["reference"] == {
        "name": "catch_up_stock_runner_postgres",
        "value": 1_262,
        "unit": "events/s",
    }
    assert kept["catch_up_postgres"]["target"] is None
    text = (tmp_path / "PERFORMANCE.md").read_text()
    assert (
        "| catch_up_vs_stock | >= 10x the stock runner, same run | 4.18x **not met** "
        "(reference 1,262 events/s) |" in text
    )


def test_verdicts_say_for_each_figure_with_a_target_whether_it_is_met() -> None:
    results = run(
        [
            ("write_vs_minimal_app_postgres", 0.81, "x", 10_000, Target.at_least(0.75, "")),
            ("write_vs_minimal_app_sqlite", 0.5, "x", 10_000, Target.at_least(0.75, "")),
            ("read_timeline_page_p95", 12.5, "ms", 1_000_000, BELOW_15),
            ("read_timeline_page_p50", 9.0, "ms", 1_000_000, None),
        ]
    )
    assert verdicts(results.figures) == [
        ("read_timeline_page_p95", 1_000_000, True),
        ("write_vs_minimal_app_postgres", 10_000, True),
        ("write_vs_minimal_app_sqlite", 10_000, False),
    ]


def test_every_target_on_record_is_a_number_with_a_direction_and_a_text() -> None:
    """What a program checking bench/results.json relies on; and each ratio with a
    target names the reference measured in the same run."""
    on_record = json.loads(RESULTS.read_text())
    with_targets = [f for f in on_record if f["target"] is not None]
    assert with_targets
    for figure in with_targets:
        assert isinstance(figure["target"], int | float), figure["name"]
        assert figure["better"] in ("higher", "lower"), figure["name"]
        assert figure["target_text"], figure["name"]
        if figure["unit"] == "x":
            assert figure["reference"]["value"] > 0, figure["name"]
    assert len(verdicts(on_record)) == len(with_targets)


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
            ("catch_up_postgres", 5_276, "events/s", 1_000_000, None),
            ("catch_up_stock_runner_postgres", 1_262, "events/s", 1_000_000, None),
            ("read_timeline_page_p95", 12.5, "ms", 1_000_000, BELOW_15),
            ("read_timeline_page_p95", 8.9, "ms", 10_000, BELOW_15),
            ("server_memory_rss", 94, "MB", 1_000_000, Target.below(250, "< 250 MB")),
        ]
    ).save(results_file, report)
    # A later run at one size replaces that size's figures and keeps the others.
    run([("read_timeline_page_p95", 16.0, "ms", 10_000, BELOW_15)]).save(results_file, report)

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
    assert "| server_memory_rss | < 250 MB |  | 94 MB met |" in lines
    # The catch-up table: sizes that have its figures, a blank for one not measured.
    assert "| 1,000,000 | 5,276 events/s |  | 1,262 events/s |  |  |  |  |" in lines
    assert not any(line.startswith("| 10,000 |") for line in lines)


def test_a_report_without_tables_gets_the_targets_at_its_end(tmp_path: Path) -> None:
    report = tmp_path / "PERFORMANCE.md"
    report.write_text("# Performance\n\nProse.\n")

    run([("server_memory_rss", 94, "MB", 10_000, Target.below(250, "< 250 MB"))]).save(
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


def test_the_write_tables_set_waymark_beside_the_minimal_app_on_each_database(
    tmp_path: Path,
) -> None:
    report = tmp_path / "PERFORMANCE.md"
    report.write_text(block("writes") + block("write-cpu"))
    figures: list[tuple[str, float, str, int, Target | None]] = []
    for db, waymark, minimal in (("postgres", 306, 938), ("sqlite", 410, 500)):
        for writer, rate in (("waymark", waymark), ("minimal_app", minimal)):
            base = f"write_{writer}_{db}"
            figures += [
                (base, rate, "writes/s", 10_000, None),
                (f"{base}_p50", 8.0, "ms", 10_000, None),
                (f"{base}_p95", 12.5, "ms", 10_000, None),
                (f"{base}_cpu_server", 1.5, "ms/write", 10_000, None),
                (f"{base}_cpu_client", 0.1, "ms/write", 10_000, None),
                (f"{base}_machine_busy", 99.0, "%", 10_000, None),
            ]
            if db == "postgres":
                figures.append((f"{base}_cpu_database", 0.4, "ms/write", 10_000, None))
        ratio = Target.at_least(0.75, ">= 0.75x the minimal app, same run")
        figures.append((f"write_vs_minimal_app_{db}", waymark / minimal, "x", 10_000, ratio))
    run(figures).save(tmp_path / "results.json", report)

    lines = report.read_text().splitlines()
    assert (
        "| 10,000 | PostgreSQL | 306 writes/s | 8 / 12.5 | 938 writes/s | 8 / 12.5 | 0.33x |"
        in lines
    )
    assert (
        "| 10,000 | SQLite | 410 writes/s | 8 / 12.5 | 500 writes/s | 8 / 12.5 | 0.82x |" in lines
    )
    assert (
        "| 10,000 | PostgreSQL | minimal app | 1.5 ms/write | 0.4 ms/write | 0.1 ms/write | 99% |"
        in lines
    )
    assert "| 10,000 | SQLite | Waymark | 1.5 ms/write |  | 0.1 ms/write | 99% |" in lines
