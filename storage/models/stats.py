"""The dashboard's roll-ups of the cases per Bangkok day and month (migrations ``0016``, ``0018``).

The rows are written only by triggers on ``cases`` (in the same transaction as the case change), never by the
application: these models are for reading. ``key`` is ``""`` where the case has no agency or province.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.db import Base


class CaseDailyStats(Base):
    """Per Bangkok day and per category, agency or province (and ``all``, key ""): cases filed, resolved and rated
    that day."""

    __tablename__ = "case_daily_stats"
    # the trend reads one dimension ("all") over many days: without it, every key of every day of the period
    __table_args__ = (Index("ix_case_daily_stats_dimension_day", "dimension", "day"),)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    dimension: Mapped[str] = mapped_column(String(8), primary_key=True)  # all | category | agency | province
    key: Mapped[str] = mapped_column(String(96), primary_key=True)
    received: Mapped[int] = mapped_column(Integer, server_default="0")
    resolved: Mapped[int] = mapped_column(Integer, server_default="0")
    rated_1: Mapped[int] = mapped_column(Integer, server_default="0")
    rated_2: Mapped[int] = mapped_column(Integer, server_default="0")
    rated_3: Mapped[int] = mapped_column(Integer, server_default="0")
    rated_4: Mapped[int] = mapped_column(Integer, server_default="0")
    rated_5: Mapped[int] = mapped_column(Integer, server_default="0")


class CaseMonthlyStats(Base):
    """``CaseDailyStats`` per Bangkok calendar month (``month`` is its first day), by the same triggers."""

    __tablename__ = "case_monthly_stats"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    dimension: Mapped[str] = mapped_column(String(8), primary_key=True)  # all | category | agency | province
    key: Mapped[str] = mapped_column(String(96), primary_key=True)
    received: Mapped[int] = mapped_column(Integer, server_default="0")
    resolved: Mapped[int] = mapped_column(Integer, server_default="0")
    rated_1: Mapped[int] = mapped_column(Integer, server_default="0")
    rated_2: Mapped[int] = mapped_column(Integer, server_default="0")
    rated_3: Mapped[int] = mapped_column(Integer, server_default="0")
    rated_4: Mapped[int] = mapped_column(Integer, server_default="0")
    rated_5: Mapped[int] = mapped_column(Integer, server_default="0")


class CaseResolveMonths(Base):
    """``CaseResolveDays`` per Bangkok calendar month of resolution (``month`` is its first day)."""

    __tablename__ = "case_resolve_months"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    category: Mapped[str] = mapped_column(String(64), primary_key=True)
    days: Mapped[int] = mapped_column(Integer, primary_key=True)
    cases: Mapped[int] = mapped_column(Integer, server_default="0")


class CaseResolveDays(Base):
    """Per Bangkok day of resolution and category: how many cases took ``days`` whole days (capped at 3650)."""

    __tablename__ = "case_resolve_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    category: Mapped[str] = mapped_column(String(64), primary_key=True)
    days: Mapped[int] = mapped_column(Integer, primary_key=True)
    cases: Mapped[int] = mapped_column(Integer, server_default="0")


class CaseOpenStats(Base):
    """Open cases now, per category, agency, province or map cell (``key`` "lat,lon", 0.1 degree)."""

    __tablename__ = "case_open_stats"

    dimension: Mapped[str] = mapped_column(String(8), primary_key=True)  # category | agency | province | map
    key: Mapped[str] = mapped_column(String(96), primary_key=True)
    open: Mapped[int] = mapped_column(Integer, server_default="0")
