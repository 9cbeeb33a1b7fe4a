"""Issue 4: read models are exactly-once and rebuildable.

Whatever the batches and however often the worker restarts, the read-model
tables end up exactly as a rebuild from the event log makes them.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from domain.errors import DomainError, NotFound
from domain.segments import default_mapping
from projections.audit_log import AuditLog
from projections.base import ReadModel
from projections.catalogue import RETIRED, read_models
from projections.comparison import ComparisonQuery, comparison
from projections.funding import FundingQuery, funding
from projections.log import EventLog
from projections.projector import Projector
from services.container import Waymark
from services.queries import cohort_view, council_view, plain, programme_view
from services.settings import Settings
from storage.times import instant
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
    "output_published",
    "grant_awarded",
    "match_funding_committed",
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
    st.tuples(
        st.just("pay"), st.integers(0, 5), st.sampled_from(("payment", "close")), st.integers(0, 3)
    ),
    st.tuples(
        st.just("partner"),
        st.integers(0, 5),
        st.sampled_from(("joined", "left")),
        st.integers(0, 3),
    ),
)
#: Outcomes: benefits defined, measured and closed, and assessments held.
outcome_step = st.tuples(
    st.sampled_from(("benefit", "measure", "measure", "close", "assessment")),
    st.integers(0, 5),
    st.sampled_from(("met", "met_with_conditions", "not_met")),
    st.integers(0, 3),
)


#: The amount a correction changes, by the kind of the entry it corrects.
MONEY = {
    "grant_awarded": "amount",
    "payment_made": "amount",
    "match_funding_committed": "amount",
    "grant_closed": "amount_paid",
}

#: What a correction can change the comparison's figures of, and corrections.
correctable = st.tuples(
    st.just("entry"),
    st.integers(0, 5),
    st.sampled_from(("capacity_decided", "sponsor_check_in")),
    st.integers(0, 3),
)
correction = st.tuples(st.just("correct"), st.integers(0, 5), st.integers(0, 20), st.integers(0, 3))


def play(
    waymark: Waymark,
    steps: list[tuple[str, int, str, int]],
    before_step: Callable[[int], None] | None = None,
) -> None:
    """A programme with two cohorts and three councils (the first leading two projects in
    the first cohort), then the steps (refused ones skipped)."""
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
    # The first council leads a second project in the first cohort
    projects.append(
        records.enrol_council(
            cohort_id=cohorts[0], council_code=codes[0], title="Second", actor=actor
        ).id
    )
    choices = ("make", "buy", "share", "experiment")
    for index, (action, target, word, number) in enumerate(steps):
        if before_step is not None:
            before_step(index)
        day = TODAY - timedelta(days=number * 3)
        try:
            if action in (
                "entry",
                "phase",
                "correct",
                "resolve",
                "withdraw",
                "pay",
                "partner",
                *("benefit", "measure", "close", "assessment"),
            ):
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
                    "output_published": {
                        "output_kind": "guidance",
                        "title": f"Guide {number}",
                        "url": "https://example.org/guide",
                        "licence": "OGL",
                        "phase": "alpha",
                    },
                    "grant_awarded": {
                        "funder": "Ministry",
                        "amount": f"{10_000 * (number + 1)}.50",
                        "purpose": "Alpha",
                    },
                    "match_funding_committed": {"amount": f"{number}.05", "source": "Reserves"},
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
            elif action in ("benefit", "measure", "close", "assessment"):
                record_outcome(waymark, project_id, state, action, word, number, day)
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
                elif kind in MONEY:
                    replacement[MONEY[kind]] = f"{1_000 * (number + 2)}.01"
                elif kind == "benefit_defined":
                    replacement["target_value"] = ("40", "160", "100", "55.5")[number]
                    replacement["target_on"] = (TODAY + timedelta(days=number * 9 - 12)).isoformat()
                elif kind == "benefit_measured":
                    replacement["value"] = ("35", "170", "100", "-2.25")[number]
                    replacement["measured_on"] = (day - timedelta(days=number)).isoformat()
                elif kind == "assessment_held":
                    replacement["result"] = ("not_met", "met", "met_with_conditions", "met")[number]
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
            elif action == "pay":
                grants = state.grants()
                if not grants:
                    continue
                grant = str(grants[number % len(grants)].entry_id)
                kind, values = (
                    ("payment_made", {"grant_entry_id": grant, "amount": f"{number + 1}000.10"})
                    if word == "payment"
                    else ("grant_closed", {"grant_entry_id": grant, "amount_paid": "1.00"})
                )
                records.record_entry(
                    project_id=project_id, kind=kind, decided_on=day, values=values, actor=actor
                )
            elif action == "partner":  # a council joins or leaves (refused ones are skipped)
                records.record_entry(
                    project_id=project_id,
                    kind=f"partner_{word}",
                    decided_on=day,
                    values={
                        "council_code": partner_code(state, word, codes[number % 3]),
                        "reason": "R",
                    },
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


def partner_code(state: Any, word: str, code: str) -> str:
    """The council a step names: for a leave, a partner of the project if it has one."""
    return min(state.partners) if word == "left" and state.partners else code


def record_outcome(
    waymark: Waymark, project_id: Any, state: Any, action: str, word: str, number: int, day: date
) -> None:
    """A benefit defined, measured or closed, or an assessment held, from the step's numbers."""
    benefits = [e for e in state.entries.values() if e.kind == "benefit_defined"]
    values: dict[str, Any]
    if action == "benefit":
        kind = "benefit_defined"
        values = {
            "measure": f"Measure {number}",
            "unit": ("calls", "GBP")[number % 2],
            "baseline_value": "100",
            "baseline_on": (day - timedelta(days=30)).isoformat(),
            "target_value": ("50", "150", "100", "0.5")[number],
            "target_on": (TODAY + timedelta(days=number * 10 - 15)).isoformat(),
            "cashable": number % 2 == 1,
        }
    elif action in ("measure", "close"):
        if not benefits:
            return
        benefit = str(benefits[number % len(benefits)].entry_id)
        if action == "measure":
            kind = "benefit_measured"
            values = {
                "benefit_entry_id": benefit,
                "value": ("45", "160", "90", "120")[number],
                "measured_on": day.isoformat(),
            }
        else:
            kind = "benefit_closed"
            outcome = ("realised", "abandoned")[number % 2]
            values = {"benefit_entry_id": benefit, "outcome": outcome, "reason": "R"}
    else:
        kind = "assessment_held"
        values = {"phase": ("alpha", "private_beta", "alpha", "live")[number], "result": word}
    waymark.records.record_entry(
        project_id=project_id, kind=kind, decided_on=day, values=values, actor="tester"
    )


