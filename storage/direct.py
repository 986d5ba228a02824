"""A psycopg connection of each thread's own, for the webhook's one statement on PostgreSQL.

The webhook's insert is one autocommit statement per request. Through SQLAlchemy it paid a pool checkout
and checkin (with reset), an isolation-level switch and a result object each time: about half the Python
of storing, more than the driver's own execute (docs/performance.md). Here each thread (gunicorn's request
threads) keeps one autocommit connection and runs the statement on it directly.

Errors keep SQLAlchemy's classes, so callers keep their two outcomes: ``OperationalError`` when the
database cannot be reached (the caller answers 503), ``DBAPIError`` when it refuses the statement. A
connection that fails is dropped; a statement that fails on a connection that had worked (PostgreSQL
restarted meanwhile) is tried once more on a new one, which is safe for an idempotent statement only.
"""

from __future__ import annotations

import os
import threading
import weakref

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError

_by_engine: "weakref.WeakKeyDictionary[Engine, ThreadConnections]" = weakref.WeakKeyDictionary()
_by_engine_lock = threading.Lock()


class ThreadConnections:
    """One autocommit connection per thread (and per process: a connection never crosses a fork)."""

    def __init__(self, engine: Engine) -> None:
        self._conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._local = threading.local()

    def fetch_idempotent(self, statement: str, params: tuple) -> list[tuple]:
        """Run one statement in autocommit (committed when this returns) and return its rows."""
        import psycopg

        connection = self._connection()
        fresh = connection is None
        for attempt in (1, 2):
            try:
                if connection is None:
                    connection = self._connect()
                return connection.execute(statement, params).fetchall()
            except psycopg.Error as exc:
                broken = isinstance(exc, (psycopg.OperationalError, psycopg.InterfaceError)) or (
                    connection is not None and connection.broken)
                if not broken:
                    raise DBAPIError(statement, None, exc, hide_parameters=True) from exc
                self._drop(connection)
                connection = None
                if fresh or attempt == 2:
                    raise OperationalError(statement, None, exc, hide_parameters=True) from exc
                fresh = True  # the old connection had gone stale: one more try on a new one
        raise AssertionError("unreachable")

    def _connection(self):
        connection = getattr(self._local, "connection", None)
        if connection is None or connection.closed or self._local.pid != os.getpid():
            return None
        return connection

    def _connect(self):
        import psycopg

        connection = psycopg.connect(self._conninfo, autocommit=True, connect_timeout=5)
        self._local.connection, self._local.pid = connection, os.getpid()
        return connection

    def _drop(self, connection) -> None:
        self._local.connection = None
        if connection is not None:
            try:
                connection.close()
            except Exception:  # noqa: BLE001 - already broken
                pass


def connections(engine: Engine) -> ThreadConnections:
    """The engine's per-thread connections (made once per engine, freed with it)."""
    found = _by_engine.get(engine)
    if found is None:
        with _by_engine_lock:
            found = _by_engine.setdefault(engine, ThreadConnections(engine))
    return found
