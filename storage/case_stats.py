"""Reading the dashboard's roll-ups of the cases: per Bangkok day (``case_daily_stats``, ``case_resolve_days``)
and per Bangkok month (``case_monthly_stats``, ``case_resolve_months``), and the open work (``case_open_stats``).

Triggers on ``cases`` (migrations ``0016``, ``0018``) keep every table exact in the same transaction as every case
change, so these reads are as current as the cases themselves. A period of whole days reads its whole calendar months
from the monthly tables and only its edge days (at most two partial months) from the daily ones: a year is a
few thousand rows, whatever the number of cases. The trend and the ratings read the ``all`` rows (one a day).
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import CaseDailyStats, CaseMonthlyStats, CaseOpenStats, CaseResolveDays, CaseResolveMonths

RATINGS = (1, 2, 3, 4, 5)
BREAKDOWNS = ("category", "agency", "province")


def _key(value: str) -> str | None:
    return value or None  # the triggers store a missing agency or province as ""


def _next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def split_months(first_day: date, end_day: date) -> tuple[list[tuple[date, date]], tuple[date, date] | None]:
    """The days ``[first_day, end_day)`` as the whole calendar months inside them ``[first month, end month)``
    and the day ranges left at either edge (each shorter than a month)."""
    first_month = first_day if first_day.day == 1 else _next_month(first_day)
    end_month = end_day.replace(day=1)
    if first_month >= end_month:
        return ([(first_day, end_day)] if first_day < end_day else []), None
    edges = [(a, b) for a, b in ((first_day, first_month), (end_month, end_day)) if a < b]
    return edges, (first_month, end_month)


def _ranges(first_day: date, end_day: date, monthly, daily) -> list[tuple]:
    """(table, its period column, start, end) for each part of the period: the whole months on ``monthly``, each
    edge on ``daily``. One query per part, each a range on the primary key's leading column (an ``OR`` of
    ranges lets the planner fall back to scanning the whole daily table)."""
    edges, months = split_months(first_day, end_day)
    parts = [(monthly, monthly.month, *months)] if months else []
    return parts + [(daily, daily.day, a, b) for a, b in edges]


def _breakdown_queries(first_day: date, end_day: date) -> list:
    """Per dimension and key, the sums over each part of the period (whole months, edge days)."""
    queries = []
    for table, period, a, b in _ranges(first_day, end_day, CaseMonthlyStats, CaseDailyStats):
        rated = [func.sum(getattr(table, f"rated_{n}")) for n in RATINGS]
        queries.append(select(table.dimension, table.key, func.sum(table.received), func.sum(table.resolved), *rated)
                       .where(period >= a, period < b).group_by(table.dimension, table.key))
    return queries


def period_counts(db: Session, first_day: date, end_day: date) -> tuple[dict[str, list[tuple]], dict[str, list[tuple]]]:
    """Cases filed and resolved on the Bangkok days ``[first_day, end_day)``, in the shape of the dashboard's
    case passes: ``{"category" | "agency" | "province" | "day": [((key,), n), ...]}`` for filed and the same
    plus ``"rating"`` for resolved."""
    sums: dict[tuple[str, str], list[int]] = {}
    for query in _breakdown_queries(first_day, end_day):
        for dimension, key, *values in db.execute(query):
            total = sums.setdefault((dimension, key), [0] * (2 + len(RATINGS)))
            for i, value in enumerate(values):
                total[i] += int(value or 0)
    received: dict[str, list[tuple]] = {name: [] for name in (*BREAKDOWNS, "day")}
    resolved: dict[str, list[tuple]] = {**{name: [] for name in received}, "rating": []}
    for (dimension, key), (filed, done, *stars) in sums.items():
        if dimension == "all":
            resolved["rating"] = [((n,), count) for n, count in zip(RATINGS, stars) if count]
            continue
        if filed:
            received[dimension].append(((_key(key),), filed))
        if done:
            resolved[dimension].append(((_key(key),), done))
    t = CaseDailyStats
    days = select(t.day, t.received, t.resolved).where(t.day >= first_day, t.day < end_day, t.dimension == "all")
    for day, filed, done in db.execute(days):
        if filed:
            received["day"].append(((day,), int(filed)))
        if done:
            resolved["day"].append(((day,), int(done)))
    return received, resolved


def resolve_days(db: Session, first_day: date, end_day: date) -> dict[str, dict[int, int]]:
    """Per category, how many cases resolved on ``[first_day, end_day)`` took each whole number of days."""
    out: dict[str, dict[int, int]] = {}
    for table, period, a, b in _ranges(first_day, end_day, CaseResolveMonths, CaseResolveDays):
        query = (select(table.category, table.days, func.sum(table.cases)).where(period >= a, period < b)
                 .group_by(table.category, table.days))
        for category, days, cases in db.execute(query):
            if cases:
                bucket = out.setdefault(category, {})
                bucket[int(days)] = bucket.get(int(days), 0) + int(cases)
    return out


def open_counts(db: Session) -> dict[str, list[tuple]]:
    """Open cases now: ``{"category" | "agency" | "province": [((key,), n)], "map": [((lat, lon), n)]}``."""
    out: dict[str, list[tuple]] = {"category": [], "agency": [], "province": [], "map": []}
    t = CaseOpenStats
    for dimension, key, n in db.execute(select(t.dimension, t.key, t.open).where(t.open != 0)):
        if dimension == "map":
            lat, lon = key.split(",")
            out["map"].append(((float(lat), float(lon)), n))
        else:
            out[dimension].append(((_key(key),), n))
    return out