def outcomes_from_the_record(waymark: Waymark, as_of: datetime | None) -> dict[str, Any]:
    """Each project's benefits (status, figures) and latest assessment, worked out here from
    the project aggregates as they stood ``as_of``, by the rule in docs/DOMAIN.md."""
    today = as_of.date() if as_of is not None else TODAY
    found: dict[str, Any] = {}
    for row in waymark.database.all("SELECT project_id FROM out_projects"):
        try:
            state = waymark.records.get_project(UUID(row["project_id"]), as_of=as_of)
        except NotFound:
            continue
        kept = {e.entry_id: state.in_force(e) for e in state.entries.values() if not e.corrects}
        benefits = {}
        for entry_id, values in kept.items():
            if state.entries[entry_id].kind != "benefit_defined":
                continue
            figures = sorted(
                (
                    (str(v["measured_on"]), state.entries[i].recorded_at, str(v["value"]))
                    for i, v in kept.items()
                    if state.entries[i].kind == "benefit_measured"
                    and v["benefit_entry_id"] == entry_id
                )
            )
            closed = [
                v["outcome"]
                for i, v in kept.items()
                if state.entries[i].kind == "benefit_closed" and v["benefit_entry_id"] == entry_id
            ]
            baseline, target = Decimal(values["baseline_value"]), Decimal(values["target_value"])
            target_on = str(values["target_on"])
            in_time = [Decimal(f[2]) for f in figures if f[0] <= target_on]
            rising = target >= baseline
            if closed and closed[-1] == "abandoned":
                status = "abandoned"
            elif closed or (
                in_time and (in_time[-1] >= target if rising else in_time[-1] <= target)
            ):
                status = "met"
            else:
                status = "missed" if today.isoformat() > target_on else "on_track"
            benefits[str(entry_id)] = (status, [(f[0], f[2]) for f in figures])
        assessments = sorted(
            (str(v["decided_on"]), state.entries[i].recorded_at, v["phase"], v["result"])
            for i, v in kept.items()
            if state.entries[i].kind == "assessment_held"
        )
        latest = assessments[-1] if assessments else None
        found[row["project_id"]] = (
            benefits,
            (latest[0], latest[2], latest[3]) if latest else None,
        )
    return found


