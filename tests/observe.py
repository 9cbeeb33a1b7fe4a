"""What the server tells operators (its JSON log lines and /metrics), and a server
whose read models stand still until a test moves them."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from services.settings import Settings
from tests.helpers import make_user
from web.app import create_app
from web.logs import json_formatter

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


class _ServerOnly(logging.Filter):
    """Leaves out the test client's own logs (httpx logs every URL it fetches)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.name.startswith(("httpx", "httpcore"))


class LogCapture:
    def __init__(self) -> None:
        self.stream = io.StringIO()

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self) -> list[dict[str, Any]]:
        """Every line, parsed: it fails if any line is not one JSON object."""
        return [json.loads(line) for line in self.text.splitlines()]

    def requests(self) -> list[dict[str, Any]]:
        return [line for line in self.lines() if line.get("logger") == "waymark.access"]


@contextmanager
def captured_logs() -> Iterator[LogCapture]:
    """The process's log lines as the server writes them (its JSON formatter, INFO and up)."""
    capture = LogCapture()
    handler = logging.StreamHandler(capture.stream)
    handler.setFormatter(json_formatter())
    handler.addFilter(_ServerOnly())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield capture
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def parse_metrics(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """A sample's value; 0 for a series that does not exist yet (as for a fresh counter)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def series(samples: Samples, name: str) -> dict[frozenset[tuple[str, str]], float]:
    return {labels: v for (n, labels), v in samples.items() if n == name}


@contextmanager
def server_without_projections(settings: Settings, max_lag: int) -> Iterator[TestClient]:
    """A server whose read models move only when the test says so, as when the projection
    worker is down; signed in as an admin, with the read models level with the log."""
    idle = settings.model_copy(
        update={"in_process_projections": False, "readiness_max_lag": max_lag}
    )
    with TestClient(create_app(idle)) as client:
        waymark = client.app.state.waymark  # type: ignore[attr-defined]
        client.headers["Authorization"] = f"Bearer {make_user(waymark, 'pm.jones', 'admin')}"
        waymark.projector.catch_up()
        yield client
