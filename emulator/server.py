"""Building and running the emulator: the app factory, a background-thread runner, and the command line.

Tests and `siang dev` call `start_emulator(settings)` to get a real HTTP server on a free localhost port;
`python -m emulator` (and `siang emulator`) calls `main(argv)`.
"""

from __future__ import annotations

import argparse
import threading
import uuid
from dataclasses import dataclass
from typing import Sequence

from flask import Flask, Response, g
from werkzeug.exceptions import HTTPException
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from emulator import api, chat, control
from emulator.client import EmulatorClient
from emulator.errors import LineApiError
from emulator.runtime import Emulator
from emulator.settings import EmulatorSettings, Faults, Rate


def create_emulator_app(settings: EmulatorSettings | None = None) -> Flask:
    app = Flask(__name__)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["emulator"] = Emulator(settings or EmulatorSettings())
    app.register_blueprint(api.bp)
    app.register_blueprint(control.bp)
    app.register_blueprint(chat.bp)

    @app.before_request
    def assign_request_id() -> None:
        g.request_id = str(uuid.uuid4())

    @app.after_request
    def add_request_id(response: Response) -> Response:
        response.headers["X-Line-Request-Id"] = g.get("request_id") or str(uuid.uuid4())
        return response

    @app.errorhandler(HTTPException)
    def line_style_error(error: HTTPException) -> Response:
        return api.error_response(LineApiError(error.code or 500, error.name, "http_error"))

    return app


class QuietHandler(WSGIRequestHandler):
    """Keep-alive (HTTP/1.1) and no per-request log line: benches send thousands of pushes."""

    protocol_version = "HTTP/1.1"

    def log_request(self, *args: object, **kwargs: object) -> None:
        pass


@dataclass
class RunningEmulator:
    """A live emulator: its URL, its Flask app and state (for white-box checks), and a way to stop it."""

    base_url: str
    app: Flask
    _server: BaseWSGIServer
    _thread: threading.Thread

    @property
    def emulator(self) -> Emulator:
        return self.app.extensions["emulator"]

    @property
    def client(self) -> EmulatorClient:
        return EmulatorClient(self.base_url)

    def shutdown(self) -> None:
        self.emulator.webhooks.cancel_pending()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def start_emulator(settings: EmulatorSettings | None = None, host: str = "127.0.0.1",
                   port: int = 0) -> RunningEmulator:
    """Serve the emulator from a daemon thread (port 0 = a free port) and return once it accepts requests."""
    app = create_emulator_app(settings)
    server = make_server(host, port, app, threaded=True, request_handler=QuietHandler)
    server.daemon_threads = True  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="line-emulator", daemon=True)
    thread.start()
    return RunningEmulator(f"http://{host}:{server.server_port}", app, server, thread)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="emulator", description="A local LINE platform for Siang.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--webhook-url", help="the bot's webhook, e.g. http://127.0.0.1:8080/callback")
    parser.add_argument("--channel-secret", default=EmulatorSettings.channel_secret)
    parser.add_argument("--access-token", default=EmulatorSettings.access_token)
    parser.add_argument("--spec", help="messaging-api.yml to validate request bodies against")
    parser.add_argument("--reply-ttl", type=float, default=60.0, help="reply token lifetime in seconds")
    parser.add_argument("--quota", type=int, help="monthly message quota (default: unlimited)")
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--fail-500", type=float, default=0.0, help="share of requests answered 500")
    parser.add_argument("--fail-429", type=float, default=0.0, help="share of requests answered 429")
    parser.add_argument("--lose-answer", type=float, default=0.0,
                        help="share of requests carried out, then answered 500 (the answer lost)")
    parser.add_argument("--seed", type=int, help="random seed for repeatable faults")
    parser.add_argument("--rate", action="append", default=[], metavar="ENDPOINT=N/PERIOD",
                        help="rate limit override, e.g. push=100/s (repeatable)")
    parser.add_argument("--redelivery", action="store_true", help="redeliver failed webhooks")
    parser.add_argument("--content-preparing-calls", type=int, default=0,
                        help="content downloads answered 202 before the content is ready")
    return parser.parse_args(argv)


def settings_from_args(args: argparse.Namespace) -> EmulatorSettings:
    rates: dict[str, str] = {}
    for item in args.rate:
        name, _, rate = item.partition("=")
        Rate.parse(rate)
        rates[name.strip()] = rate.strip()
    return EmulatorSettings(
        channel_secret=args.channel_secret, access_token=args.access_token, webhook_url=args.webhook_url,
        spec_path=args.spec, reply_token_ttl=args.reply_ttl, monthly_quota=args.quota, rate_limits=rates,
        faults=Faults(args.latency_ms, args.fail_500, args.fail_429, args.seed, args.lose_answer),
        redelivery=args.redelivery, content_preparing_calls=args.content_preparing_calls)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    app = create_emulator_app(settings_from_args(args))
    print(f"LINE emulator on http://{args.host}:{args.port}/ (chat page), webhooks to {args.webhook_url}")
    make_server(args.host, args.port, app, threaded=True).serve_forever()
