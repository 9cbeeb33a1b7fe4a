"""Prometheus metrics at ``/metrics``.

Counters and histograms are kept per process by prometheus-client. When
``PROMETHEUS_MULTIPROC_DIR`` is set (``waymark serve --workers N`` sets it
for N > 1), every worker writes them to files there and a scrape, answered by
any one worker, adds up all of them. Read-model positions and lag are read
from the database when scraped, so they are the same whichever worker answers.
"""

from __future__ import annotations

import hmac
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from services.access import Forbidden, Unauthenticated
from services.container import Waymark
from services.health import pool_use
from web.deps import WaymarkDep
from web.schemas import PROBLEM_RESPONSES

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
#: A request that matched no route is counted under this instead of its raw path.
UNMATCHED = "<unmatched>"

REQUESTS = Counter(
    "waymark_http_requests",
    "HTTP requests answered, by route template, method and status.",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "waymark_http_request_duration_seconds",
    "Time from a request's arrival to the end of its response.",
    ["route", "method", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
EVENTS = Counter(
    "waymark_events_appended",
    "Events this server appended to the log, by event kind (aggregate.Event).",
    ["kind"],
)
PASSWORD_CHECKS = Counter(
    "waymark_password_checks",
    "Passwords checked at sign-in (each an argon2 verification; throttled attempts are not).",
)
#: Connection-pool gauges on PostgreSQL, summed over a server's live workers.
POOL_GAUGES = {
    figure: Gauge(f"waymark_db_pool_{figure}", text, ["pool"], multiprocess_mode="livesum")
    for figure, text in (
        ("connections", "Connections the pool holds open."),
        ("connections_in_use", "Connections lent out to a caller right now."),
        ("connections_max", "Most connections the pool may open."),
        ("requests_waiting", "Callers waiting for a connection."),
    )
}
#: How often each process copies its pool figures into the gauges (also done on scrape).
POOL_SAMPLE_SECONDS = 5.0


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    labels = (route, method, str(status))
    REQUESTS.labels(*labels).inc()
    LATENCY.labels(*labels).observe(seconds)


def count_events(recordings: Sequence[Any]) -> None:
    """A listener of the decision record: one count per event appended, by its kind."""
    for recording in recordings:
        EVENTS.labels(type(recording.domain_event).__qualname__).inc()


def sample_pools(waymark: Waymark) -> bool:
    """Copy this process's connection-pool figures into the gauges; False if it has no pools."""
    pools = pool_use(waymark.records.recorder, waymark.database)
    for pool, stats in pools.items():
        figures = {
            "connections": stats.get("pool_size", 0),
            "connections_in_use": stats.get("pool_size", 0) - stats.get("pool_available", 0),
            "connections_max": stats.get("pool_max", 0),
            "requests_waiting": stats.get("requests_waiting", 0),
        }
        for figure, gauge in POOL_GAUGES.items():
            gauge.labels(pool).set(figures[figure])
    return bool(pools)


@contextmanager
def watching(waymark: Waymark) -> Iterator[None]:
    """While a server runs: count its events and keep its pool figures fresh."""
    waymark.records.listeners.append(count_events)
    waymark.sign_ins.on_check.append(PASSWORD_CHECKS.inc)
    stop = threading.Event()
    sampler = None
    if sample_pools(waymark):
        sampler = threading.Thread(
            target=_sample_until, args=(waymark, stop), name="waymark-pool-metrics", daemon=True
        )
        sampler.start()
    try:
        yield
    finally:
        stop.set()
        if sampler is not None:
            sampler.join(timeout=1)
        waymark.records.listeners.remove(count_events)
        waymark.sign_ins.on_check.remove(PASSWORD_CHECKS.inc)
        # The pools close with the server: their figures go too (counters stay, as they should).
        if os.environ.get(MULTIPROC_DIR):
            multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
        else:
            for gauge in POOL_GAUGES.values():
                gauge.clear()


def _sample_until(waymark: Waymark, stop: threading.Event) -> None:
    while not stop.wait(POOL_SAMPLE_SECONDS):
        sample_pools(waymark)


class ReadModelCollector(Collector):
    """Read-model positions and lag, asked of the database (time-bounded) at scrape time."""

    def __init__(self, waymark: Waymark) -> None:
        self.waymark = waymark

    def collect(self) -> Iterator[GaugeMetricFamily]:
        readiness = self.waymark.readiness.check()
        yield GaugeMetricFamily(
            "waymark_ready", "1 when /readyz answers 200, else 0.", value=int(readiness.ready)
        )
        if readiness.head is not None:
            yield GaugeMetricFamily(
                "waymark_event_log_head", "Position of the last event in the log.", readiness.head
            )
        positions = GaugeMetricFamily(
            "waymark_read_model_position", "Last log position applied.", labels=["read_model"]
        )
        lag = GaugeMetricFamily(
            "waymark_read_model_lag_events",
            "Events in the log a read model has not applied yet.",
            labels=["read_model"],
        )
        for status in readiness.read_models:
            positions.add_metric([status.name], status.position)
            lag.add_metric([status.name], status.lag)
        yield positions
        yield lag


def exposition(waymark: Waymark) -> bytes:
    sample_pools(waymark)
    live = CollectorRegistry()
    live.register(ReadModelCollector(waymark))
    return generate_latest(_process_metrics()) + generate_latest(live)


def _process_metrics() -> CollectorRegistry:
    if not os.environ.get(MULTIPROC_DIR):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry


router = APIRouter(tags=["operations"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {}}},
        401: PROBLEM_RESPONSES[401],
        403: PROBLEM_RESPONSES[403],
    },
)
def metrics(request: Request, waymark: WaymarkDep) -> Response:
    """Prometheus metrics: requests, latency, events appended, read-model lag, pool use.

    Scrapers send ``Authorization: Bearer`` with ``WAYMARK_METRICS_TOKEN``; without
    that setting, ``/metrics`` answers 403 to everyone.
    """
    require_scraper(request, waymark)
    return Response(exposition(waymark), media_type=CONTENT_TYPE_LATEST)


def require_scraper(request: Request, waymark: Waymark) -> None:
    expected = waymark.settings.metrics_token
    if expected is None:
        raise Forbidden("metrics are off: set WAYMARK_METRICS_TOKEN and scrape with it")
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    given = token.strip().encode("utf-8", "replace")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given, expected.get_secret_value().encode()
    ):
        raise Unauthenticated("scrape with 'Authorization: Bearer' and WAYMARK_METRICS_TOKEN")
