"""How agencies work a case together: co-handling parts, the forwarding chain, response templates.

A case has one lead agency (``cases.agency_id``, whose status is the case's status) and any number of
co-handling agencies, each with a :class:`CasePart` of its own status. Forwards are rows of their own so the
chain of owners survives every later change (the loop guard reads it).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.db import Base, UtcDateTime
from storage.models.core import BigId, utcnow


class CasePart(Base):
    """A co-handling agency's share of a case: its own status (``bot.casework.cohandling.PART_STATES``) and
    officer; inviting it leaves the case with the lead."""

    __tablename__ = "case_parts"
    __table_args__ = (UniqueConstraint("case_id", "agency_id", name="uq_case_parts_case_agency"),
                      Index("ix_case_parts_agency_status", "agency_id", "status"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[str] = mapped_column(String(96))
    status: Mapped[str] = mapped_column(String(24), default="invited")
    assigned_to: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    invited_by: Mapped[str] = mapped_column(String(96))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class CaseForward(Base):
    """One hand-over of a case from one lead agency to another, kept for the history and the loop guard."""

    __tablename__ = "case_forwards"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    from_agency: Mapped[str | None] = mapped_column(String(96))
    to_agency: Mapped[str] = mapped_column(String(96))
    actor: Mapped[str] = mapped_column(String(96))
    note: Mapped[str | None] = mapped_column(Text)
    loop_override: Mapped[bool] = mapped_column(Boolean, default=False)  # an administrator sent it back anyway
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class ResponseTemplate(Base):
    """A ready text staff insert into notes and replies: an agency's own (``agency_id``) or shared (None),
    optionally offered only when moving a case to ``state``."""

    __tablename__ = "response_templates"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    agency_id: Mapped[str | None] = mapped_column(String(96), index=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str | None] = mapped_column(String(24))
    lang: Mapped[str] = mapped_column(String(8), default="th")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(96))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
