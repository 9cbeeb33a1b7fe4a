"""Logs as JSON lines on stdout, one object per line, from structlog and the standard library.

Everything goes through one standard-library handler, so uvicorn's own
messages come out in the same shape as ours. Exceptions are rendered as
plain tracebacks (no local variables, which could hold secrets).
"""

from __future__ import annotations

import logging
import logging.config
import os
import sys
from typing import Any

import structlog


def add_pid(_logger: Any, _method: str, event: dict[str, Any]) -> dict[str, Any]:
    """Which process wrote the line: with several workers, which worker."""
    event["pid"] = os.getpid()
    return event


_SHARED: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    add_pid,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def json_formatter() -> logging.Formatter:
    """The formatter of every log line (also named by ``logging_config``)."""
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_SHARED,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
    )


def configure_structlog() -> None:
    """Send structlog's events through the standard library (safe to call again)."""
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_SHARED,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


class SayOnceServing(logging.Handler):
    """Prints ``text`` to stderr, once, when uvicorn logs that it is serving.

    So that what a person at the terminal needs (the address, the demo sign-ins)
    comes as a readable block after the start-up logs, not inside a JSON line.
    """

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text
        self.said = False

    def emit(self, record: logging.LogRecord) -> None:
        if not self.said and record.getMessage().startswith("Uvicorn running on"):
            self.said = True
            sys.stderr.write(self.text + "\n")
            sys.stderr.flush()


def logging_config(level: str = "info", once_serving: str = "") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for a process; uvicorn applies it in every worker.

    ``once_serving``: text to print once uvicorn is serving (``SayOnceServing``).
    """
    config: dict[str, Any] = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "web.logs.json_formatter"}},
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stdout",
            }
        },
        "root": {"handlers": ["stdout"], "level": level.upper()},
        "loggers": {
            # uvicorn's handlers would print plain text: let its records reach ours.
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            # Its access log has the raw path and query string; ours has the route.
            "uvicorn.access": {"handlers": [], "propagate": False},
        },
    }
    if once_serving:
        config["handlers"]["once_serving"] = {
            "()": "web.logs.SayOnceServing",
            "text": once_serving,
            "level": "INFO",
        }
        config["root"]["handlers"].append("once_serving")  # after the line it follows
    return config


def configure_logging(level: str = "info") -> None:
    configure_structlog()
    logging.config.dictConfig(logging_config(level))
