"""Open conversations between staff and a citizen: while one is open, the citizen's messages go to it.

A ``StaffThread`` is opened by an officer's reply on a case (console "reply in chat", ``ตอบ`` in an agency's
group) or by a hand-over ("คุยกับเจ้าหน้าที่"); it ends when staff close it, when the citizen starts something
else explicitly, or after ``THREAD_IDLE_SECONDS`` without a message either way (``closed_by`` says which).
``HandoverMessage`` keeps both sides of a hand-over's conversation (a case's are ``case_messages`` and the
case's ``reply`` notes).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.db import Base, UtcDateTime
from storage.models.core import BigId, utcnow


class StaffThread(Base):
    __tablename__ = "staff_threads"
    __table_args__ = (Index("ix_staff_threads_citizen_closed", "citizen_id", "closed_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id", ondelete="CASCADE"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    handover_id: Mapped[int | None] = mapped_column(ForeignKey("handover_requests.id", ondelete="CASCADE"),
                                                    index=True)
    opened_by: Mapped[str] = mapped_column(String(96))
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # staff:<id> / group:<id> (an officer), "citizen" (started something else), "idle" (expired)
    closed_by: Mapped[str | None] = mapped_column(String(96))


class HandoverMessage(Base):
    __tablename__ = "handover_messages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    handover_id: Mapped[int] = mapped_column(ForeignKey("handover_requests.id", ondelete="CASCADE"), index=True)
    sender: Mapped[str] = mapped_column(String(16))  # citizen | staff
    author: Mapped[str | None] = mapped_column(String(96))  # staff:<id> for staff messages
    text: Mapped[str | None] = mapped_column(Text)
    content_id: Mapped[int | None] = mapped_column(ForeignKey("stored_content.id", ondelete="SET NULL"))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    source_event_id: Mapped[int | None] = mapped_column(ForeignKey("inbox_events.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
