"""``POST /callback``: verify, store once, enqueue, answer — well within LINE's 2 seconds.

Nothing here talks to LINE or runs business logic: the request only has to make the events durable.
Workers do the rest (``bot.handlers``). ``GET /healthz`` reports the database and Redis.
"""

from __future__ import annotations

import json
import logging

from flask import Blueprint, jsonify, request
from sqlalchemy import text
from werkzeug.exceptions import RequestEntityTooLarge

from bot.events import parse_event, signature_ok
from bot.services import current_services
from storage import inbox

log = logging.getLogger(__name__)
blueprint = Blueprint("webhook", __name__)


def _error(status: int, message: str):
    return jsonify({"message": message}), status


@blueprint.errorhandler(RequestEntityTooLarge)
def _too_large(_exc):
    return _error(413, "request body is larger than 1 MB")


@blueprint.post("/callback")
def callback():
    services = current_services()
    body = request.get_data(cache=False)  # raises 413 above MAX_CONTENT_LENGTH
    if not signature_ok(services.settings.line_channel_secret, body, request.headers.get("x-line-signature")):
        log.warning("webhook rejected: bad or missing signature")
        return _error(400, "invalid signature")
    try:
        document = json.loads(body)
        raw_events = document["events"]
        if not isinstance(raw_events, list):
            raise TypeError("events is not a list")
    except (ValueError, KeyError, TypeError):
        log.warning("webhook rejected: body is not a LINE webhook document")
        return _error(400, "body is not a LINE webhook: expected JSON with an events list")
    if not raw_events:
        return jsonify({})

    described, unreadable = [], 0
    for raw in raw_events:
        if not isinstance(raw, dict) or not raw.get("webhookEventId"):
            unreadable += 1
            continue
        if parse_event(raw) is None:
            # Kept (never processed) so that nothing a citizen sent is silently lost.
            described.append(inbox.describe(raw, status="invalid"))
            unreadable += 1
            log.warning("webhook event the SDK cannot parse", extra={"webhook_event_id": raw["webhookEventId"]})
            continue
        described.append(inbox.describe(raw))

    if described:  # committed (with concurrent requests' events) before LINE hears 200, then queued
        new_ids = inbox.record_committed(services.engine, described,
                                         lambda ids: services.jobs.enqueue_many("handle_event", ids))
    else:
        new_ids = []
    log.info("webhook accepted", extra={"events": len(raw_events), "new": len(new_ids), "rejected": unreadable})
    if unreadable == len(raw_events):
        return _error(400, "no event in the request could be read")
    return jsonify({})


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
