"""LINE groups of agencies: which group serves which agency, who in it is staff, what the bot posted there.

Identity: the staff console's accounts (``StaffUser``) did not exist when this was written, so
``StaffMember`` is our own registration of LINE user ids as staff of an agency; ``staff_user_id`` is a plain
nullable column (no foreign key yet) for the console to fill once its table lands.
Province lists are JSON arrays of province *codes* (``bot.places.resolve_province``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.db import Base, UtcDateTime
from storage.models.core import BigId, utcnow


class StaffMember(Base):
    """A LINE user id registered as staff of an agency: only they may press a case card's buttons."""

    __tablename__ = "group_staff_members"
    __table_args__ = (UniqueConstraint("line_user_id", "agency_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    line_user_id: Mapped[str] = mapped_column(String(64), index=True)
    agency_id: Mapped[str] = mapped_column(String(96), index=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    staff_user_id: Mapped[int | None] = mapped_column(BigId)  # the console's StaffUser, once it exists
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    registered_by: Mapped[str] = mapped_column(String(96))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class LinkCode(Base):
    """A one-time, expiring code: ``purpose`` "group" links a group, "staff" registers its typist as staff."""

    __tablename__ = "group_link_codes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    purpose: Mapped[str] = mapped_column(String(8), default="group")  # group | staff
    agency_id: Mapped[str] = mapped_column(String(96))
    provinces: Mapped[str] = mapped_column(Text, default="[]")
    created_by: Mapped[str] = mapped_column(String(96))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    used_by: Mapped[str | None] = mapped_column(String(64))  # LINE user id of whoever typed it
    used_in: Mapped[str | None] = mapped_column(String(64))  # LINE group id where it was typed


class GroupLink(Base):
    """A chat group serving an agency or centre (and the provinces it covers). One active link per group."""

    __tablename__ = "group_links"
    __table_args__ = (Index("ix_group_links_agency_active", "agency_id", "active"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("chat_groups.id", ondelete="CASCADE"), index=True)
    group_line_id: Mapped[str] = mapped_column(String(64), index=True)
    agency_id: Mapped[str] = mapped_column(String(96))
    provinces: Mapped[str] = mapped_column(Text, default="[]")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    code_id: Mapped[int | None] = mapped_column(ForeignKey("group_link_codes.id", ondelete="SET NULL"))
    linked_by: Mapped[str] = mapped_column(String(96))
    linked_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    unlinked_by: Mapped[str | None] = mapped_column(String(96))
    unlinked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    digest_time: Mapped[str | None] = mapped_column(String(5), default="08:00")  # HH:MM Asia/Bangkok; None = off
    last_digest_on: Mapped[str | None] = mapped_column(String(10))  # Bangkok date of the last digest sent


class GroupCaseCard(Base):
    """A case card the bot posted to a group: which case, in which status, through which outbox row."""

    __tablename__ = "group_case_cards"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    link_id: Mapped[int | None] = mapped_column(ForeignKey("group_links.id", ondelete="SET NULL"))
    group_line_id: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(24))
    outbox_id: Mapped[int | None] = mapped_column(BigId)
    posted_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class GroupAction(Base):
    """Audit: every press of a card button (and every refusal), who, when, what, with what result."""

    __tablename__ = "group_actions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"), index=True)
    group_line_id: Mapped[str] = mapped_column(String(64))
    line_user_id: Mapped[str | None] = mapped_column(String(64))
    staff_member_id: Mapped[int | None] = mapped_column(ForeignKey("group_staff_members.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(24))  # accept | forward | in_progress | resolve | note | unlink...
    outcome: Mapped[str] = mapped_column(String(16))  # done | refused | stale | invalid | pending
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str | None] = mapped_column(String(24))
    detail: Mapped[str | None] = mapped_column(Text)
    inbox_event_id: Mapped[int | None] = mapped_column(BigId)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class GroupNoteRequest(Base):
    """"Resolved" was pressed: the same staff member's next message in that group is the resolution note."""

    __tablename__ = "group_note_requests"
    __table_args__ = (Index("ix_group_note_requests_waiting", "group_line_id", "line_user_id", "done_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    group_line_id: Mapped[str] = mapped_column(String(64))
    line_user_id: Mapped[str] = mapped_column(String(64))
    from_status: Mapped[str] = mapped_column(String(24))
    # Proof of work gathered before resolving: the note, and the after-photo when the category needs one.
    note: Mapped[str | None] = mapped_column(Text)
    content_id: Mapped[int | None] = mapped_column(BigId)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class GroupBroadcast(Base):
    """A staff message to many groups; fanned out to one outbox push per group, now or when scheduled."""

    __tablename__ = "group_broadcasts"
    __table_args__ = (Index("ix_group_broadcasts_status_scheduled", "status", "scheduled_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    image_url: Mapped[str | None] = mapped_column(String(2000))
    link_url: Mapped[str | None] = mapped_column(String(1000))
    target: Mapped[str] = mapped_column(Text)  # JSON: {"groups": [...], "province": ..., "agency": ...}
    status: Mapped[str] = mapped_column(String(16), default="scheduled")  # scheduled|sent|refused|cancelled
    scheduled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    estimated_cost: Mapped[int | None] = mapped_column(Integer)
    group_count: Mapped[int | None] = mapped_column(Integer)
    refusal: Mapped[str | None] = mapped_column(String(300))
    created_by: Mapped[str] = mapped_column(String(96))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    fanned_out_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class GroupBroadcastDelivery(Base):
    """One group of a broadcast and the outbox row that carries it (sent state lives on that row)."""

    __tablename__ = "group_broadcast_deliveries"
    __table_args__ = (UniqueConstraint("broadcast_id", "group_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("group_broadcasts.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("chat_groups.id", ondelete="CASCADE"))
    group_line_id: Mapped[str] = mapped_column(String(64))
    member_count: Mapped[int] = mapped_column(Integer)
    outbox_id: Mapped[int | None] = mapped_column(BigId)
