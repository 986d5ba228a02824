"""Tables of the conversations: flow state, consent, opinions, volunteers, hand-overs.

Flow state lives in ``flow_states`` in every mode, written in the transaction of the step that changed it
(``bot.flows.state``). The other tables hold what conversations collect for staff.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.db import Base, UtcDateTime
from storage.models.core import BigId, utcnow


class FlowState(Base):
    """Where one citizen is in a conversation: the flow, the step and the draft so far (JSON)."""

    __tablename__ = "flow_states"

    line_user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class Consent(Base):
    """A citizen's answer to the personal-data notice of a given version (PDPA)."""

    __tablename__ = "consents"
    __table_args__ = (Index("ix_consents_citizen_purpose", "citizen_id", "purpose"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(32))  # complaint | volunteer
    version: Mapped[str] = mapped_column(String(16))
    given: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class OpinionTopic(Base):
    """A question staff open for opinions (e.g. a reform topic), open between two dates."""

    __tablename__ = "opinion_topics"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    title_th: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    opens_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    closes_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class Opinion(Base):
    """One citizen's opinion on a topic, with an optional 1-5 rating, kept for staff analysis."""

    __tablename__ = "opinions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("opinion_topics.id", ondelete="CASCADE"), index=True)
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizens.id", ondelete="SET NULL"), index=True)
    text: Mapped[str] = mapped_column(Text)
    rating: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class Volunteer(Base):
    """A citizen registered to help: one row per citizen, edited in place."""

    __tablename__ = "volunteers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id", ondelete="CASCADE"), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(32))
    province: Mapped[str] = mapped_column(String(64))
    skills: Mapped[str] = mapped_column(Text)
    availability: Mapped[str] = mapped_column(String(64))
    consent_version: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class HandoverRequest(Base):
    """A citizen asked to talk to a person (or no category fitted): staff pick it up in the console."""

    __tablename__ = "handover_requests"
    __table_args__ = (Index("ix_handover_requests_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizens.id", ondelete="SET NULL"), index=True)
    line_user_id: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(32))  # asked | category_unknown
    message: Mapped[str | None] = mapped_column(Text)
    province: Mapped[str | None] = mapped_column(String(64))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | taken | closed
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    taken_by: Mapped[str | None] = mapped_column(String(96))
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class CaseSupporter(Base):
    """A citizen who joined an existing case ("me too") instead of filing a duplicate."""

    __tablename__ = "case_supporters"
    __table_args__ = (UniqueConstraint("case_id", "citizen_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizens.id", ondelete="SET NULL"), index=True)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class CaseSourceEvent(Base):
    """The webhook events a case was made from, first to last: its history from the first message."""

    __tablename__ = "case_source_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    inbox_event_id: Mapped[int | None] = mapped_column(ForeignKey("inbox_events.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
