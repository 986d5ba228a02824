"""Event dispatch: the ``handle_event`` job loads a stored event, parses it and calls its handler.

Each handler module is a few lines that hand off to flows or storage. The handler's database work, its
outbox rows and the event's "done" mark commit together; if the worker dies before that, the lease
expires and the event is handled again from scratch, so it takes effect exactly once.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Callable

from linebot.v3.webhooks import (
    Event,
    FollowEvent,
    JoinEvent,
    LeaveEvent,
    MemberJoinedEvent,
    MemberLeftEvent,
    MessageEvent,
    PostbackEvent,
    UnfollowEvent,
    UnsendEvent,
)

from bot.context import Context
from bot.events import judge
from bot.handlers import follow, groups, message, postback, unsend
from bot.people import fetch_profile
from bot.services import Services, current_services
from storage import inbox, people

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
CARRY_ON_SECONDS = 1.0

HANDLERS: dict[type, Callable[[Context], None]] = {
    FollowEvent: follow.on_follow,
    UnfollowEvent: follow.on_unfollow,
    MessageEvent: message.on_message,
    PostbackEvent: postback.on_postback,
    JoinEvent: groups.on_join,
    LeaveEvent: groups.on_leave,
    MemberJoinedEvent: groups.on_member_joined,
    MemberLeftEvent: groups.on_member_left,
    UnsendEvent: unsend.on_unsend,
}


def handle_event(event_id: int) -> None:
    """Job: handle one stored event, then the events of the same chat that were waiting for it.

    A busy chat is carried on inline for a moment (cheaper than a queue round trip), then handed back to
    the queue so that one chatty citizen cannot hold a worker while others wait.
    """
    services = current_services()
    deadline = time.monotonic() + CARRY_ON_SECONDS
    next_id = _handle_one(services, event_id)
    while next_id is not None and time.monotonic() < deadline:
        next_id = _handle_one(services, next_id)
    if next_id is not None:
        services.jobs.enqueue("handle_event", next_id)


def _readable(payload: str) -> tuple[Event | None, str | None]:
    """The stored event as the SDK reads it, or the reason it cannot be handled (rows stored before the
    webhook judged each event, or by another version of Siang, are judged again here)."""
    try:
        raw = json.loads(payload)
    except (ValueError, RecursionError) as exc:
        return None, f"payload: {type(exc).__name__}"
    return judge(raw)


def _handle_one(services: Services, event_id: int) -> int | None:
    with services.transaction() as session:
        token = inbox.claim(session, event_id, services.settings.job_lease_seconds)
        wanted = people.profile_wanted(session, event_id) if token is not None else None
    if token is None:
        return None  # done already, someone else has it, or an earlier event of the chat goes first
    # Asked of LINE before the event's transaction opens: on SQLite that transaction holds the one write lock.
    profile = fetch_profile(services, wanted) if wanted else None
    session = services.sessions()
    try:
        row = inbox.get(session, event_id)
        event, reason = _readable(row.payload)
        if event is None:
            # Deterministic: handling it again would fail the same way, so it is set aside at once.
            log.warning("stored event cannot be handled; kept as invalid",
                        extra={"event_id": event_id, "webhook_event_id": row.webhook_event_id, "reason": reason})
            inbox.mark_invalid(session, event_id, token, reason)
            next_id = inbox.next_in_chat(session, row.chat_id, event_id)
            session.commit()
            return next_id
        context = Context(services, session, row, event, profile=profile)
        handler = HANDLERS.get(type(event))
        facts = {"event_id": event_id, "webhook_event_id": row.webhook_event_id, "event_type": row.event_type,
                 "is_redelivery": row.is_redelivery, "attempt": row.attempts}
        if handler is None or getattr(event, "mode", "active") == "standby":
            log.info("event ignored", extra=facts)
        else:
            handler(context)
            log.info("event handled", extra=facts)
        context.flush()  # its rows are queued by the commit below (Services.after_commit), none on rollback
        if not inbox.mark_done(session, event_id, token):
            session.rollback()
            log.warning("lease lost; another worker handled the event", extra={"event_id": event_id})
            return None
        next_id = inbox.next_in_chat(session, row.chat_id, event_id)
        session.commit()
    except Exception as exc:  # noqa: BLE001 - recorded and retried; must not kill the worker
        session.rollback()
        log.exception("event handling failed", extra={"event_id": event_id})
        with services.transaction() as retry_session:
            attempts = inbox.get(retry_session, event_id).attempts
            inbox.mark_failed(retry_session, event_id, token, f"{type(exc).__name__}",
                              give_up=attempts >= MAX_ATTEMPTS)
        return None
    finally:
        session.close()
    return next_id