def outcomes_kept(waymark: Waymark, as_of: datetime | None) -> dict[str, Any]:
    """The same, as the outcomes read model answers it."""
    found: dict[str, Any] = {}
    for row in waymark.database.all("SELECT project_id FROM out_projects"):
        project_id = UUID(row["project_id"])
        if as_of is not None:
            try:
                waymark.records.get_project(project_id, as_of=as_of)
            except NotFound:
                continue
        answer = waymark.queries.project_outcomes(project_id, as_of=as_of)
        benefits = {
            b["entry_id"]: (
                b["status"],
                [(m["measured_on"], m["value"]) for m in b["measurements"]],
            )
            for b in answer["benefits"]
        }
        latest = answer["latest_assessment"]
        found[row["project_id"]] = (
            benefits,
            (latest["decided_on"], latest["phase"], latest["result"]) if latest else None,
        )
    return found


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
@given(steps=st.lists(st.one_of(step, outcome_step), min_size=5, max_size=40), data=st.data())
def test_incremental_batches_and_restarts_give_the_tables_a_rebuild_gives(
    waymark: Waymark, steps: list[tuple[str, int, str, int]], data: st.DataObject
) -> None:
    # Given a random history
    play(waymark, steps)

    # When it is applied in random batches, by workers that restart at random
    apply_in_random_batches(waymark, data, restarts=True)
    incremental = read_model_rows(waymark)
    # (SQLite's search index, FTS5 over the entries' terms, is kept by hand as terms grow:
    # it must index exactly what the rows hold; PostgreSQL's is an index of the table.)
    if waymark.database.dialect == "sqlite":
        with waymark.database.transaction() as tx:
            tx.execute("INSERT INTO entry_terms (entry_terms, rank) VALUES ('integrity-check', 1)")

    # Then the tables are exactly those of a rebuild from scratch
    fresh_projector(waymark).rebuild()
    assert read_model_rows(waymark) == incremental
    # And each project's partners are those in force in the project itself, in the
    # directory and in the partner spells still open
    for row in waymark.database.all("SELECT project_id FROM dir_projects"):
        state = waymark.records.get_project(UUID(row["project_id"]))
        for sql in (
            "SELECT council_code FROM dir_partners WHERE project_id = ?",
            "SELECT council_code FROM entry_partners WHERE project_id = ? AND left_at IS NULL",
        ):
            found = waymark.database.all(sql, (row["project_id"],))
            assert {r["council_code"] for r in found} == state.partners
    # And each programme, cohort and council, read whole, is what its record replays to
    queries, records = waymark.queries, waymark.records
    for row in waymark.database.all("SELECT programme_id FROM dir_programmes"):
        programme_id = UUID(row["programme_id"])
        assert queries.programme_record(programme_id) == programme_view(
            records.get_programme(programme_id)
        )
    for row in waymark.database.all("SELECT cohort_id FROM dir_cohorts"):
        cohort_id = UUID(row["cohort_id"])
        assert queries.cohort_record(cohort_id) == cohort_view(records.get_cohort(cohort_id))
    for row in waymark.database.all("SELECT code FROM dir_councils"):
        assert queries.council_record(row["code"]) == council_view(records.get_council(row["code"]))


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


