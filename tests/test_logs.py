"""Logs carry ids, never what citizens wrote."""

from __future__ import annotations

import json
import logging

from bot.logs import JsonFormatter
from tests.support import wait_until


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


# --- a real database error while a citizen's personal data is being handled ---------------------------------

PHONE, NATIONAL_ID, NAME = "081-234-5678", "1101700203451", "นายสมปอง ใจดี"
SECRETS = (PHONE, NATIONAL_ID, NAME, "0812345678", "สมปอง")


def _refuse(engine, table: str, column: str, needle: str) -> str:
    """Make the database itself refuse rows of ``table`` whose ``column`` holds ``needle``; returns its name."""
    name = f"test_refuse_{table}"
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":  # a CHECK violation: psycopg's DETAIL quotes the failing row
            connection.exec_driver_sql(f"ALTER TABLE {table} ADD CONSTRAINT {name} "
                                       f"CHECK (strpos({column}, '{needle}') = 0) NOT VALID")
        else:
            for when in ("INSERT", "UPDATE"):
                connection.exec_driver_sql(
                    f"CREATE TRIGGER {name}_{when.lower()} BEFORE {when} ON {table} "
                    f"WHEN instr(NEW.{column}, '{needle}') > 0 BEGIN SELECT RAISE(ABORT, 'refused'); END")
    return name


def _allow(engine, table: str, name: str) -> None:
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}")
        else:
            for when in ("insert", "update"):
                connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}_{when}")


class _Everything(logging.Handler):
    """Every record of every logger, as the JSON formatter writes it and as its raw message and fields."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def texts(self) -> list[str]:
        formatter = JsonFormatter()
        out = []
        for record in self.records:
            fields = {k: v for k, v in vars(record).items() if k not in ("exc_info", "exc_text", "msg", "args")}
            out += [formatter.format(record), record.getMessage(), repr(fields)]
        return out


def test_a_database_error_while_handling_personal_data_logs_none_of_it(bot, line):
    import io

    engine = bot.services.engine
    refusals = [("flow_states", "state", PHONE), ("inbox_events", "payload", NATIONAL_ID)]
    names = [_refuse(engine, table, column, needle) for table, column, needle in refusals]  # before capture
    root = logging.getLogger()
    json_handler = next(h for h in root.handlers if isinstance(h.formatter, JsonFormatter))
    stderr = io.StringIO()
    previous_stream = json_handler.setStream(stderr)
    everything = _Everything()
    levels = {name: logging.getLogger(name).level for name in ("", "sqlalchemy", "sqlalchemy.engine")}
    root.addHandler(everything)
    for name in levels:  # SQLAlchemy at INFO logs every statement, with its parameters unless hidden
        logging.getLogger(name).setLevel(logging.DEBUG if name == "" else logging.INFO)
    try:
        user = line.create_user(display_name=NAME)["user_id"]
        # Handled by the worker: the complaint draft (the flow state) is refused by the database.
        assert line.send_text(user, f"ถนนหน้าบ้านพังเป็นหลุม ผม{NAME} โทร {PHONE}").status == 200
        wait_until(lambda: any(r.getMessage() == "event handling failed" for r in everything.records), timeout=20)
        assert not _leaks(stderr.getvalue().splitlines() + everything.texts())
        # Stored by the webhook: the inbox row itself is refused, so the event is kept by its id alone.
        assert line.send_text(user, f"{NAME} เลขบัตรประชาชน {NATIONAL_ID}").status == 200
        wait_until(lambda: any("one by one" in r.getMessage() for r in everything.records))
    finally:
        root.removeHandler(everything)
        json_handler.setStream(previous_stream)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
        for (table, _, _), name in zip(refusals, names):
            _allow(engine, table, name)
    failures = [json.loads(entry) for entry in stderr.getvalue().splitlines() if '"event handling failed"' in entry]
    assert failures and failures[0]["exception"] == "IntegrityError" and failures[0]["trace"]
    assert any(r.name.startswith("sqlalchemy.engine") for r in everything.records)  # statements were logged
    assert not _leaks(stderr.getvalue().splitlines() + everything.texts())


def _leaks(logged: list[str]) -> list[tuple[str, str]]:
    return [(secret, entry[:300]) for entry in logged for secret in SECRETS if secret in entry]


def test_a_multi_line_exception_message_stays_out_of_the_json_log():
    try:
        raise RuntimeError(f"violates check constraint\nDETAIL:  Failing row contains ({PHONE}, {NAME}).\nend")
    except RuntimeError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), exc_info=__import__("sys").exc_info())
    entry = JsonFormatter().format(record)
    assert json.loads(entry)["exception"] == "RuntimeError"
    assert PHONE not in entry and NAME not in entry


def test_a_traceback_a_library_puts_in_its_message_is_cut():
    # RQ logs a failed job as "...exception raised while executing (%s)\n%s" with the formatted traceback.
    traceback_text = f"Traceback (most recent call last):\n  File \"x.py\", line 1\nValueError: {NAME} {PHONE}\n"
    record = logging.LogRecord("rq.worker", logging.ERROR, __file__, 1, "job %s failed\n%s", ("j-1", traceback_text),
                               None)
    entry = json.loads(JsonFormatter().format(record))
    assert entry["msg"] == "job j-1 failed" and entry["exception"] == "ValueError"
    assert PHONE not in json.dumps(entry, ensure_ascii=False)
