"""One configured logger: one line per event, with the inbound event id and the case id where
there is one. Tokens, secrets and message bodies are never logged at INFO."""

from __future__ import annotations

import contextvars
import datetime as dt
import logging
import sys
from typing import TextIO

from reminders.clock import JST

event_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("event_id", default="-")
case_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("case_id", default="-")

FORMAT = "%(asctime)s %(levelname)s %(name)s event=%(event_id)s case=%(case_id)s %(message)s"


class _JstFormatter(logging.Formatter):
    """Times in JST with the offset, whatever the machine's zone: the product's time zone is
    always Asia/Tokyo, and a log read beside chat messages must not be nine hours off."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        when = dt.datetime.fromtimestamp(record.created, JST)
        return when.isoformat(sep=" ", timespec="milliseconds")


class _ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.event_id = event_id_var.get()
        record.case_id = case_id_var.get()
        return True


def configure(level: str = "INFO", stream: TextIO | None = None) -> None:
    """Configure the root logger once (idempotent); logs go to stderr, replies to stdout."""
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_dxbot", False):
            root.removeHandler(h)
    handler: logging.StreamHandler[TextIO] = logging.StreamHandler(stream or sys.stderr)
    # A marker on our own handler, so configuring again replaces it and leaves others alone.
    setattr(handler, "_dxbot", True)  # noqa: B010
    handler.setFormatter(_JstFormatter(FORMAT))
    handler.addFilter(_ContextFilter())
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Libraries that would log request bodies or headers at INFO stay at WARNING.
    noisy_loggers = (
        "httpx",
        "openai",
        "slack_bolt",
        "dxbot.slack.bolt",
        "slack_sdk",
        "aiohttp.access",
        "alembic",
    )
    for noisy in noisy_loggers:
        logging.getLogger(noisy).setLevel(logging.WARNING)


def set_case(case_no: str) -> None:
    case_id_var.set(case_no)
