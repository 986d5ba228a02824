"""Tables of the integrations with other systems: a case's references in other channels (1111, 1567, Traffy,
a letter number), the agency API's idempotent intake of phone and letter complaints, and the outbound
webhooks agencies and integrators register (their deliveries are outbox rows of kind ``webhook``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.db import Base, UtcDateTime
from storage.models.core import BigId, utcnow

REFERENCE_KINDS = ("1111", "1567", "traffy", "letter", "other")


class CaseReference(Base):
    """A number the same complaint carries in another channel: staff search the queue by it, and systems
    that know the complaint by it find ours. ``value`` is kept as typed (trimmed); search is exact or prefix."""

    __tablename__ = "case_references"
    __table_args__ = (UniqueConstraint("case_id", "kind", "value", name="uq_case_references_case_kind_value"),
                      Index("ix_case_references_value", "value"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(120))
    added_by: Mapped[str] = mapped_column(String(96))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class ApiCaseIntake(Base):
    """A case an agency system created through the API, under the system's own ticket id: the same
    ``client_ticket_id`` again (a retry after a timeout) finds this row and the same case, never a second one.
    Unique per agency, so two agencies' systems may use the same numbering."""

    __tablename__ = "api_case_intakes"
    __table_args__ = (UniqueConstraint("agency_id", "client_ticket_id", name="uq_api_case_intakes_client"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    agency_id: Mapped[str] = mapped_column(String(96))
    client_ticket_id: Mapped[str] = mapped_column(String(120))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    api_key_id: Mapped[int | None] = mapped_column(BigId)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class WebhookRegistration(Base):
    """A URL Siang POSTs case events to, signed with the registration's own secret (HMAC-SHA256).

    ``agency_id`` limits it to that agency's cases (None: every case; administrators only). ``api_key_id`` is
    the integrator's agency API key: changes made with that key are not sent back to it. ``events`` is a
    comma-separated subset of ``bot.integrations.webhooks.EVENTS``."""

    __tablename__ = "webhook_registrations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(1000))
    secret: Mapped[str] = mapped_column(String(128))
    agency_id: Mapped[str | None] = mapped_column(String(96), index=True)
    api_key_id: Mapped[int | None] = mapped_column(BigId)
    events: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(96))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
