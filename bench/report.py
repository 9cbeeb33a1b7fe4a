"""The figures of bench/results.json as the tables of docs/PERFORMANCE.md.

The report is prose written by hand with tables written by the benchmarks:
each table sits between ``<!-- figures: NAME -->`` and ``<!-- end of
figures -->`` and is written again, from every figure on record, each time a
benchmark saves its results. The prose around the tables is left as it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

Figure = dict[str, Any]

BLOCK = re.compile(r"(<!-- figures: ([a-z-]+) -->\n)(.*?)(<!-- end of figures -->)", re.DOTALL)
_TARGET = re.compile(r"^\s*(<=|>=|<|>)\s*([\d,]+(?:\.\d+)?)")


def target_met(value: float, target: str | None) -> bool | None:
    """Whether ``value`` meets a target such as "< 15 ms" or ">= 25,000 events/s"
    (None if there is no target, or none that can be read)."""
    found = _TARGET.match(target or "")
    if found is None:
        return None
    bound = float(found.group(2).replace(",", ""))
    return {
        "<": value < bound,
        "<=": value <= bound,
        ">": value > bound,
        ">=": value >= bound,
    }[found.group(1)]


def number(figure: Figure | None) -> str:
    if figure is None:
        return ""
    value = figure["value"]
    return f"{value:,}" if isinstance(value, int) else f"{value:g}"


def shown(figure: Figure | None) -> str:
    """A figure with its unit ("" when there is none)."""
    if figure is None:
        return ""
    unit = figure["unit"]
    return f"{number(figure)}{'' if unit in ('x', '%') else ' '}{unit}"


class Figures:
    def __init__(self, figures: Sequence[Figure]) -> None:
        self.found = {(f["name"], f["size"]): f for f in figures}
        self.sizes = sorted({f["size"] for f in figures})

    def get(self, name: str, size: int) -> Figure | None:
        return self.found.get((name, size))

    def sizes_of(self, names: Sequence[str]) -> list[int]:
        return [s for s in self.sizes if any(self.get(n, s) for n in names)]


def _table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def by_size(columns: Sequence[tuple[str, str]]) -> Callable[[Figures], str]:
    """One row per size, one column per figure: (heading, figure name)."""

    def render(figures: Figures) -> str:
        names = [name for _, name in columns]
        rows = [
            [f"{size:,}", *(shown(figures.get(name, size)) for name in names)]
            for size in figures.sizes_of(names)
        ]
        return _table(["events", *(title for title, _ in columns)], rows)

    return render


def targets(figures: Figures) -> str:
    """Every figure that has a target, by size, each marked met or not."""
    named = sorted({n for (n, _), f in figures.found.items() if f.get("target")})
    sizes = figures.sizes_of(named)
    rows = []
    for name in named:
        cells, target = [], ""
        for size in sizes:
            found = figures.get(name, size)
            if found is None:
                cells.append("")
                continue
            target = found["target"] or target
            verdict = {True: "met", False: "**not met**", None: ""}[
                target_met(found["value"], found["target"])
            ]
            cells.append(f"{shown(found)} {verdict}".strip())
        rows.append([name, target, *cells])
    return _table(["figure", "target", *(f"{size:,}" for size in sizes)], rows)


READS = (
    ("timeline, first page (50)", "read_timeline_page"),
    ("timeline, second page (by cursor)", "read_timeline_second_page"),
    ("cohort comparison", "read_comparison"),
    ("project as of a past instant", "read_project_as_of"),
    ("search (one or two words)", "read_search"),
    ("audit log page (100)", "read_audit_page"),
)


def reads(figures: Figures) -> str:
    """p50 / p95 / p99 of each read, in ms, one column per size."""
    sizes = figures.sizes_of([f"{name}_p95" for _, name in READS])
    rows = []
    for title, name in READS:
        target = next(
            (
                f["target"]
                for s in sizes
                if (f := figures.get(f"{name}_p95", s)) is not None and f["target"]
            ),
            "",
        )
        cells = [
            " / ".join(number(figures.get(f"{name}_{p}", size)) for p in ("p50", "p95", "p99"))
            for size in sizes
        ]
        rows.append([title, f"p95 {target}" if target else "", *cells])
    head = ["read (ms)", "target", *(f"{size:,} p50 / p95 / p99" for size in sizes)]
    return _table(head, rows)


MODELS = ("directory", "audit_log", "project_history", "comparison", "cohort_timeline", "search")

TABLES: dict[str, Callable[[Figures], str]] = {
    "targets": targets,
    "data": by_size(
        [("generate", "generate_postgres"), ("verify and sign", "verify_and_sign_postgres")]
    ),
    "catch-up": by_size(
        [
            ("ours, one process", "catch_up_postgres"),
            ("two processes", "catch_up_two_processes_postgres"),
            ("stock runner", "catch_up_stock_runner_postgres"),
            ("raw INSERT", "catch_up_raw_insert_postgres"),
            ("ours / stock", "catch_up_vs_stock"),
            ("ours / raw", "catch_up_vs_raw_insert"),
        ]
    ),
    "catch-up-cpu": by_size(
        [
            ("Waymark (Python)", "catch_up_cpu_waymark"),
            ("PostgreSQL", "catch_up_cpu_postgres"),
            ("machine busy", "catch_up_machine_busy"),
        ]
    ),
    "catch-up-alone": by_size([(model, f"catch_up_alone_{model}") for model in MODELS]),
    "reads": reads,
    "memory": by_size(
        [
            ("largest process", "server_memory_rss"),
            ("its peak", "server_memory_peak_rss"),
            ("all serving processes", "server_memory_rss_all_processes"),
        ]
    ),
    "writes": by_size(
        [
            ("HTTP, 8 clients", "write_http_8_clients"),
            ("bare save", "write_bare_application_save"),
            ("bare save, db functions", "write_bare_save_db_functions"),
            ("raw INSERT + COMMIT", "write_raw_insert_commit"),
            ("HTTP / bare save", "write_http_vs_bare_save"),
            ("HTTP / raw", "write_http_vs_raw_insert"),
        ]
    ),
    "write-cpu": by_size(
        [
            ("HTTP: serving processes", "write_http_cpu_server"),
            ("projection worker", "write_http_cpu_projector"),
            ("PostgreSQL", "write_http_cpu_postgres"),
            ("client", "write_http_cpu_client"),
            ("machine busy", "write_http_machine_busy"),
            ("bare save: PostgreSQL", "write_bare_save_cpu_postgres"),
            ("client", "write_bare_save_cpu_client"),
            ("machine busy", "write_bare_save_machine_busy"),
        ]
    ),
}


def write_report(figures: Sequence[Figure], report: Path) -> None:
    """Write every table block of ``report`` again from ``figures``; a report with no
    blocks gets the targets table appended."""
    found = Figures(figures)
    text = report.read_text() if report.exists() else "# Performance\n"

    def fill(block: re.Match[str]) -> str:
        name = block.group(2)
        if name not in TABLES:
            raise ValueError(f"{report}: no table named {name!r} (known: {', '.join(TABLES)})")
        return f"{block.group(1)}{TABLES[name](found)}\n{block.group(4)}"

    if BLOCK.search(text):
        text = BLOCK.sub(fill, text)
    else:
        text = (
            text.rstrip("\n") + f"\n\n## Figures\n\n<!-- figures: targets -->\n{targets(found)}\n"
            "<!-- end of figures -->\n"
        )
    report.write_text(text)
