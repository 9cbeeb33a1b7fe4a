"""Logs as JSON lines on stdout, one object per line, from structlog and the standard library.

Everything goes through one standard-library handler, so uvicorn's own
messages come out in the same shape as ours. Exceptions are rendered as
plain tracebacks (no local variables, which could hold secrets).
"""

from __future__ import annotations

import logging
import logging.config
import os
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


def logging_config(level: str = "info") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for a process; uvicorn applies it in every worker."""
    return {
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


def configure_logging(level: str = "info") -> None:
    configure_structlog()
    logging.config.dictConfig(logging_config(level))
