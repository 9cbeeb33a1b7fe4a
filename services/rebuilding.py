"""Rebuilding the read models from the log: in this process, or shared between several.

A rebuild drops the chosen read models and fills them again from the first
event. Each read model keeps its own position, so on PostgreSQL a long rebuild
is shared out between processes, each catching up its own read models,
exactly once.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Sequence

from projections.log import EventLog
from projections.projector import Projector
from projections.queries import read_models
from services.container import application_env, opened, read_model_database
from services.records import DecisionRecords
from services.settings import Settings

#: Events in the log from which a rebuild is shared between processes.
PARALLEL_REBUILD_FROM = 50_000
#: Processes a long rebuild is shared between unless configured: two, which on two
#: cores beside PostgreSQL rebuilt 100,000 and 1,000,000 events 37-61% faster than one
#: (docs/PERFORMANCE.md). More were not measured, so more cores take no more by default.
DEFAULT_REBUILD_WORKERS = 2


def rebuild_processes(head: int, configured: int | None, cores: int) -> int:
    """How many processes share a rebuild of a log whose last position is ``head``.

    A short log is rebuilt before processes would have started; a long one by
    ``configured`` processes, or by default two where this process may use two
    cores or more.
    """
    if head < PARALLEL_REBUILD_FROM:
        return 1
    if configured is not None:
        return configured
    return min(DEFAULT_REBUILD_WORKERS, max(1, cores))


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity, where the system tells it)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def rebuild_read_models(
    settings: Settings,
    names: Sequence[str] | None = None,
    progress: Callable[[int], None] | None = None,
    *,
    workers: int | None = None,
) -> int:
    """Drop the named read models (all by default) and build them again from the log.

    On PostgreSQL the read models are shared among ``workers`` processes
    (by default, once the log holds 50,000 events, ``WAYMARK_REBUILD_WORKERS``
    or else two where two cores are free to use): each has its own position, so
    each process catches up its own share, exactly once. Returns how many
    events were read.
    """
    with opened(settings.model_copy(update={"in_process_projections": False})) as waymark:
        projector = waymark.projector
        if workers is None:
            workers = rebuild_processes(
                projector.log.head(), settings.rebuild_workers, usable_cores()
            )
        if not settings.uses_postgres:
            workers = 1  # SQLite takes one writer at a time
        chosen = projector.start_rebuild(names)
        groups = share(chosen, workers)
        if len(groups) < 2:
            return projector.finish_rebuild(progress)
        context = multiprocessing.get_context("spawn")
        with context.Pool(len(groups)) as pool:
            results = [pool.apply_async(_finish_rebuild, (settings, group)) for group in groups]
            reported = 0
            while not all(result.ready() for result in results):
                time.sleep(0.2)
                reported = _report(projector, chosen, reported, progress)
            counts = [result.get() for result in results]
        _report(projector, chosen, reported, progress)
        return max(counts)


def share(names: Sequence[str], workers: int) -> list[list[str]]:
    """The read models split into at most ``workers`` groups of about equal work."""
    weights = {model.name: model.rebuild_weight for model in read_models()}
    groups: list[list[str]] = [[] for _ in range(max(1, min(workers, len(names))))]
    loads = [0] * len(groups)
    for name in sorted(names, key=lambda n: -weights.get(n, 1)):
        lightest = loads.index(min(loads))
        groups[lightest].append(name)
        loads[lightest] += weights.get(name, 1)
    return [group for group in groups if group]


def _finish_rebuild(settings: Settings, names: list[str]) -> int:
    """One process's share of a rebuild (run in a child process)."""
    # The parent made the tables; creating them from two processes at once races on
    # PostgreSQL's catalog ("tuple concurrently updated").
    records = DecisionRecords(env={**application_env(settings), "CREATE_TABLE": "n"})
    database = read_model_database(settings)
    try:
        projector = Projector(
            database,
            EventLog(records.recorder, records.mapper),
            [model for model in read_models() if model.name in names],
            batch_size=settings.projection_batch_size,
        )
        return projector.finish_rebuild()
    finally:
        database.close()
        records.close()


def _report(
    projector: Projector, names: list[str], reported: int, progress: Callable[[int], None] | None
) -> int:
    """Tell ``progress`` how far the slowest of ``names`` has moved since last told."""
    if progress is None:
        return reported
    positions = projector.positions()
    reached = min(positions[name] for name in names)
    if reached > reported:
        progress(reached - reported)
    return max(reached, reported)
