"""The executive dashboard's figures, computed by SQL aggregates that stay fast at millions of cases.

Each figure reads through an index: cases received by ``created_at``, resolved by ``resolved_at``, open work
by ``status`` (see the indexes declared in ``storage.models.staff`` and ``storage.models.cases``). Nothing
loads cases into Python except on SQLite, which has no percentile function (the embedded mode's small data).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Float, cast, func, literal_column, select
from sqlalchemy.orm import Session

from bot.casework.states import STATES
from storage.models import Case, utcnow

OPEN_STATES = tuple(s.id for s in STATES.values() if s.open)
DIMENSIONS = {"category": Case.category, "agency": Case.agency_id, "province": Case.province}


@dataclass
class Row:
    key: str | None
    received: int = 0
    resolved: int = 0
    open: int = 0
    overdue: int = 0

    @property
    def overdue_share(self) -> float:
        return self.overdue / self.open if self.open else 0.0


@dataclass
class Figures:
    start: datetime
    end: datetime
    totals: Row
    by: dict[str, list[Row]]
    resolve_times: list[dict]
    agencies_by_overdue: list[Row]
    ratings: dict
    trend: list[dict]
    map_cells: list[dict]
    extra: dict = field(default_factory=dict)


def _is_pg(db: Session) -> bool:
    return db.get_bind().dialect.name == "postgresql"


def _days(db: Session, later, earlier):
    """``later - earlier`` in days, as SQL."""
    if _is_pg(db):
        return func.extract("epoch", later - earlier) / 86400.0
    return func.julianday(later) - func.julianday(earlier)


def _local_day(db: Session, column):
    if _is_pg(db):
        return func.to_char(func.timezone("Asia/Bangkok", column), "YYYY-MM-DD")
    return func.date(column, "+7 hours")


def by_dimension(db: Session, name: str, start: datetime, end: datetime, now: datetime) -> list[Row]:
    column = DIMENSIONS[name]
    rows: dict[str | None, Row] = {}
    received = select(column, func.count()).where(Case.created_at >= start, Case.created_at < end).group_by(column)
    for key, count in db.execute(received):
        rows.setdefault(key, Row(key)).received = count
    resolved = select(column, func.count()).where(Case.resolved_at >= start, Case.resolved_at < end).group_by(column)
    for key, count in db.execute(resolved):
        rows.setdefault(key, Row(key)).resolved = count
    open_work = (select(column, func.count(), func.count().filter(Case.target_due_at < now))
                 .where(Case.status.in_(OPEN_STATES)).group_by(column))
    for key, count, overdue in db.execute(open_work):
        row = rows.setdefault(key, Row(key))
        row.open, row.overdue = count, overdue
    return sorted(rows.values(), key=lambda r: (-r.received, -r.open, str(r.key)))


def _percentile(values: list[float], q: float) -> float:
    """Linear interpolation, as PostgreSQL's ``percentile_cont``."""
    if not values:
        return 0.0
    values = sorted(values)
    position = (len(values) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return values[low] + (values[high] - values[low]) * (position - low)


def resolution_percentiles(db: Session, start: datetime, end: datetime,
                           quantiles: tuple[float, ...] = (0.5, 0.9)) -> dict[str, dict]:
    """Per category: count and the given quantiles of days from filing to resolution, for cases resolved in
    the period."""
    days = _days(db, Case.resolved_at, Case.created_at)
    where = (Case.resolved_at >= start, Case.resolved_at < end)
    out: dict[str, dict] = {}
    if _is_pg(db):
        columns = [func.percentile_cont(q).within_group(days) for q in quantiles]
        query = select(Case.category, func.count(), *columns).where(*where).group_by(Case.category)
        for category, count, *values in db.execute(query):
            out[category] = {"count": count, **{q: float(v or 0) for q, v in zip(quantiles, values)}}
        return out
    samples: dict[str, list[float]] = {}
    for category, value in db.execute(select(Case.category, cast(days, Float)).where(*where)):
        samples.setdefault(category, []).append(float(value or 0))
    for category, values in samples.items():
        out[category] = {"count": len(values), **{q: _percentile(values, q) for q in quantiles}}
    return out


def ratings(db: Session, start: datetime, end: datetime) -> dict:
    query = (select(Case.rating, func.count()).where(Case.resolved_at >= start, Case.resolved_at < end,
                                                     Case.rating.is_not(None)).group_by(Case.rating))
    counts = {int(stars): n for stars, n in db.execute(query)}
    total = sum(counts.values())
    average = sum(s * n for s, n in counts.items()) / total if total else None
    return {"counts": {s: counts.get(s, 0) for s in range(1, 6)}, "total": total, "average": average}


def trend(db: Session, start: datetime, end: datetime) -> list[dict]:
    day_created = _local_day(db, Case.created_at)
    day_resolved = _local_day(db, Case.resolved_at)
    days: dict[str, dict] = {}
    for day, n in db.execute(select(day_created, func.count()).where(Case.created_at >= start, Case.created_at < end)
                             .group_by(day_created)):
        days.setdefault(day, {"day": day, "received": 0, "resolved": 0})["received"] = n
    for day, n in db.execute(select(day_resolved, func.count())
                             .where(Case.resolved_at >= start, Case.resolved_at < end).group_by(day_resolved)):
        days.setdefault(day, {"day": day, "received": 0, "resolved": 0})["resolved"] = n
    return [days[d] for d in sorted(days)]


def map_cells(db: Session, now: datetime, limit: int = 3000) -> list[dict]:
    """Open cases with coordinates, counted per cell of 0.1 degree (about 11 km)."""
    lat = func.round(Case.latitude * 10) / 10
    lon = func.round(Case.longitude * 10) / 10
    query = (select(lat.label("lat"), lon.label("lon"), func.count().label("n"),
                    func.count().filter(Case.target_due_at < now).label("overdue"))
             .where(Case.status.in_(OPEN_STATES), Case.latitude.is_not(None), Case.longitude.is_not(None))
             .group_by(literal_column("lat"), literal_column("lon"))
             .order_by(literal_column("n").desc()).limit(limit))
    return [{"lat": float(a), "lon": float(o), "n": n, "overdue": d} for a, o, n, d in db.execute(query)]


def compute(db: Session, start: datetime, end: datetime, targets: dict[str, float],
            now: datetime | None = None) -> Figures:
    now = now or utcnow()
    by = {name: by_dimension(db, name, start, end, now) for name in DIMENSIONS}
    totals = Row("all")
    for row in by["category"]:
        totals.received += row.received
        totals.resolved += row.resolved
        totals.open += row.open
        totals.overdue += row.overdue
    times = resolution_percentiles(db, start, end)
    resolve_times = [{"category": category, "count": t["count"], "median": t[0.5], "p90": t[0.9],
                      "target": targets.get(category), "late": targets.get(category) is not None
                      and t[0.5] > targets[category]} for category, t in sorted(times.items())]
    ranked = sorted((r for r in by["agency"] if r.open), key=lambda r: (-r.overdue_share, -r.overdue, str(r.key)))
    return Figures(start, end, totals, by, resolve_times, ranked[:20], ratings(db, start, end), trend(db, start, end),
                   map_cells(db, now))


def propose_targets(db: Session, start: datetime, end: datetime, quantile: float = 0.8,
                    min_cases: int = 20) -> dict[str, dict]:
    """Each category's proposed target: the days within which ``quantile`` of its cases were resolved."""
    observed = resolution_percentiles(db, start, end, (0.5, quantile))
    return {category: {"count": t["count"], "median": t[0.5], "observed": t[quantile],
                       "proposed": max(1, math.ceil(t[quantile]))}
            for category, t in observed.items() if t["count"] >= min_cases}


