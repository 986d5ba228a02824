"""Tables of the staff console: staff accounts, API keys, the audit log, notes, category corrections, and the
editable agency and category catalogues (seeded from ``bot/data``).

Also declares the extra indexes on ``cases`` that the executive dashboard needs at millions of rows (they
attach themselves to the cases table, so the metadata and the migration agree).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.db import Base, UtcDateTime
from storage.models.cases import Case
from storage.models.core import BigId, utcnow

ROLES = ("administrator", "agency_staff", "announcer", "executive")

# Dashboard access paths: period scans by creation / resolution time, open work by province.
Index("ix_cases_created_at", Case.created_at)
Index("ix_cases_resolved_at", Case.resolved_at)
Index("ix_cases_province_status", Case.province, Case.status)


class Agency(Base):
    """An agency cases are routed to; ids are those of ``bot/data/agencies.toml``."""

    __tablename__ = "agencies"

    id: Mapped[str] = mapped_column(String(96), primary_key=True)
    name_th: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str | None] = mapped_column(String(300))
    level: Mapped[str] = mapped_column(String(16), default="national")
    hotline: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Category(Base):
    """A complaint category and its service-level target (days), editable by administrators."""

    __tablename__ = "categories"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    label_th: Mapped[str] = mapped_column(String(200))
    label_en: Mapped[str | None] = mapped_column(String(200))
    target_days: Mapped[float] = mapped_column(Float, default=15)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    # Proof of work: resolving a case of this category needs a photo of the place after the work.
    requires_after_photo: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class StaffUser(Base):
    """A person who signs in to the console. ``provinces`` (comma-separated Thai names) narrows an agency
    user's cases further; empty means every province of the agency."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(24))
    agency_id: Mapped[str | None] = mapped_column(String(96))
    provinces: Mapped[str | None] = mapped_column(Text)
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    # The last TOTP time step accepted: a code is good once, not again within its window.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    # Copied into each session and compared on every request; raised to end every session of the account
    # (sign-out, disabled, password changed).
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    @property
    def province_list(self) -> list[str]:
        return [p.strip() for p in (self.provinces or "").split(",") if p.strip()]


class LoginAttempt(Base):
    """Every sign-in attempt, for throttling by user name and by address."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_username_created", "username", "created_at"),
                      Index("ix_login_attempts_address_created", "address", "created_at"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    address: Mapped[str | None] = mapped_column(String(64))
    success: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class LoginCounter(Base):
    """Sign-in attempts of one key (``account:<name>`` or ``address:<ip>``) in its current window, for the
    embedded mode and any deployment without Redis; bumped by one upsert so concurrent attempts never share
    a count."""

    __tablename__ = "login_counters"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    window_started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    attempts: Mapped[int] = mapped_column(Integer)


class ApiKey(Base):
    """A key for the open data and agency APIs; only its SHA-256 is kept. ``scope`` is ``open311`` (may post
    requests) or ``agency`` (may read and update the cases of ``agency_id``)."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(12))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(16))
    agency_id: Mapped[str | None] = mapped_column(String(96))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str | None] = mapped_column(String(96))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class AuditEntry(Base):
    """One staff (or API) action: who did what to what, from where, when."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    actor: Mapped[str] = mapped_column(String(96), index=True)
    action: Mapped[str] = mapped_column(String(48))
    target: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)


class CaseNote(Base):
    """Staff writing on a case: an internal ``note``, a ``reply`` sent to the citizen, a ``forward``."""

    __tablename__ = "case_notes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(96))
    kind: Mapped[str] = mapped_column(String(16), default="note")
    agency_id: Mapped[str | None] = mapped_column(String(96))  # whose note (a co-handler's notes are its own)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class CategoryCorrection(Base):
    """Staff corrected a case's category: training data for the classifier (`siang nlp train --corrections`)."""

    __tablename__ = "category_corrections"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"), index=True)
    text: Mapped[str] = mapped_column(Text)
    old_category: Mapped[str] = mapped_column(String(64))
    new_category: Mapped[str] = mapped_column(String(64))
    corrected_by: Mapped[str] = mapped_column(String(96))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
