"""``POST /callback``: verify, store once, hand over to the workers, answer — well within LINE's 2 seconds.

Served by ``CallbackApp``, a plain WSGI callable in front of Flask (``bot.create_app`` mounts it).

Nothing here talks to LINE or runs business logic: the request only has to make the events durable.
Workers do the rest (``bot.handlers``). ``GET /healthz`` reports the database and Redis.
"""

from __future__ import annotations

import json
import logging

from flask import Blueprint, Flask, Response, jsonify, request
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wsgi import get_input_stream

from bot.events import may_hold_unstorable, problem, signature_ok, storable
from bot.group_commit import GroupCommit
from bot.services import app_services, current_services
from storage import inbox

log = logging.getLogger(__name__)
blueprint = Blueprint("webhook", __name__)
MAX_INVALID_KEPT = 1000
MAX_INVALID_LOGGED = 10


# The paths of this blueprint: machine-to-machine, authenticated by signature, no cookie session.
SESSIONLESS_PATHS = frozenset({"/callback", "/healthz"})


class SessionInterface(SecureCookieSessionInterface):
    """Flask's cookie session, except on the webhook: opening one costs a signing serializer per request
    (~3 % of ``/callback``'s Python time) for a caller that never sends a cookie."""

    def open_session(self, app: Flask, request):
        if request.path in SESSIONLESS_PATHS:
            return self.make_null_session(app)
        return super().open_session(app, request)


ACCEPTED = b"{}"  # LINE reads only the status
TOO_LARGE = "request body is larger than 1 MB"


def _message(message: str) -> bytes:
    return json.dumps({"message": message}).encode()


def _json_response(status: int, payload: bytes) -> Response:
    return Response(payload, status=status, mimetype="application/json")


@blueprint.errorhandler(RequestEntityTooLarge)
def _too_large(_exc):
    return _json_response(413, _message(TOO_LARGE))


@blueprint.post("/callback")
def callback():
    """The Flask route, for an app served without ``CallbackApp`` in front (it answers the same)."""
    body = request.get_data(cache=False)  # raises 413 above MAX_CONTENT_LENGTH
    return _json_response(*answer(current_services(), body, request.headers.get("x-line-signature")))


class CallbackApp:
    """``POST /callback`` as a plain WSGI callable in front of Flask; every other request goes to Flask.

    Flask's request context, URL matching, before/after hooks and response object cost about a fifth of the
    webhook's Python time (docs/performance.md) for a request that needs none of them: it is one path, one
    method, machine to machine, without cookies. The body is read with werkzeug's own safe input stream,
    so ``MAX_CONTENT_LENGTH`` gives the same 413, and the answer is the Flask route's.
    """

    def __init__(self, app: Flask, flask_wsgi_app) -> None:
        self.services = app_services(app)
        self.max_content_length = app.config["MAX_CONTENT_LENGTH"]
        self.flask_wsgi_app = flask_wsgi_app
        self.writes = GroupCommit(lambda requests: store_and_hand_over(self.services, requests))

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") != "/callback" or environ.get("REQUEST_METHOD") != "POST":
            return self.flask_wsgi_app(environ, start_response)
        try:
            body = get_input_stream(environ, max_content_length=self.max_content_length).read()
        except RequestEntityTooLarge:
            status, payload = 413, _message(TOO_LARGE)
        except HTTPException as exc:  # e.g. the client went away mid-body
            status, payload = exc.code or 400, _message(exc.description or exc.name)
        else:
            status, payload = answer(self.services, body, environ.get("HTTP_X_LINE_SIGNATURE"), self.writes)
        start_response(_STATUS_LINES.get(status, f"{status} UNKNOWN"),
                       [("Content-Type", "application/json"), ("Content-Length", str(len(payload))),
                        ("X-Content-Type-Options", "nosniff")])
        return [payload]


_STATUS_LINES = {code: f"{code} {name.upper()}" for code, name in HTTP_STATUS_CODES.items()}


def answer(services, body: bytes, signature: str | None,
           writes: GroupCommit | None = None) -> tuple[int, bytes]:
    """Each event is judged alone: the malformed ones are kept as ``invalid``, the others stored and queued.

    4xx only when the request itself is unusable (signature, not JSON, no events list). Anything else a
    correctly signed request carries gets 200 once it is durable; 503 when the database cannot take it,
    so that LINE redelivers. An unexpected failure is logged by class and never answered with a 500.
    ``writes`` stores the events together with those of concurrent requests (``CallbackApp``'s group
    commit); without it the request stores its own.
    """
    if not signature_ok(services.settings.line_channel_secret, body, signature):
        log.warning("webhook rejected: bad or missing signature")
        return 400, _message("invalid signature")
    raw_events = _events_of(body)
    if raw_events is None:
        return 400, _message("body is not a LINE webhook: expected JSON with an events list")
    if not raw_events:
        return 200, ACCEPTED
    try:
        return _accept(services, raw_events, writes)
    except OperationalError as exc:
        log.error("webhook not stored: database unavailable", extra={"events": len(raw_events),
                                                                      "reason": type(exc.orig or exc).__name__})
        return 503, _message("storage unavailable; redeliver later")
    except Exception as exc:  # noqa: BLE001 - a bug must not become LINE's redelivery storm of 500s
        log.error("webhook not stored: unexpected failure", exc_info=True,
                  extra={"events": len(raw_events), "reason": type(exc).__name__})
        return 503, _message("the events could not be stored; redeliver later")


