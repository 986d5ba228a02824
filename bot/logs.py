"""Structured logs: one JSON object a line, carrying ids (webhook event, LINE request), never message text.

Citizens' words and personal data stay out of logs by construction: callers pass ids and counts in
``extra``, and this formatter only emits the message template, the level, the logger and those fields.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import traceback
from types import TracebackType

CONTEXT_FIELDS = ("event_id", "webhook_event_id", "line_request_id", "outbox_id", "job", "row_id", "status",
                  "event_type", "events", "new", "duplicates", "rejected", "attempt", "delay", "reason",
                  "is_redelivery", "count", "content_id")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message, quoted_exception = _without_traceback(record.getMessage())
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": message,
        }
        for name in CONTEXT_FIELDS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if quoted_exception:
            entry["exception"] = quoted_exception
        if record.exc_info and record.exc_info[0] is not None:
            # The exception type and where it happened, never its message: messages quote user input
            # (SQLAlchemy's carry the SQL parameters, psycopg's a DETAIL line with the key's value).
            entry["exception"] = record.exc_info[0].__name__
            entry["trace"] = _frames(record.exc_info[2])
        return json.dumps(entry, ensure_ascii=False)


def _frames(tb: TracebackType | None, last: int = 3) -> list[str]:
    """Where an exception happened, as ``file:line in function`` of its innermost frames: no values."""
    return [f"{frame.filename}:{frame.lineno} in {frame.name}" for frame in traceback.extract_tb(tb)[-last:]]


def _without_traceback(message: str) -> tuple[str, str | None]:
    """A message cut before a formatted traceback some library put in it (RQ logs a failed job's traceback
    as its message), and the exception class named on the traceback's last line."""
    head, marker, tail = message.partition("Traceback (most recent call last):")
    if not marker:
        return message, None
    last = tail.strip().splitlines()[-1] if tail.strip() else ""
    name = last.split(":", 1)[0].rsplit(".", 1)[-1].strip()
    return head.rstrip(), (name if name.isidentifier() else None)


def configure(level: str = "INFO") -> None:
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        root.setLevel(level)
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("urllib3").setLevel(logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
