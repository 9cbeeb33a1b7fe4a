"""The figures of bench/results.json as the tables of docs/PERFORMANCE.md, and which
targets they meet.

The report is prose written by hand with tables written by the benchmarks:
each table sits between ``<!-- figures: NAME -->`` and ``<!-- end of
figures -->`` and is written again, from every figure on record, each time a
benchmark saves its results. The prose around the tables is left as it is.

A figure with a target carries it in a form a program can check: ``target``, a
number; ``better``, ``"higher"`` (met when the value is at least the target) or
``"lower"`` (met when it is below); and ``target_text`` for people. A ratio to a
reference measured in the same run names both figures it divides, ``of`` and
``reference`` (name, value, unit). ``python -m bench.report --check`` lists every
figure on record with a target and fails if one is not met.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

Figure = dict[str, Any]

BLOCK = re.compile(r"(<!-- figures: ([a-z-]+) -->\n)(.*?)(<!-- end of figures -->)", re.DOTALL)


@dataclass(frozen=True)
class Target:
    """What a figure must reach: at least ``bound`` (``better="higher"``) or below it
    (``better="lower"``); ``text`` says it for people."""

    bound: float
    better: Literal["higher", "lower"]
    text: str

    @classmethod
    def at_least(cls, bound: float, text: str) -> Target:
        return cls(bound, "higher", text)

    @classmethod
    def below(cls, bound: float, text: str) -> Target:
        return cls(bound, "lower", text)


def target_met(figure: Figure) -> bool | None:
    """Whether a recorded figure meets its target (None if it has none)."""
    bound = figure.get("target")
    if bound is None:
        return None
    better = figure.get("better")
    if better == "higher":
        return bool(figure["value"] >= bound)
    if better == "lower":
        return bool(figure["value"] < bound)
    raise ValueError(f"{figure['name']}: 'better' is {better!r}, not 'higher' or 'lower'")


def verdicts(figures: Sequence[Figure]) -> list[tuple[str, int, bool]]:
    """For each figure with a target: its name, its size and whether the target is met."""
    return [
        (f["name"], f["size"], met)
        for f in sorted(figures, key=lambda f: (f["name"], f["size"]))
        if (met := target_met(f)) is not None
    ]


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
    """Every figure that has a target, by size, each marked met or not, a ratio with the
    reference it was measured against."""
    named = sorted({n for (n, _), f in figures.found.items() if f.get("target") is not None})
    sizes = figures.sizes_of(named)
    rows = []
    for name in named:
        cells, target = [], ""
        for size in sizes:
            found = figures.get(name, size)
            if found is None or found.get("target") is None:
                cells.append("")
                continue
            target = found["target_text"]
            verdict = "met" if target_met(found) else "**not met**"
            reference = found.get("reference")
            against = f" (reference {shown(reference)})" if reference else ""
            cells.append(f"{shown(found)} {verdict}{against}")
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
                f["target_text"]
                for s in sizes
                if (f := figures.get(f"{name}_p95", s)) is not None and f.get("target") is not None
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


#: The databases the write benchmark runs on: (name in figures, name for people).
DATABASES = (("postgres", "PostgreSQL"), ("sqlite", "SQLite"))
#: The two servers of the write benchmark: (name in figures, name for people).
WRITERS = (("waymark", "Waymark"), ("minimal_app", "minimal app"))


def writes(figures: Figures) -> str:
    """Waymark's entry writes against the minimal app's, one row per size and database."""
    rows = []
    for size in figures.sizes:
        for db, database in DATABASES:
            if figures.get(f"write_waymark_{db}", size) is None:
                continue
            cells = []
            for writer, _ in WRITERS:
                base = f"write_{writer}_{db}"
                cells.append(shown(figures.get(base, size)))
                cells.append(
                    " / ".join(number(figures.get(f"{base}_{p}", size)) for p in ("p50", "p95"))
                )
            ratio = shown(figures.get(f"write_vs_minimal_app_{db}", size))
            rows.append([f"{size:,}", database, *cells, ratio])
    head = [
        "events",
        "database",
        "Waymark",
        "p50 / p95 (ms)",
        "minimal app",
        "p50 / p95 (ms)",
        "Waymark / minimal",
    ]
    return _table(head, rows)


def write_cpu(figures: Figures) -> str:
    """CPU time per write of each server and of its database, and how busy the machine was."""
    rows = []
    parts = ("server", "database", "client")
    for size in figures.sizes:
        for db, database in DATABASES:
            for writer, title in WRITERS:
                base = f"write_{writer}_{db}"
                if figures.get(base, size) is None:
                    continue
                cells = [shown(figures.get(f"{base}_cpu_{part}", size)) for part in parts]
                cells.append(shown(figures.get(f"{base}_machine_busy", size)))
                rows.append([f"{size:,}", database, title, *cells])
    head = ["events", "database", "app", "server", "database", "client", "machine busy"]
    return _table(head, rows)


MODELS = ("directory", "entries", "comparison", "audit_log", "collaboration")

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
            ("two processes / stock", "catch_up_two_processes_vs_stock"),
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
    "storage": by_size(
        [
            ("event store", "storage_event_store"),
            ("read models", "storage_read_models"),
            ("read models / event store", "storage_read_models_vs_event_store"),
            *((model, f"storage_{model}") for model in MODELS),
        ]
    ),
    "reads": reads,
    "memory": by_size(
        [
            ("largest process", "server_memory_rss"),
            ("its peak", "server_memory_peak_rss"),
            ("all serving processes", "server_memory_rss_all_processes"),
        ]
    ),
    "writes": writes,
    "write-cpu": write_cpu,
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


def main() -> None:
    from bench.common import RESULTS

    parser = argparse.ArgumentParser(description="Which recorded targets are met.")
    parser.add_argument("results", nargs="?", type=Path, default=RESULTS)
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is not met")
    args = parser.parse_args()
    found = verdicts(json.loads(args.results.read_text()))
    for name, size, met in found:
        print(f"{'met    ' if met else 'NOT MET'}  {name} at {size:,}")
    if args.check and not all(met for _, _, met in found):
        sys.exit(1)


if __name__ == "__main__":
    main()
