"""Reading the dashboard's daily roll-up of the cases (``case_daily_stats``, ``case_resolve_days``).

Triggers on ``cases`` (migration ``0016``) keep both tables exact in the same transaction as every case change,
so these reads are as current as the cases themselves; a period of whole Bangkok days costs a scan of a few
hundred rows per day, whatever the number of cases.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import CaseDailyStats, CaseOpenStats, CaseResolveDays

RATINGS = (1, 2, 3, 4, 5)


def _key(value: str) -> str | None:
    return value or None  # the triggers store a missing agency or province as ""


def period_counts(db: Session, first_day: date, end_day: date) -> tuple[dict[str, list[tuple]], dict[str, list[tuple]]]:
    """Cases filed and resolved on the Bangkok days ``[first_day, end_day)``, in the shape of the dashboard's
    case passes: ``{"category" | "agency" | "province" | "day": [((key,), n), ...]}`` for filed and the same
    plus ``"rating"`` for resolved."""
    t = CaseDailyStats
    rated = [func.sum(getattr(t, f"rated_{n}")) for n in RATINGS]
    where = (t.day >= first_day, t.day < end_day)
    received: dict[str, list[tuple]] = {"category": [], "agency": [], "province": [], "day": []}
    resolved: dict[str, list[tuple]] = {**{name: [] for name in received}, "rating": []}
    stars = [0] * len(RATINGS)
    query = select(t.dimension, t.key, func.sum(t.received), func.sum(t.resolved), *rated).where(*where)
    for dimension, key, filed, done, *ratings in db.execute(query.group_by(t.dimension, t.key)):
        if filed:
            received[dimension].append(((_key(key),), int(filed)))
        if done:
            resolved[dimension].append(((_key(key),), int(done)))
        if dimension == "category":
            stars = [s + int(n or 0) for s, n in zip(stars, ratings)]
    resolved["rating"] = [((n,), count) for n, count in zip(RATINGS, stars) if count]
    days = select(t.day, func.sum(t.received), func.sum(t.resolved)).where(*where, t.dimension == "category")
    for day, filed, done in db.execute(days.group_by(t.day)):
        if filed:
            received["day"].append(((day,), int(filed)))
        if done:
            resolved["day"].append(((day,), int(done)))
    return received, resolved


def resolve_days(db: Session, first_day: date, end_day: date) -> dict[str, dict[int, int]]:
    """Per category, how many cases resolved on ``[first_day, end_day)`` took each whole number of days."""
    t = CaseResolveDays
    out: dict[str, dict[int, int]] = {}
    query = (select(t.category, t.days, func.sum(t.cases)).where(t.day >= first_day, t.day < end_day)
             .group_by(t.category, t.days))
    for category, days, cases in db.execute(query):
        if cases:
            out.setdefault(category, {})[int(days)] = int(cases)
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
