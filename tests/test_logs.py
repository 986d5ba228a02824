"""Logs carry ids, never what citizens wrote."""

from __future__ import annotations

import json
import logging

from bot.logs import JsonFormatter
from tests.test_webhook import wait_until


def test_handling_a_message_logs_its_ids_but_not_its_words(bot, line, caplog):
    caplog.set_level(logging.INFO)
    user = line.create_user(display_name="สมปอง ใจดี")["user_id"]
    secret_words = "บ้านเลขที่ 99/1 โทร 0812345678 ถนนพังมาก"
    sent = line.send_text(user, secret_words)
    answer = line.wait_for_messages(user, 1, timeout=10)
    wait_until(lambda: any(r.getMessage() == "delivered" for r in caplog.records))
    formatter = JsonFormatter()
    lines = [formatter.format(record) for record in caplog.records]
    assert not any("0812345678" in entry or "ถนนพัง" in entry or "สมปอง" in entry for entry in lines)
    handled = [json.loads(entry) for entry in lines if '"event handled"' in entry]
    assert handled and handled[0]["webhook_event_id"] == sent.event_id
    delivered = [json.loads(entry) for entry in lines if '"delivered"' in entry]
    assert delivered[0]["line_request_id"] == answer[0]["request_id"]
    assert all(json.loads(entry)["level"] for entry in lines)


def test_an_exception_is_logged_by_type_without_its_message():
    citizen_words = "ชื่อ นายสมชาย เบอร์ 0899999999"
    try:
        raise ValueError(citizen_words)
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), exc_info=__import__("sys").exc_info())
    entry = json.loads(JsonFormatter().format(record))
    assert entry["exception"] == "ValueError"
    assert "0899999999" not in json.dumps(entry, ensure_ascii=False)
