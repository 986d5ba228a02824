"""Cases (complaints filed by citizens), their status history and their ticket numbers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.db import Base, UtcDateTime
from storage.models.core import BigId, Citizen, utcnow


class Case(Base):
    """One complaint, from the citizen's first message to its closing.

    ``category`` and ``agency_id`` are the stable ids of the NLP catalogue (``bot/data``), so routing data
    can change without migrating cases. ``status`` is a state id of ``bot.casework.states``.
    """

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_agency_status", "agency_id", "status"),
        Index("ix_cases_category_created", "category", "created_at"),
        Index("ix_cases_status_due", "status", "target_due_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket: Mapped[str] = mapped_column(String(24), unique=True)
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizens.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(24), default="received")
    category: Mapped[str] = mapped_column(String(64))
    category_confidence: Mapped[float | None] = mapped_column(Float)
    agency_id: Mapped[str | None] = mapped_column(String(96))
    description: Mapped[str] = mapped_column(Text)
    province: Mapped[str | None] = mapped_column(String(64))
    district: Mapped[str | None] = mapped_column(String(64))
    address: Mapped[str | None] = mapped_column(String(300))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    occurred_on: Mapped[str | None] = mapped_column(String(32))
    phone: Mapped[str | None] = mapped_column(String(32))
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    channel: Mapped[str] = mapped_column(String(16), default="line")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    target_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    rating: Mapped[int | None] = mapped_column(Integer)
    citizen_says_solved: Mapped[bool | None] = mapped_column(Boolean)
    # The officer of the lead agency working the case (None: the agency's queue); changes are audited.
    assigned_to: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"), index=True)

    citizen: Mapped[Citizen | None] = relationship()
    history: Mapped[list["StatusChange"]] = relationship(back_populates="case", order_by="StatusChange.id")


class StatusChange(Base):
    """One step of a case's life: who moved it, when, from what to what, and why."""

    __tablename__ = "status_changes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str] = mapped_column(String(24))
    actor: Mapped[str] = mapped_column(String(96))  # citizen | system | staff:<id> | group:<id> | api:<agency>
    note: Mapped[str | None] = mapped_column(Text)  # shown to citizens; Thai, the default language
    # The note's English text when it has one (notes the system writes from the catalogue); staff notes have none.
    note_en: Mapped[str | None] = mapped_column(Text)
    # The agency whose step this is: the lead when ``part`` is None, else the co-handler of that part (its
    # part's statuses in from/to). Shown to citizens by name on the one timeline of the case.
    agency_id: Mapped[str | None] = mapped_column(String(96))
    part: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    case: Mapped[Case] = relationship(back_populates="history")


class CaseAttachment(Base):
    """A photo or file of a case, pointing at the content we downloaded from LINE."""

    __tablename__ = "case_attachments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    content_id: Mapped[int] = mapped_column(ForeignKey("stored_content.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8), default="citizen", server_default="citizen")  # citizen | after
    added_by: Mapped[str | None] = mapped_column(String(96))  # staff:<id> | group:<id> for an after-photo
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class TicketCounter(Base):
    """The last ticket number given out in a (prefix, Buddhist-era year): numbers are dense and unique."""

    __tablename__ = "ticket_counters"

    prefix: Mapped[str] = mapped_column(String(8), primary_key=True)
    year_be: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)
