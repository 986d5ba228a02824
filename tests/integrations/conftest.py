"""Integration fixtures: the bot with webhooks allowed to a receiver on this machine, agency API keys, and a
real HTTP receiver that refuses each delivery's first attempt (500) and accepts the next."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from storage import staff as staff_store
from tests.conftest import make_settings
from tests.console.conftest import seed


@pytest.fixture
def settings(database_url, emulator_server):
    return make_settings(database_url, emulator_server.base_url, webhook_allow_private=True)


class Receiver:
    """An integrator's endpoint over real HTTP: records every attempt; answers 500 to the first attempt of each
    retry key when ``fail_first`` is set, 200 afterwards."""

    def __init__(self, fail_first: bool = True) -> None:
        self.attempts: list[dict] = []
        self.fail_first = fail_first
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._lock:
                    key = self.headers.get("X-Siang-Retry-Key")
                    seen = any(a["retry_key"] == key for a in receiver.attempts)
                    status = 500 if receiver.fail_first and not seen else 200
                    receiver.attempts.append({"path": self.path, "body": body, "status": status, "retry_key": key,
                                              "signature": self.headers.get("X-Siang-Signature"),
                                              "event": self.headers.get("X-Siang-Event")})
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def accepted(self, path: str) -> list[dict]:
        with self._lock:
            return [{**a, "json": json.loads(a["body"])} for a in self.attempts if a["path"] == path
                    and a["status"] == 200]

    def all(self, path: str) -> list[dict]:
        with self._lock:
            return [a for a in self.attempts if a["path"] == path]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def valid_signature(secret: str, attempt: dict) -> bool:
    expected = "sha256=" + hmac.new(secret.encode(), attempt["body"], hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, attempt["signature"] or "")


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.stop()


@pytest.fixture
def agency_keys(bot):
    seed(bot.services)
    keys = {}
    with bot.services.transaction() as db:
        for name, agency in (("traffy", "bma"), ("saraban", "bma"), ("mea-erp", "mea")):
            row, plain = staff_store.create_api_key(db, name=name, scope="agency", agency_id=agency, created_by="t")
            keys[name] = {"Authorization": f"Bearer {plain}", "id": row.id}
    return keys
