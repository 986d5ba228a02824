"""Tables of delivery and of the case conversation: alerts for staff, and what citizens add to a case.

``DeliveryAlert`` is both the staff-visible record of a delivery problem (LINE's monthly limit) and the
shared switch that pauses sending: every worker on every machine reads it, so a pause survives a Redis flush.
``CaseMessage`` keeps what a citizen writes while their case waits for information from them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.db import Base, UtcDateTime
from storage.models.core import BigId, utcnow


class DeliveryAlert(Base):
    """A delivery problem staff must see; open while ``resolved_at`` is empty."""

    __tablename__ = "delivery_alerts"
    __table_args__ = (Index("ix_delivery_alerts_kind_resolved", "kind", "resolved_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # monthly_limit
    message: Mapped[str] = mapped_column(Text)
    details: Mapped[str | None] = mapped_column(Text)  # JSON: LINE's quota and consumption when known
    # Counted sends wait until then; renewed each time LINE still refuses after a pause.
    paused_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class CaseMessage(Base):
    """A message a citizen sent about their case: while it waited for information, or in an open thread with
    an officer (``bot.casework.threads``)."""

    __tablename__ = "case_messages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    text: Mapped[str | None] = mapped_column(Text)
    content_id: Mapped[int | None] = mapped_column(ForeignKey("stored_content.id", ondelete="SET NULL"))
    # A shared location (the citizen answering an officer with a pin); ``text`` then holds its title/address.
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    source_event_id: Mapped[int | None] = mapped_column(ForeignKey("inbox_events.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
