"""Fixtures for the emulator's own tests: a running emulator, SDK clients pointed at it, and a stand-in bot.

The stand-in bot is a tiny Flask webhook receiver that verifies signatures and parses events with the SDK's
`WebhookParser`, so every test sees exactly what a real bot would; it can answer any status, answer slowly,
and reply through the emulator (text plus a quick reply) like the real bot will.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, request
from linebot.v3 import WebhookParser
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.messaging import (ApiClient, Configuration, DatetimePickerAction, LocationAction, MessageAction,
                                  MessagingApi, MessagingApiBlob, PostbackAction, QuickReply, QuickReplyItem,
                                  ReplyMessageRequest, TextMessage)
from linebot.v3.webhooks import MessageEvent, PostbackEvent, TextMessageContent
from werkzeug.serving import make_server

from emulator.client import EmulatorClient
from emulator.server import QuietHandler, RunningEmulator, start_emulator
from emulator.settings import EmulatorSettings

SPEC_PATH = Path(__file__).resolve().parents[3] / "shared" / "line-openapi" / "messaging-api.yml"
SECRET = "test-channel-secret"
TOKEN = "test-access-token"


class StandInBot:
    """A webhook receiver with knobs: `status` to answer, `delay` seconds, `replies` on or off."""

    def __init__(self) -> None:
        self.parser = WebhookParser(SECRET)
        self.received: list[dict[str, Any]] = []
        self.status = 200
        self.delay = 0.0
        self.replies = False
        self.line_host: str | None = None
        self.lock = threading.Lock()
        app = Flask("stand_in_bot")
        app.add_url_rule("/callback", view_func=self.callback, methods=["POST"])
        self._server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_port}/callback"

    def callback(self) -> tuple[str, int]:
        body = request.get_data(as_text=True)
        try:
            events = self.parser.parse(body, request.headers.get("x-line-signature", ""))
        except InvalidSignatureError:
            return "bad signature", 400
        with self.lock:
            self.received.append({"body": body, "events": events, "headers": dict(request.headers)})
        time.sleep(self.delay)
        if self.replies:
            for event in events:
                self._reply(event)
        return "OK", self.status

    def _reply(self, event: Any) -> None:
        if isinstance(event, MessageEvent) and isinstance(event.message, TextMessageContent):
            text = f"ได้รับข้อความ: {event.message.text}"
        elif isinstance(event, PostbackEvent):
            text = f"postback: {event.postback.data} {event.postback.params or ''}".strip()
        else:
            return
        quick = QuickReply(items=[
            QuickReplyItem(action=MessageAction(label="แจ้งเรื่อง", text="แจ้งเรื่องร้องเรียน")),
            QuickReplyItem(action=PostbackAction(label="ติดตามเรื่อง", data="action=track",
                                                 display_text="ติดตามเรื่อง")),
            QuickReplyItem(action=LocationAction(label="ส่งตำแหน่ง")),
            QuickReplyItem(action=DatetimePickerAction(label="เลือกวัน", data="action=date", mode="date")),
        ])
        with ApiClient(Configuration(host=self.line_host, access_token=TOKEN)) as api_client:
            MessagingApi(api_client).reply_message(ReplyMessageRequest(
                reply_token=event.reply_token, messages=[TextMessage(text=text, quick_reply=quick)]),
                _request_timeout=5)

    def events(self) -> list[Any]:
        with self.lock:
            return [event for entry in self.received for event in entry["events"]]

    def shutdown(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def bot() -> Iterator[StandInBot]:
    stand_in = StandInBot()
    yield stand_in
    stand_in.shutdown()


def emulator_settings(**overrides: Any) -> EmulatorSettings:
    values: dict[str, Any] = {"channel_secret": SECRET, "access_token": TOKEN, "spec_path": str(SPEC_PATH)}
    values.update(overrides)
    return EmulatorSettings(**values)


@pytest.fixture(scope="session")
def spec_path() -> Path:
    return SPEC_PATH


@pytest.fixture
def start_emulator_with() -> Iterator[Callable[..., RunningEmulator]]:
    """Start extra emulators with settings overrides (`spec_path=None`, `faults=...`); all stop at teardown."""
    started: list[RunningEmulator] = []

    def start(**overrides: Any) -> RunningEmulator:
        started.append(start_emulator(emulator_settings(**overrides)))
        return started[-1]

    yield start
    for running in started:
        running.shutdown()


@pytest.fixture
def emulator(bot: StandInBot, start_emulator_with: Callable[..., RunningEmulator]) -> RunningEmulator:
    running = start_emulator_with(webhook_url=bot.url)
    bot.line_host = running.base_url
    return running


@pytest.fixture
def auth(emulator: RunningEmulator) -> dict[str, str]:
    """The bearer header for raw HTTP calls that must bypass the SDK's client-side validation."""
    return {"Authorization": f"Bearer {emulator.emulator.settings.access_token}"}


@pytest.fixture
def client(emulator: RunningEmulator) -> EmulatorClient:
    return emulator.client


@pytest.fixture
def api_client(emulator: RunningEmulator) -> Iterator[ApiClient]:
    with ApiClient(Configuration(host=emulator.base_url, access_token=TOKEN)) as api:
        yield api


@pytest.fixture
def line(api_client: ApiClient) -> MessagingApi:
    return MessagingApi(api_client)


@pytest.fixture
def blob(api_client: ApiClient) -> MessagingApiBlob:
    return MessagingApiBlob(api_client)


@pytest.fixture
def citizen(client: EmulatorClient) -> dict[str, Any]:
    return client.create_user(display_name="สมหญิง ใจดี", language="th")