#: Funding entries, payments and closures, and corrections of their amounts and dates.
funded = st.one_of(
    st.tuples(
        st.just("entry"),
        st.integers(0, 5),
        st.sampled_from(("grant_awarded", "match_funding_committed")),
        st.integers(0, 3),
    ),
    st.tuples(
        st.just("pay"), st.integers(0, 5), st.sampled_from(("payment", "close")), st.integers(0, 3)
    ),
    correction,
)


def in_force_by_the_record(waymark: Waymark, project_id: str, as_of: datetime) -> dict[str, Any]:
    """A project's funding worked out from its aggregate as it stood: each entry's values
    after its latest correction, summed (no read-model code)."""
    try:
        project = waymark.records.get_project(UUID(project_id), as_of=as_of)
    except DomainError:
        return {"grants": {}, "awarded": "0.00", "paid": "0.00", "matched": "0.00"}

    def now(entry_id: UUID) -> dict[str, Any]:
        latest = project.current(entry_id)
        first = project.entries[entry_id]
        values = latest.effective if latest.corrects is not None else first.fields
        return {"decided_on": first.decided_on.isoformat(), **plain(values)}

    kinds: dict[str, list[dict[str, Any]]] = {}
    for e in project.entries.values():
        if e.kind != "entry_corrected":
            kinds.setdefault(e.kind, []).append(now(e.entry_id) | {"entry_id": str(e.entry_id)})
    grants = {g["entry_id"]: g for g in kinds.get("grant_awarded", [])}
    paid = {g: Decimal(0) for g in grants}
    for payment in kinds.get("payment_made", []):
        paid[payment["grant_entry_id"]] += Decimal(payment["amount"])
    cents = Decimal("0.01")
    return {
        "grants": {
            g: (v["amount"], v["decided_on"], str(paid[g].quantize(cents)))
            for g, v in grants.items()
        },
        "awarded": str(
            sum((Decimal(g["amount"]) for g in grants.values()), Decimal(0)).quantize(cents)
        ),
        "paid": str(sum(paid.values(), Decimal(0)).quantize(cents)),
        "matched": str(
            sum(
                (Decimal(m["amount"]) for m in kinds.get("match_funding_committed", [])), Decimal(0)
            ).quantize(cents)
        ),
    }


@random_histories
@given(steps=st.lists(st.one_of(funded, step), min_size=10, max_size=40), data=st.data())
def test_the_funding_totals_are_the_records_values_in_force_now_and_as_of_any_instant(
    waymark: Waymark, steps: list[tuple[str, int, str, int]], data: st.DataObject
) -> None:
    # Given a random history of grants, payments, closures, match funding and corrections
    # of their amounts and dates, applied in random batches by workers that restart
    play(waymark, steps)
    apply_in_random_batches(waymark, data, restarts=True)
    moments = [
        r["recorded_at"] for r in waymark.database.all("SELECT recorded_at FROM fund_entries")
    ]
    as_of = (
        data.draw(st.sampled_from(moments), label="as_of")
        if moments
        else instant(datetime.now(UTC))
    )
    for moment in (None, as_of):
        # When the read model is asked for each project's funding, now and as it stood
        found = funding(waymark.database, FundingQuery(as_of=moment))
        # Then it holds each grant's amount and award date in force, the payments in force,
        # and the totals, as the record itself had them then
        when = (
            datetime.now(UTC)
            if moment is None
            else datetime.fromisoformat(moment.replace("Z", "+00:00"))
        )
        for project in found:
            expected = in_force_by_the_record(waymark, project["project_id"], when)
            shown = {
                "grants": {
                    g["entry_id"]: (g["amount"], g["decided_on"], g["paid"])
                    for g in project["grants"]
                },
                **{k: project[k] for k in ("awarded", "paid", "matched")},
            }
            assert shown == expected
    # And a rebuild gives the same answers
    before = funding(waymark.database, FundingQuery(as_of=as_of))
    fresh_projector(waymark).rebuild()
    assert funding(waymark.database, FundingQuery(as_of=as_of)) == before