def _events_of(body: bytes) -> list | None:
    """The document's events list, or None when the body is not a LINE webhook document."""
    try:
        document = json.loads(body)
    except RecursionError:  # nested deeper than the parser can go: no LINE document looks like that
        log.warning("webhook rejected: JSON nested too deeply")
        return None
    except ValueError:  # not UTF-8, not JSON, an integer too long to convert
        log.warning("webhook rejected: body is not JSON")
        return None
    events = document.get("events") if isinstance(document, dict) else None
    if not isinstance(events, list):
        log.warning("webhook rejected: no events list")
        return None
    if may_hold_unstorable(body):
        events = storable(events)
    return events


def _accept(services, raw_events: list, writes: GroupCommit | None):
    described, invalid = _judged(raw_events)
    try:
        new_ids = writes.submit(described) if writes is not None else store_and_hand_over(services, [described])[0]
    except DBAPIError as exc:
        if isinstance(exc, OperationalError):
            raise
        log.warning("webhook batch refused by the database; storing its events one by one",
                    extra={"events": len(described), "reason": type(exc.orig or exc).__name__})
        with services.transaction() as session:
            new_ids, refused = inbox.record_each(session, described)
        for webhook_event_id, error in refused:
            log.error("webhook event not stored", extra={"webhook_event_id": webhook_event_id, "reason": error})
        _hand_over(services, new_ids)
    log.info("webhook accepted", extra={"events": len(raw_events), "new": len(new_ids), "rejected": invalid})
    return 200, ACCEPTED


def store_and_hand_over(services, requests: list[list[inbox.IncomingEvent]]) -> list[list[int]]:
    """The events of one or more requests in one insert and one hand-over; each request's new ids.

    An event two concurrent requests both carry (a redelivery racing its original) is stored once and
    counted as new for the first request only, as if they had come one after the other.
    """
    owner: dict[str, int] = {}
    events: list[inbox.IncomingEvent] = []
    for n, described in enumerate(requests):
        for event in described:
            if event.webhook_event_id not in owner:
                owner[event.webhook_event_id] = n
                events.append(event)
    new = inbox.store_new(services.engine, events)
    per_request: list[list[int]] = [[] for _ in requests]
    for webhook_event_id, row_id in new:
        per_request[owner[webhook_event_id]].append(row_id)
    _hand_over(services, [row_id for _, row_id in new])
    return per_request


def _hand_over(services, new_ids: list[int]) -> None:
    if not new_ids:
        return
    try:
        services.jobs.hand_over_events(new_ids)
    except Exception:  # noqa: BLE001 - stored events are swept up later; LINE must still get its 200
        log.exception("hand-over failed; the sweeper will pick the events up", extra={"count": len(new_ids)})


def _judged(raw_events: list) -> tuple[list[inbox.IncomingEvent], int]:
    """Every event as it will be stored, once per key, and how many were kept aside as invalid.

    Invalid events are kept up to ``MAX_INVALID_KEPT`` per request and logged one by one up to
    ``MAX_INVALID_LOGGED``: a signed body of a million junk entries must not become a million rows.
    """
    by_key: dict[str, inbox.IncomingEvent] = {}
    invalid = skipped = 0
    for raw in raw_events:
        event, reason = _describe(raw)
        if reason is not None:
            invalid += 1
            if invalid > MAX_INVALID_KEPT:
                skipped += 1
                continue
            if invalid <= MAX_INVALID_LOGGED:
                log.warning("webhook event kept aside as invalid",
                            extra={"webhook_event_id": event.webhook_event_id, "reason": reason})
        by_key.setdefault(event.webhook_event_id, event)
    if invalid > MAX_INVALID_LOGGED:
        log.warning("more webhook events kept aside as invalid", extra={"count": invalid - MAX_INVALID_LOGGED,
                                                                        "rejected": skipped})
    return list(by_key.values()), invalid


def _describe(raw) -> tuple[inbox.IncomingEvent, str | None]:
    """One event as it will be stored, with the reason when it is kept aside as invalid.

    Judged by ``bot.events.problem`` alone (a few type checks): the SDK's pydantic parse cost ~9 % of the
    request's Python time. The worker parses the stored event with the SDK before handling it and keeps it
    as ``invalid`` if the SDK refuses it (``bot.handlers._readable``), so nothing the SDK cannot read is
    ever handled, and the request stays as cheap as the checks.
    """
    reason = problem(raw)
    if reason is None:
        try:
            return inbox.describe(raw), None
        except (ValueError, TypeError, RecursionError) as exc:  # e.g. a field nested too deep to store
            reason = f"unstorable: {type(exc).__name__}"
    reason = reason or "invalid"
    return inbox.describe_invalid(raw, reason), reason


@blueprint.get("/healthz")
def healthz():
    services = current_services()
    checks: dict[str, str] = {}
    try:
        with services.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["database"] = f"error: {type(exc).__name__}"
    if services.redis is None:
        checks["redis"] = "not configured (embedded mode)"
    else:
        try:
            services.redis.ping()
            checks["redis"] = "ok"
        except Exception as exc:  # noqa: BLE001
            checks["redis"] = f"error: {type(exc).__name__}"
    healthy = all(value == "ok" or value.startswith("not configured") for value in checks.values())
    return jsonify({"status": "ok" if healthy else "degraded", **checks}), 200 if healthy else 503
