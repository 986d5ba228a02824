"""Structured logs: one JSON object a line, carrying ids (webhook event, LINE request), never message text.

Citizens' words and personal data stay out of logs by construction: callers pass ids and counts in
``extra``, and this formatter only emits the message template, the level, the logger and those fields.
"""

from __future__ import annotations

import json
import logging
import sys
import time

CONTEXT_FIELDS = ("event_id", "webhook_event_id", "line_request_id", "outbox_id", "job", "row_id", "status",
                  "event_type", "events", "new", "duplicates", "rejected", "attempt", "delay", "reason",
                  "is_redelivery", "count", "content_id")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info:
            # The exception type and where it happened, not its message: messages can quote user input.
            exc_type = record.exc_info[0]
            entry["exception"] = exc_type.__name__ if exc_type else None
            entry["trace"] = self.formatException(record.exc_info).splitlines()[-3:-1]
        return json.dumps(entry, ensure_ascii=False)


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