@random_histories
@given(
    steps=st.lists(
        st.one_of(outcome_step, correction, st.sampled_from([("phase", 0, "alpha", 1)])),
        min_size=10,
        max_size=40,
    ),
    data=st.data(),
)
def test_outcomes_kept_batch_by_batch_are_those_the_record_gives_now_and_as_of_earlier(
    waymark: Waymark, steps: list[tuple[str, int, str, int]], data: st.DataObject
) -> None:
    # Given random benefits, measurements, closures and assessments, with corrections of
    # their values and dates, recorded in two halves with an instant between them
    first = [("benefit", 0, "", 1), ("assessment", 0, "not_met", 0)]
    half = 2 + len(steps) // 2
    moments: list[datetime] = []

    def pause(index: int) -> None:
        if index == half:
            time.sleep(0.01)
            moments.append(datetime.now(UTC))
            time.sleep(0.01)

    play(waymark, first + steps, pause)
    (between,) = moments
    # applied in random batches by workers that restart at random
    apply_in_random_batches(waymark, data, restarts=True)

    # Then each project's benefits, their statuses and figures, and its latest assessment
    # are those the record gives, now and as it stood between the halves
    for moment in (None, between):
        kept = outcomes_kept(waymark, moment)
        assert kept == outcomes_from_the_record(waymark, moment)
        assert any(benefits and latest for benefits, latest in kept.values())


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
    assert status["entries"].lag == 0

    restarted.catch_up()
    assert read_model_rows(waymark)["audit_log"] == before
    assert fresh_projector(waymark, [*others, AuditLogV2()]).prepare() == []


def test_read_models_no_longer_kept_are_dropped_on_start(waymark: Waymark) -> None:
    # Given a store kept by an earlier Waymark: the timeline, history and search each with
    # a table of every entry, now all served by `entries`
    play(waymark, [("entry", 0, "problem_statement_iterated", 1)])
    waymark.projector.catch_up()
    kept = read_model_rows(waymark)
    with waymark.database.transaction() as tx:
        for names in RETIRED.values():
            for table in names:
                tx.execute(f"CREATE TABLE {table} (position BIGINT PRIMARY KEY)")
        for name in RETIRED:
            tx.execute(
                "INSERT INTO read_model_positions (name, version, position) VALUES (?, 5, 1)",
                (name,),
            )

    # When Waymark starts on it
    restarted = Waymark(waymark.settings)
    try:
        # Then their tables and positions are gone, and what is kept is untouched
        positions = restarted.projector.positions()
        assert set(positions) == {model.name for model in read_models()}
        if restarted.database.dialect == "postgres":
            sql = "SELECT 1 AS found FROM pg_tables WHERE schemaname = 'public' AND tablename = ?"
        else:
            sql = "SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = ?"
        for names in RETIRED.values():
            for table in names:
                assert restarted.database.one(sql, (table,)) is None, table
        assert read_model_rows(restarted) == kept
    finally:
        restarted.close()


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

    rebuilt = runner.invoke(cli, ["projections", "rebuild", "entries"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert f"Rebuilt from {head} events" in rebuilt.output
    status = runner.invoke(cli, ["projections", "status"])
    assert status.exit_code == 0, status.output
    assert "entries" in status.output and "audit_log" in status.output
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
    assert "entries" in filled and "audit_log" in filled
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
