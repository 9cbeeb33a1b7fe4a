"""What the benchmarks share: throw-away databases, the machine, results, percentiles."""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import statistics
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ADMIN_URL = os.environ.get("BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
RESULTS = ROOT / "bench" / "results.json"
REPORT = ROOT / "docs" / "PERFORMANCE.md"
#: The part of the report the benchmarks write (from results.json); the rest is prose.
REPORT_BEGIN = "<!-- figures: written by the benchmarks from bench/results.json -->"
REPORT_END = "<!-- end of figures -->"


@contextmanager
def throwaway_database(admin_url: str = ADMIN_URL) -> Iterator[str]:
    """A new, empty PostgreSQL database for one measurement, dropped afterwards."""
    name = f"waymark_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{admin_url.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(Path(tempfile.gettempdir()) / "waymark-bench" / name, ignore_errors=True)


def settle(url: str) -> None:
    """What autovacuum has long since done for a record that grew over years: a generated
    one was written in minutes, and reads straight after would set its rows' hint bits,
    guess without statistics and share the disk with the checkpoint."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        conn.execute("CHECKPOINT")


def postgres_answers(admin_url: str = ADMIN_URL) -> bool:
    try:
        with psycopg.connect(admin_url, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def data_dir_for(url: str) -> Path:
    """The data folder (signing key) that goes with a throw-away database."""
    path = Path(tempfile.gettempdir()) / "waymark-bench" / url.rsplit("/", 1)[-1]
    path.mkdir(parents=True, exist_ok=True)
    return path


def machine(admin_url: str = ADMIN_URL) -> str:
    with psycopg.connect(admin_url, connect_timeout=3) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    version = row[0].split()[0] if row else "?"
    load = os.getloadavg()[0]
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, PostgreSQL {version}, load {load:.1f}"
    )


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50, p95, p99 of samples in seconds, as milliseconds."""
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {"p50": cuts[49] * 1000, "p95": cuts[94] * 1000, "p99": cuts[98] * 1000}


class Results:
    """Figures of one run, written to bench/results.json (replacing same name and size)."""

    def __init__(self, record: bool, where: str | None = None) -> None:
        self.record = record
        self.figures: list[dict[str, Any]] = []
        self.where = where or machine()

    def add(self, name: str, value: float, unit: str, size: int, target: str | None = None) -> None:
        figure = {
            "name": name,
            "value": round(value, 2) if value < 100 else round(value),
            "unit": unit,
            "target": target,
            "size": size,
        }
        self.figures.append(figure)
        shown = f"{figure['value']:,}" if isinstance(figure["value"], int) else figure["value"]
        goal = f"  (target {target})" if target else ""
        print(f"  {name:<34} {shown:>12} {unit:<10} size {size:,}{goal}", flush=True)

    def save(self, results: Path = RESULTS, report: Path = REPORT) -> None:
        """Merge this run's figures into ``results`` and write them all into ``report``."""
        if not self.record or not self.figures:
            return
        today = date.today().isoformat()
        kept = json.loads(results.read_text()) if results.exists() else []
        new = {(f["name"], f["size"]) for f in self.figures}
        kept = [f for f in kept if (f["name"], f["size"]) not in new]
        kept.extend({**f, "date": today, "machine": self.where} for f in self.figures)
        kept.sort(key=lambda f: (f["name"], f["size"]))
        results.write_text(json.dumps(kept, indent=2) + "\n")
        write_report(kept, report)


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


def _shown(figure: dict[str, Any]) -> str:
    value = figure["value"]
    number = f"{value:,}" if isinstance(value, int) else f"{value:g}"
    return f"{number} {figure['unit']}"


def report_markdown(figures: list[dict[str, Any]]) -> str:
    """The figures as Markdown: the targets by size, then every figure."""
    sizes = sorted({f["size"] for f in figures})
    targeted = sorted({f["name"] for f in figures if f.get("target")})
    lines = [
        "### Targets",
        "",
        "| figure | target | " + " | ".join(f"{size:,}" for size in sizes) + " |",
        "| --- | --- |" + " --- |" * len(sizes),
    ]
    for name in targeted:
        cells, target = [], ""
        for size in sizes:
            found = next((f for f in figures if f["name"] == name and f["size"] == size), None)
            if found is None:
                cells.append("")
                continue
            target = found["target"] or target
            met = target_met(found["value"], found["target"])
            verdict = {True: "met", False: "**not met**", None: ""}[met]
            cells.append(f"{_shown(found)} {verdict}".strip())
        lines.append(f"| {name} | {target} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "### Every figure",
        "",
        "| figure | size | value | target | date |",
        "| --- | --- | --- | --- | --- |",
    ]
    for f in sorted(figures, key=lambda f: (f["name"], f["size"])):
        lines.append(
            f"| {f['name']} | {f['size']:,} | {_shown(f)} | {f.get('target') or ''}"
            f" | {f.get('date', '')} |"
        )
    machines = sorted({f["machine"] for f in figures if f.get("machine")})
    if machines:
        lines += ["", "Measured on: " + "; ".join(machines) + "."]
    return "\n".join(lines)


def write_report(figures: list[dict[str, Any]], report: Path = REPORT) -> None:
    """Put the figures between the report's markers (appended, with them, if missing)."""
    block = f"{REPORT_BEGIN}\n{report_markdown(figures)}\n{REPORT_END}"
    text = report.read_text() if report.exists() else "# Performance\n"
    if REPORT_BEGIN in text and REPORT_END in text:
        before, rest = text.split(REPORT_BEGIN, 1)
        after = rest.split(REPORT_END, 1)[1]
        text = before + block + after
    else:
        text = text.rstrip("\n") + "\n\n## Figures\n\n" + block + "\n"
    report.write_text(text)
