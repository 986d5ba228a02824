"""Tables of the foundation: citizens, groups, the webhook inbox, the outbox and downloaded content.

Later areas (cases, flows, announcements, console) add their own modules of models; they all share
:class:`storage.db.Base` so one Alembic history covers everything.
"""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.db import Base, UtcDateTime

_UNFINISHED = "status IN ('pending', 'sending')"  # an outbox row still to deliver

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer, "sqlite")


# Thailand's one time zone (no daylight saving): citizens' and staff's days, the roll-up's days, display.
BANGKOK = ZoneInfo("Asia/Bangkok")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Citizen(Base):
    """A LINE user who talks to the bot 1:1 (or appears in a group)."""

    __tablename__ = "citizens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    line_user_id: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str | None] = mapped_column(String(16))
    # False after unfollow (blocked): no pushes go to an inactive citizen.
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    first_seen_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    profile_fetched_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class ChatGroup(Base):
    """A LINE group or room the bot is (or was) a member of."""

    __tablename__ = "chat_groups"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    line_id: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(8))  # group | room
    name: Mapped[str | None] = mapped_column(String(200))
    member_count: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    joined_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    left_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class InboxEvent(Base):
    """One webhook event, stored before anything else happens to it.

    ``webhook_event_id`` is unique, so a redelivered or duplicated event is recognised by the database itself,
    even when two web processes receive it at the same moment. ``status`` and the lease let exactly one worker
    process it; an expired lease means the worker died and another may take the event over.
    """

    __tablename__ = "inbox_events"
    __table_args__ = (Index("ix_inbox_events_status_lease", "status", "lease_expires_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    webhook_event_id: Mapped[str] = mapped_column(String(64), unique=True)
    event_type: Mapped[str] = mapped_column(String(40))
    chat_id: Mapped[str | None] = mapped_column(String(64), index=True)
    user_id: Mapped[str | None] = mapped_column(String(64))
    message_id: Mapped[str | None] = mapped_column(String(64), index=True)
    occurred_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    is_redelivery: Mapped[bool] = mapped_column(Boolean, default=False)
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|processing|done|failed|invalid
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_token: Mapped[str | None] = mapped_column(String(36))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    processed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_error: Mapped[str | None] = mapped_column(String(500))


class OutboxMessage(Base):
    """Something to send to LINE, written in the same transaction as the change that caused it.

    Workers deliver rows; ``retry_key`` is sent as ``X-Line-Retry-Key`` on every attempt so that LINE itself
    refuses a second delivery (409) after a crash between sending and recording the result.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("ix_outbox_messages_status_due", "status", "next_attempt_at"),
        Index("ix_outbox_messages_recipient_id", "recipient", "id"),
        # Only the rows still to deliver (migration 0018): the claim walks them in id order and asks each
        # whether an earlier row of its chat is unfinished, without reading the rows already sent.
        Index("ix_outbox_messages_unfinished", "id", postgresql_where=text(_UNFINISHED),
              sqlite_where=text(_UNFINISHED)),
        Index("ix_outbox_messages_unfinished_chat", "recipient", "id", postgresql_where=text(_UNFINISHED),
              sqlite_where=text(_UNFINISHED)),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # reply | push | multicast | broadcast
    recipient: Mapped[str] = mapped_column(String(64))  # user/group/room id; "*" for multicast/broadcast
    recipients: Mapped[str | None] = mapped_column(Text)  # JSON list of user ids for multicast
    reply_token: Mapped[str | None] = mapped_column(String(64))
    reply_deadline: Mapped[datetime | None] = mapped_column(UtcDateTime())
    messages: Mapped[str] = mapped_column(Text)  # JSON list of LINE message objects
    retry_key: Mapped[str] = mapped_column(String(36), unique=True)
    notification_disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|sending|sent|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    lease_token: Mapped[str | None] = mapped_column(String(36))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    sent_via: Mapped[str | None] = mapped_column(String(16))  # reply | push (a late reply falls back to push)
    line_request_id: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    # A permanent failure as LINE stated it: HTTP status and its JSON body ({"message", "details": [...]}).
    error_status: Mapped[int | None] = mapped_column(Integer)
    error_details: Mapped[str | None] = mapped_column(Text)
    failed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # The case whose status change this row announces (None for other messages).
    case_id: Mapped[int | None] = mapped_column(BigId, index=True)
    source_event_id: Mapped[int | None] = mapped_column(ForeignKey("inbox_events.id", ondelete="SET NULL"))


class StoredContent(Base):
    """A photo, video or file a citizen sent, downloaded from LINE's content API and kept by us.

    LINE deletes content after an undisclosed time, so it is fetched promptly; an ``unsend`` deletes it here.
    """

    __tablename__ = "stored_content"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    line_message_id: Mapped[str] = mapped_column(String(64), unique=True)
    chat_id: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[str | None] = mapped_column(String(64))
    message_type: Mapped[str] = mapped_column(String(16))  # image | video | audio | file
    content_type: Mapped[str | None] = mapped_column(String(100))
    file_name: Mapped[str | None] = mapped_column(String(255))
    size: Mapped[int | None] = mapped_column(Integer)
    data: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|stored|gone|deleted|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    fetched_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
