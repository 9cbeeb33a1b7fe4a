"""Issue 4: read models are exactly-once and rebuildable.

Whatever the batches and however often the worker restarts, the read-model
tables end up exactly as a rebuild from the event log makes them.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from domain.errors import DomainError
from domain.segments import default_mapping
from projections.audit_log import AuditLog
from projections.base import ReadModel, instant
from projections.comparison import ComparisonQuery, comparison
from projections.log import EventLog
from projections.projector import Projector
from services.container import Waymark, read_models
from services.settings import Settings
from tests.helpers import read_model_rows
from web.cli import app as cli

TODAY = date.today()
CODES = ("GB-A", "GB-B", "GB-C")
PHASES = ("discovery", "alpha", "private_beta", "paused", "live", "stopped")
KINDS = (
    "problem_statement_iterated",
    "capacity_decided",
    "sponsor_check_in",
    "members_engaged",
    "concern_raised",
    "support_requested",
)
_runs = itertools.count()

step = st.one_of(
    st.tuples(st.just("entry"), st.integers(0, 5), st.sampled_from(KINDS), st.integers(0, 3)),
    st.tuples(st.just("phase"), st.integers(0, 5), st.sampled_from(PHASES), st.integers(0, 3)),
    st.tuples(st.just("correct"), st.integers(0, 5), st.integers(0, 20), st.integers(0, 3)),
    st.tuples(st.just("resolve"), st.integers(0, 5), st.integers(0, 20), st.integers(0, 3)),
    st.tuples(
        st.just("assess"), st.integers(0, 2), st.sampled_from(("low", "high")), st.integers(0, 3)
    ),
    st.tuples(st.just("mapping"), st.integers(0, 2), st.just(""), st.integers(0, 3)),
    st.tuples(st.just("succession"), st.integers(0, 2), st.just(""), st.integers(0, 2)),
    st.tuples(st.just("withdraw"), st.integers(0, 5), st.just(""), st.integers(0, 3)),
)


#: What a correction can change the comparison's figures of, and corrections.
correctable = st.tuples(
    st.just("entry"),
    st.integers(0, 5),
    st.sampled_from(("capacity_decided", "sponsor_check_in")),
    st.integers(0, 3),
)
correction = st.tuples(st.just("correct"), st.integers(0, 5), st.integers(0, 20), st.integers(0, 3))


def play(waymark: Waymark, steps: list[tuple[str, int, str, int]]) -> None:
    """A programme with two cohorts and three councils, then the steps (refused ones skipped)."""
    records, run, actor = waymark.records, next(_runs), "tester"
    programme = records.launch_programme(name="P", description="", sponsor_body="", actor=actor).id
    cohorts = [
        records.form_cohort(
            programme_id=programme,
            name=f"C{n}",
            starts_on=TODAY - timedelta(days=30),
            ends_on=TODAY + timedelta(days=60),
            actor=actor,
        ).id
        for n in range(2)
    ]
    codes = [f"{code}-{run}" for code in CODES]
    projects = []
    for n, code in enumerate(codes):
        records.register_council(
            code=code,
            name=code,
            council_type="district",
            region="london",
            population=50_000 * (n + 1) ** 3,
            gss_code=None,
            political_control=None,
            actor=actor,
        )
        for cohort_id in cohorts[: n % 2 + 1]:
            projects.append(
                records.enrol_council(
                    cohort_id=cohort_id, council_code=code, title=code, actor=actor
                ).id
            )
    choices = ("make", "buy", "share", "experiment")
    for action, target, word, number in steps:
        day = TODAY - timedelta(days=number * 3)
        try:
            if action in ("entry", "phase", "correct", "resolve", "withdraw"):
                project_id = projects[target % len(projects)]
                state = records.get_project(project_id)
            if action == "entry":
                values = {
                    "problem_statement_iterated": {"statement": f"Statement {number}"},
                    "capacity_decided": {"capability": "X", "choice": choices[number]},
                    "sponsor_check_in": {"team_health": ("green", "amber", "red", "red")[number]},
                    "members_engaged": {"how": "Briefing"},
                    "concern_raised": {"category": "privacy", "description": "Data"},
                    "support_requested": {"wish": "Peers", "from_whom": "lga"},
                }[word]
                records.record_entry(
                    project_id=project_id, kind=word, decided_on=day, values=values, actor=actor
                )
            elif action == "phase":
                records.record_entry(
                    project_id=project_id,
                    kind="phase_changed",
                    decided_on=day,
                    values={"phase": word, "reason": "Because" if number else ""},
                    actor=actor,
                )
            elif action == "correct":
                latest = [e for e in state.entries.values() if e.superseded_by is None]
                if not latest:
                    continue
                chosen = latest[number * 7 % len(latest)]
                kind = state.corrected_kind(chosen)
                replacement: dict[str, Any] = {"decided_on": day.isoformat()}
                if kind == "capacity_decided":
                    replacement["choice"] = choices[(number + 1) % 4]
                elif kind == "sponsor_check_in":
                    replacement["team_health"] = "green"
                records.record_entry(
                    project_id=project_id,
                    kind="entry_corrected",
                    decided_on=None,
                    values={
                        "corrects": str(chosen.entry_id),
                        "reason_kind": "recording_error",
                        "reason": "Typo",
                        "replacement": replacement,
                    },
                    actor=actor,
                )
            elif action == "resolve":
                open_concerns = state.open_concerns()
                if open_concerns:
                    records.record_entry(
                        project_id=project_id,
                        kind="concern_resolved",
                        decided_on=None,
                        values={"concern_entry_id": str(open_concerns[0]), "resolution": "Done"},
                        actor=actor,
                    )
            elif action == "withdraw":
                records.withdraw_council(
                    cohort_id=state.cohort_id,
                    council_code=state.council_code,
                    reason="R",
                    actor=actor,
                )
            elif action == "assess":
                records.assess_financial_context(
                    code=codes[target],
                    assessed_on=day,
                    demand_pressure=word,
                    financial_pressure="medium",
                    note=None,
                    actor=actor,
                )
            elif action == "mapping":
                mapping = default_mapping()
                mapping["low/medium"] = (
                    "besieged",
                    "high_potential",
                    "cost_innovators",
                    "fast_followers",
                )[number]
                records.configure_segments(programme_id=programme, mapping=mapping, actor=actor)
            elif action == "succession":
                records.record_succession(
                    code=codes[target],
                    successor_codes=[codes[(target + 1 + number % 2) % 3]],
                    effective_from=day,
                    actor=actor,
                )
        except DomainError:
            continue


#: A few random histories per test: each is played on a real database, so they cost.
random_histories = settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


def apply_in_random_batches(waymark: Waymark, data: st.DataObject, *, restarts: bool) -> None:
    """Catch up to the log's head in batches of random sizes, by workers that restart at
    random (if ``restarts``): nothing carried over in memory from one to the next."""
    head = waymark.projector.log.head()
    projector = fresh_projector(waymark)
    while min(projector.positions().values()) < head:
        if restarts and data.draw(st.booleans(), label="restart"):
            projector = fresh_projector(waymark)
        projector.catch_up_once(limit=data.draw(st.integers(1, 12), label="batch"))


def fresh_projector(waymark: Waymark, models: list[ReadModel] | None = None) -> Projector:
    """A new worker, as after a restart: nothing carried over in memory."""
    return Projector(
        waymark.database,
        EventLog(waymark.records.recorder, waymark.records.mapper),
        models or read_models(),
    )


@random_histories
@given(steps=st.lists(step, min_size=5, max_size=40), data=st.data())
def test_incremental_batches_and_restarts_give_the_tables_a_rebuild_gives(
    waymark: Waymark, steps: list[tuple[str, int, str, int]], data: st.DataObject
) -> None:
    # Given a random history
    play(waymark, steps)

    # When it is applied in random batches, by workers that restart at random
    apply_in_random_batches(waymark, data, restarts=True)
    incremental = read_model_rows(waymark)

    # Then the tables are exactly those of a rebuild from scratch
    fresh_projector(waymark).rebuild()
    assert read_model_rows(waymark) == incremental


@random_histories
@given(
    steps=st.lists(st.one_of(step, correctable, correction), min_size=10, max_size=40),
    data=st.data(),
)
def test_the_comparison_kept_batch_by_batch_is_the_one_folded_again_from_every_fact(
    waymark: Waymark, steps: list[tuple[str, int, str, int]], data: st.DataObject
) -> None:
    # Given a random history, corrections of corrections among it, applied in random batches
    play(waymark, steps)
    apply_in_random_batches(waymark, data, restarts=True)

    # Then each programme's comparison, from the summaries and entry rows kept as it went,
    # is the one folded in memory from every fact (as of an instant after them all)
    later = instant(datetime.now(UTC) + timedelta(days=1))
    for row in waymark.database.all("SELECT DISTINCT programme_id FROM cmp_cohorts"):
        asked = ComparisonQuery(today=TODAY, programme_id=row["programme_id"])
        kept = comparison(waymark.database, asked)
        assert kept == comparison(waymark.database, replace(asked, as_of=later))
        assert kept


class AuditLogV2(AuditLog):
    """The audit log as if its definition had changed."""

    version = AuditLog.version + 1


def test_a_read_model_whose_version_changes_is_rebuilt_on_start(waymark: Waymark) -> None:
    play(waymark, [("entry", 0, "problem_statement_iterated", 1), ("phase", 1, "alpha", 0)])
    waymark.projector.catch_up()
    before = read_model_rows(waymark)["audit_log"]
    assert len(before) == waymark.projector.log.head()

    others = [m for m in read_models() if m.name != "audit_log"]
    restarted = fresh_projector(waymark, [*others, AuditLogV2()])
    assert restarted.prepare() == ["audit_log"]
    status = {s.name: s for s in restarted.status()}
    assert status["audit_log"].version == AuditLogV2.version
    assert status["audit_log"].position == 0
    assert status["cohort_timeline"].lag == 0

    restarted.catch_up()
    assert read_model_rows(waymark)["audit_log"] == before
    assert fresh_projector(waymark, [*others, AuditLogV2()]).prepare() == []


def test_the_command_line_rebuilds_one_read_model_and_reports_status(
    settings: Settings, monkeypatch: Any
) -> None:
    monkeypatch.setenv("WAYMARK_DATA_DIR", str(settings.data_dir))
    if settings.database_url:
        monkeypatch.setenv("WAYMARK_DATABASE_URL", settings.database_url)
    waymark = Waymark(settings)
    try:
        play(waymark, [("entry", 0, "members_engaged", 1)])
        head = waymark.projector.log.head()
    finally:
        waymark.close()
    runner = CliRunner()

    rebuilt = runner.invoke(cli, ["projections", "rebuild", "search"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert f"Rebuilt from {head} events" in rebuilt.output
    status = runner.invoke(cli, ["projections", "status"])
    assert status.exit_code == 0, status.output
    assert "search" in status.output and "audit_log" in status.output
    unknown = runner.invoke(cli, ["projections", "rebuild", "nonsense"])
    assert unknown.exit_code == 2


def test_a_rebuild_leaves_the_query_planner_statistics_on_every_table_it_filled(
    waymark: Waymark,
) -> None:
    play(waymark, [("entry", n % 3, "problem_statement_iterated", 1) for n in range(12)])
    waymark.projector.rebuild()

    filled = [
        table
        for model in read_models()
        for table in model.tables
        if waymark.database.one(f"SELECT 1 AS found FROM {table} LIMIT 1")
    ]
    assert "tl_entries" in filled and "audit_log" in filled
    if waymark.database.dialect == "postgres":
        rows = waymark.database.all(
            "SELECT DISTINCT tablename AS name FROM pg_stats WHERE schemaname = 'public'"
        )
    else:
        rows = waymark.database.all("SELECT DISTINCT tbl AS name FROM sqlite_stat1")
        # Full-text (FTS5) tables keep their own statistics.
        virtual = waymark.database.all(
            "SELECT name FROM sqlite_master WHERE sql LIKE 'CREATE VIRTUAL TABLE%'"
        )
        filled = [table for table in filled if table not in {row["name"] for row in virtual}]
    assert set(filled) <= {row["name"] for row in rows}
