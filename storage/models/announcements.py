"""Tables of policy announcements: who subscribed to what, what staff publish, and the fan-out's progress.

The fan-out is resumable because its cursor lives in the announcement row: each chunk of at most 500
recipients is written as one multicast outbox row *and* an :class:`AnnouncementBatch`, in the same
transaction that moves ``cursor_citizen_id`` past them. A worker killed between chunks leaves the cursor
where the last committed chunk ended, so the next worker continues there and no recipient is written twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.db import Base, UtcDateTime
from storage.models.core import BigId, utcnow

ALL = "all"  # a subscription's topic or province meaning "every one"


class Subscription(Base):
    """A citizen wants announcements of ``topic`` about ``province`` (either may be ``"all"``)."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        UniqueConstraint("citizen_id", "topic", "province"),
        # The audience query walks active subscriptions in citizen order (keyset pagination), filtering on
        # topic and province inside the index: one pass over the index for the whole fan-out.
        Index("ix_subscriptions_audience", "citizen_id", "topic", "province",
              postgresql_where=text("active"), sqlite_where=text("active")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id", ondelete="CASCADE"))
    topic: Mapped[str] = mapped_column(String(32))
    province: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class Announcement(Base):
    """One piece of government news, from draft to sent (or cancelled), with its fan-out state."""

    __tablename__ = "announcements"
    __table_args__ = (Index("ix_announcements_status_scheduled", "status", "scheduled_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    image_url: Mapped[str | None] = mapped_column(String(2000))
    link_url: Mapped[str | None] = mapped_column(String(1000))
    topics: Mapped[str] = mapped_column(Text)  # JSON list of topic codes
    provinces: Mapped[str] = mapped_column(Text)  # JSON list of Thai province names, or ["all"]
    everyone: Mapped[bool] = mapped_column(Boolean, default=False)  # every follower, by broadcast
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft|scheduled|sending|sent|cancelled
    scheduled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    published_by: Mapped[str | None] = mapped_column(String(200))
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    cancelled_by: Mapped[str | None] = mapped_column(String(200))
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Fan-out: the lease of the worker writing chunks, and how far it got.
    lease_token: Mapped[str | None] = mapped_column(String(36))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    cursor_citizen_id: Mapped[int] = mapped_column(BigId, default=0)
    audience: Mapped[int | None] = mapped_column(Integer)  # computed when sending starts
    audience_seconds: Mapped[float | None] = mapped_column()
    queued: Mapped[int] = mapped_column(Integer, default=0)  # recipients written to the outbox
    batches: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    fanned_out_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class AnnouncementBatch(Base):
    """One outbox row of an announcement: which recipients (a citizen-id range) it carries."""

    __tablename__ = "announcement_batches"
    __table_args__ = (UniqueConstraint("announcement_id", "seq"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    announcement_id: Mapped[int] = mapped_column(ForeignKey("announcements.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    outbox_id: Mapped[int] = mapped_column(BigId, unique=True)
    recipients: Mapped[int] = mapped_column(Integer)
    first_citizen_id: Mapped[int] = mapped_column(BigId)
    last_citizen_id: Mapped[int] = mapped_column(BigId)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class AnnouncementAudit(Base):
    """Who did what to an announcement (created, tested, published, cancelled): every publish is audited."""

    __tablename__ = "announcement_audit"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    announcement_id: Mapped[int] = mapped_column(ForeignKey("announcements.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(200))
    details: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
