"""The webhook's hand-over: ``RPUSH`` of the new inbox ids on a Redis socket of each request thread's own.

redis-py's client spent ~0.3 ms of Python per request on its connection pool, command packing, retry
wrapper and reply parsing (17 % of the request, docs/performance.md) for one command whose reply is one
line. This sends the command ready-made on a plain socket kept per thread and reads that line. URLs it does
not speak (TLS, a Unix socket) go through redis-py as before.

A failure raises (``OSError`` or ``RuntimeError``) after dropping the socket; the webhook logs it and still
answers 200, since the events are stored: the sweeper queues them. A push that fails on a socket that had
worked (Redis restarted meanwhile) is tried once more on a new one; a repeated id is harmless (the row's
lease decides, and the feeder's RQ job id is the row's).
"""

from __future__ import annotations

import os
import socket
import threading


def command(*parts: bytes) -> bytes:
    """One command in Redis's wire format (RESP)."""
    return b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(part), part) for part in parts)


class ListPusher:
    """``push(ids)``: RPUSH onto one list, per thread on a socket of its own (never across a fork)."""

    def __init__(self, redis_url: str, key: str) -> None:
        from redis.connection import parse_url

        options = parse_url(redis_url)
        self._key = key.encode()
        self._local = threading.local()
        self._fallback = None
        if "connection_class" in options or "path" in options:  # TLS or a Unix socket: redis-py's job
            from redis import Redis

            self._fallback = Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=2)
            return
        self._address = (options.get("host") or "localhost", int(options.get("port") or 6379))
        hello = []
        if options.get("password") is not None:
            user = options.get("username")
            hello.append(command(b"AUTH", *([user.encode()] if user else []), options["password"].encode()))
        if options.get("db"):
            hello.append(command(b"SELECT", str(options["db"]).encode()))
        self._hello = hello

    def push(self, ids: list[int]) -> None:
        if not ids:
            return
        if self._fallback is not None:
            self._fallback.rpush(self._key, *ids)
            return
        message = command(b"RPUSH", self._key, *(str(row_id).encode() for row_id in ids))
        connection = self._socket()
        fresh = connection is None
        for attempt in (1, 2):
            try:
                if connection is None:
                    connection = self._connect()
                connection.sendall(message)
                _replies(connection, 1)
                return
            except OSError:
                self._drop(connection)
                connection = None
                if fresh or attempt == 2:
                    raise
                fresh = True  # the old socket had gone stale: one more try on a new one

    def _socket(self):
        connection = getattr(self._local, "socket", None)
        if connection is None or self._local.pid != os.getpid():
            return None
        return connection

    def _connect(self) -> socket.socket:
        connection = socket.create_connection(self._address, timeout=2)
        try:
            connection.settimeout(5)
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._hello:
                connection.sendall(b"".join(self._hello))
                _replies(connection, len(self._hello))
        except BaseException:
            connection.close()
            raise
        self._local.socket, self._local.pid = connection, os.getpid()
        return connection

    def _drop(self, connection) -> None:
        self._local.socket = None
        if connection is not None:
            connection.close()


def _replies(connection: socket.socket, count: int) -> list[bytes]:
    """Read ``count`` one-line replies (``+OK``, ``:<n>``); an error reply raises ``RuntimeError``."""
    buffer = b""
    while buffer.count(b"\r\n") < count:
        chunk = connection.recv(4096)
        if not chunk:
            raise ConnectionError("Redis closed the connection")
        buffer += chunk
    lines = buffer.split(b"\r\n")[:count]
    for line in lines:
        if line.startswith(b"-"):
            raise RuntimeError(f"Redis refused the hand-over: {line[1:80].decode(errors='replace')}")
    return lines
