"""The executive dashboard's figures, computed by SQL aggregates that stay fast at millions of cases.

Filed and resolved counts (per category, agency, province, day and rating) come from the roll-ups
(``storage.case_stats``, kept exact by triggers on ``cases``) for the whole Bangkok days of the period (its whole
calendar months from the monthly rows, its other days from the daily rows, the trend from one row a day), and
from the cases themselves only for a partial day at either edge: one grouped pass over the cases received
there (range on ``created_at``) and one over those resolved there (range on ``resolved_at``), each computing
every breakdown at once with ``GROUPING SETS`` on PostgreSQL. Open work comes from the roll-up's open
counts; "overdue" depends on the moment of asking, so it is the open count minus the open cases not yet due,
read from the cases (the recent few). Time-to-resolve percentiles are exact (``percentile_cont`` over the cases)
while the period holds at most ``EXACT_PERCENTILES_UP_TO`` resolved cases, and beyond that read from the
roll-up's histogram of whole days (within a day of the exact value, usually much closer). Nothing loads cases
into Python except on SQLite, which has no percentile function and no ``GROUPING SETS`` (the embedded mode's
small data: one ``GROUP BY`` per set).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, Date, Float, Integer, cast, func, or_, select, text, tuple_
from sqlalchemy.orm import Session

from bot.casework.states import OPEN_STATES
from storage import case_stats
from storage.models import Case, utcnow
from storage.models.core import BANGKOK

DIMENSIONS = {"category": Case.category, "agency": Case.agency_id, "province": Case.province}
EXACT_PERCENTILES_UP_TO = 20_000  # resolved cases in the period; sorting 41,000 costs ~0.8 count(*) of 1M cases
MAX_DAYS = 3650  # the roll-up's histogram caps a case's days to resolve here


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
    """The Bangkok calendar day of ``column``: a ``date`` on PostgreSQL (cheaper to group by than ``to_char``),
    a ``YYYY-MM-DD`` string on SQLite; ``_day_text`` makes both a string."""
    if _is_pg(db):
        return cast(func.timezone("Asia/Bangkok", column), Date)
    return func.date(column, "+7 hours")


def _tune(db: Session) -> None:
    """On PostgreSQL, give this transaction's aggregates enough memory to hash every grouping set (a few
    thousand groups at most) and sort the percentiles' inputs in memory, instead of the default 4 MB's
    sort-and-spill-to-disk; and skip JIT, whose compile time costs more than it saves on these queries."""
    if _is_pg(db):
        db.execute(text("SET LOCAL work_mem = '64MB'"))
        db.execute(text("SET LOCAL jit = off"))


def _between(column, start: datetime, end: datetime) -> tuple:
    """``start <= column < end``. The columns are ``UtcDateTime``: a Bangkok midnight is bound as the UTC instant
    the stamps are stored in, on SQLite as on PostgreSQL (the roll-ups bucket the same stamps by Bangkok day)."""
    return column >= start, column < end


def _day_text(day) -> str:
    return day if isinstance(day, str) else day.isoformat()


def grouped(db: Session, columns: dict[str, ColumnElement], where, sets: dict[str, tuple[str, ...]],
            measures=lambda rows: [func.count()]) -> dict[str, list[tuple]]:
    """Aggregates of the rows matching ``where``, grouped by each named set of ``columns``, in ONE pass.

    Returns ``{set name: [(key tuple, *measures), ...]}``. On PostgreSQL this is a single ``GROUPING SETS``
    query (one scan, one hash table per set; ``GROUPING()`` tells the sets apart, so a real NULL key is not
    confused with a rolled-up column). SQLite has no ``GROUPING SETS``: one ``GROUP BY`` per set over the same
    rows (the embedded mode's small data).
    """
    _tune(db)
    rows = select(*(expr.label(name) for name, expr in columns.items())).where(*where).subquery("r")
    out: dict[str, list[tuple]] = {name: [] for name in sets}
    if _is_pg(db):
        names = [name for name in columns if any(name in s for s in sets.values())]
        masks = {sum(1 << (len(names) - 1 - i) for i, n in enumerate(names) if n not in s): set_name
                 for set_name, s in sets.items()}
        query = (select(func.grouping(*(rows.c[n] for n in names)), *(rows.c[n] for n in names), *measures(rows))
                 .group_by(func.grouping_sets(*(tuple_(*(rows.c[n] for n in s)) for s in sets.values()))))
        for mask, *values in db.execute(query):
            set_name = masks[mask]
            keys = dict(zip(names, values))
            out[set_name].append((tuple(keys[n] for n in sets[set_name]), *values[len(names):]))
        return out
    for set_name, s in sets.items():
        keys = [rows.c[n] for n in s]
        for values in db.execute(select(*keys, *measures(rows)).group_by(*keys)):
            out[set_name].append((tuple(values[:len(s)]), *values[len(s):]))
    return out


def received(db: Session, start: datetime, end: datetime) -> dict[str, list[tuple]]:
    """Cases filed in the period (range on ``ix_cases_created_at``), counted by category, agency, province and
    Bangkok day, in one pass."""
    columns = {**DIMENSIONS, "day": _local_day(db, Case.created_at)}
    return grouped(db, columns, _between(Case.created_at, start, end), {n: (n,) for n in columns})


def resolved(db: Session, start: datetime, end: datetime) -> dict[str, list[tuple]]:
    """Cases resolved in the period (range on ``ix_cases_resolved_at``), counted by category, agency, province,
    Bangkok day and rating, in one pass."""
    columns = {**DIMENSIONS, "day": _local_day(db, Case.resolved_at), "rating": Case.rating}
    return grouped(db, columns, _between(Case.resolved_at, start, end), {n: (n,) for n in columns})


def open_work(db: Session, now: datetime) -> dict[str, list[tuple]]:
    """Open cases and how many are past their target, by category, agency, province and map cell of 0.1
    degree (about 11 km): the open counts from the roll-up, minus the open cases not yet due (or without a
    target), which are the few recent ones (``status IN (...) AND target_due_at >= now`` on
    ``ix_cases_status_due``), read from the cases in one pass."""
    columns = {**DIMENSIONS, "lat": func.round(Case.latitude * 10) / 10, "lon": func.round(Case.longitude * 10) / 10}
    sets = {"category": ("category",), "agency": ("agency",), "province": ("province",), "map": ("lat", "lon")}
    not_due = grouped(db, columns, (Case.status.in_(OPEN_STATES),
                                    or_(Case.target_due_at >= now, Case.target_due_at.is_(None))), sets)
    out: dict[str, list[tuple]] = {}
    for name, rows in case_stats.open_counts(db).items():
        later = {key: n for key, n in not_due[name]}
        if name == "map":
            later = {(float(lat), float(lon)): n for (lat, lon), n in later.items() if lat is not None and lon is not None}
        out[name] = [(key, n, n - later.get(key, 0)) for key, n in rows]
    return out


def by_dimensions(received_rows: dict, resolved_rows: dict, open_rows: dict) -> dict[str, list[Row]]:
    """Received / resolved / open / overdue per category, agency and province, from the three passes."""
    by: dict[str, list[Row]] = {}
    for name in DIMENSIONS:
        rows: dict[str | None, Row] = {}
        for (key,), count in received_rows[name]:
            rows.setdefault(key, Row(key)).received = count
        for (key,), count in resolved_rows[name]:
            rows.setdefault(key, Row(key)).resolved = count
        for (key,), count, overdue in open_rows[name]:
            row = rows.setdefault(key, Row(key))
            row.open, row.overdue = count, overdue
        by[name] = sorted(rows.values(), key=lambda r: (-r.received, -r.open, str(r.key)))
    return by


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
    the period. (A query of its own: an ordered-set aggregate would force sorted, not hashed, grouping
    sets in the ``resolved`` pass.)"""
    days = _days(db, Case.resolved_at, Case.created_at)
    where = _between(Case.resolved_at, start, end)
    out: dict[str, dict] = {}
    if _is_pg(db):
        _tune(db)
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


def ratings(resolved_rows: dict) -> dict:
    counts = {int(stars): n for (stars,), n in resolved_rows["rating"] if stars is not None}
    total = sum(counts.values())
    average = sum(s * n for s, n in counts.items()) / total if total else None
    return {"counts": {s: counts.get(s, 0) for s in range(1, 6)}, "total": total, "average": average}


def trend(received_rows: dict, resolved_rows: dict) -> list[dict]:
    days: dict[str, dict] = {}
    for kind, source in (("received", received_rows), ("resolved", resolved_rows)):
        for (day,), n in source["day"]:
            if day is not None:
                day = _day_text(day)
                days.setdefault(day, {"day": day, "received": 0, "resolved": 0})[kind] = n
    return [days[d] for d in sorted(days)]


def map_cells(open_rows: dict, limit: int = 3000) -> list[dict]:
    """Open cases with coordinates, counted per cell of 0.1 degree, the busiest ``limit`` cells."""
    cells = [{"lat": float(lat), "lon": float(lon), "n": n, "overdue": overdue}
             for (lat, lon), n, overdue in open_rows["map"] if lat is not None and lon is not None]
    return sorted(cells, key=lambda c: -c["n"])[:limit]


def split_period(start: datetime, end: datetime) -> tuple[list[tuple[datetime, datetime]], tuple[date, date] | None]:
    """The period as its whole Bangkok days ``[first, last)`` (read from the roll-up) and the partial days at
    its edges (read from the cases). A dashboard period is whole days, so usually there is no edge."""
    local_start = start.astimezone(BANGKOK)
    first = local_start.replace(hour=0, minute=0, second=0, microsecond=0)
    if first < local_start:
        first += timedelta(days=1)
    last = end.astimezone(BANGKOK).replace(hour=0, minute=0, second=0, microsecond=0)
    if first >= last:
        return [(start, end)], None
    return [(a, b) for a, b in ((start, first), (last, end)) if a < b], (first.date(), last.date())


def _merge(parts: list[dict[str, list[tuple]]]) -> dict[str, list[tuple]]:
    """Sum ``{set: [(key, n), ...]}`` results of disjoint parts of the period."""
    sums: dict[str, dict[tuple, int]] = {}
    for part in parts:
        for name, rows in part.items():
            bucket = sums.setdefault(name, {})
            for key, n in rows:
                bucket[key] = bucket.get(key, 0) + n
    return {name: list(bucket.items()) for name, bucket in sums.items()}


def period_counts(db: Session, start: datetime, end: datetime) -> tuple[dict, dict]:
    """Received and resolved breakdowns of the period: the roll-up for its whole days, the cases for its edges."""
    _tune(db)  # JIT compiling costs more than a roll-up scan
    edges, days = split_period(start, end)
    received_parts = [received(db, a, b) for a, b in edges]
    resolved_parts = [resolved(db, a, b) for a, b in edges]
    if days:
        rolled_received, rolled_resolved = case_stats.period_counts(db, *days)
        received_parts.append(rolled_received)
        resolved_parts.append(rolled_resolved)
    return _merge(received_parts), _merge(resolved_parts)


def _whole_days_from_cases(db: Session, start: datetime, end: datetime) -> dict[str, dict[int, int]]:
    """The roll-up's histogram (cases per whole days to resolve, per category), for an edge of the period."""
    days = cast(func.floor(_days(db, Case.resolved_at, Case.created_at)), Integer)
    query = (select(Case.category, days, func.count()).where(*_between(Case.resolved_at, start, end))
             .group_by(Case.category, days))
    out: dict[str, dict[int, int]] = {}
    for category, n_days, count in db.execute(query):
        bucket = out.setdefault(category, {})
        n_days = min(MAX_DAYS, max(0, int(n_days or 0)))
        bucket[n_days] = bucket.get(n_days, 0) + count
    return out


def histogram_percentile(histogram: dict[int, int], q: float) -> float:
    """``percentile_cont(q)`` of values known by whole-day bucket: the n cases of bucket d are taken as
    evenly spread at d + (i + 0.5) / n, then interpolated between ranks as ``percentile_cont`` does."""
    buckets = sorted(histogram.items())
    total = sum(n for _, n in buckets)
    if not total:
        return 0.0

    def value(rank: int) -> float:
        seen = 0
        for day, n in buckets:
            if rank < seen + n:
                return day + (rank - seen + 0.5) / n
            seen += n
        return float(buckets[-1][0] + 1)

    position = (total - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return value(low) + (value(high) - value(low)) * (position - low)


def period_percentiles(db: Session, start: datetime, end: datetime, resolved_cases: int,
                       quantiles: tuple[float, ...] = (0.5, 0.9)) -> dict[str, dict]:
    """Time-to-resolve per category: exact while the period's resolved cases are few enough to sort cheaply,
    from the roll-up's whole-day histogram beyond."""
    if resolved_cases <= EXACT_PERCENTILES_UP_TO:
        return resolution_percentiles(db, start, end, quantiles)
    edges, days = split_period(start, end)
    parts = [_whole_days_from_cases(db, a, b) for a, b in edges]
    if days:
        parts.append(case_stats.resolve_days(db, *days))
    histograms: dict[str, dict[int, int]] = {}
    for part in parts:
        for category, buckets in part.items():
            merged = histograms.setdefault(category, {})
            for n_days, count in buckets.items():
                merged[n_days] = merged.get(n_days, 0) + count
    return {category: {"count": sum(h.values()), **{q: histogram_percentile(h, q) for q in quantiles}}
            for category, h in histograms.items()}


def compute(db: Session, start: datetime, end: datetime, targets: dict[str, float],
            now: datetime | None = None) -> Figures:
    """The whole dashboard: filed and resolved breakdowns (the roll-up, plus the cases of partial edge days),
    open work (one grouped pass over the open cases) and the time-to-resolve percentiles."""
    now = now or utcnow()
    received_rows, resolved_rows = period_counts(db, start, end)
    open_rows = open_work(db, now)
    by = by_dimensions(received_rows, resolved_rows, open_rows)
    totals = Row("all")
    for row in by["category"]:
        totals.received += row.received
        totals.resolved += row.resolved
        totals.open += row.open
        totals.overdue += row.overdue
    times = period_percentiles(db, start, end, totals.resolved)
    resolve_times = [{"category": category, "count": t["count"], "median": t[0.5], "p90": t[0.9],
                      "target": targets.get(category), "late": targets.get(category) is not None
                      and t[0.5] > targets[category]} for category, t in sorted(times.items())]
    ranked = sorted((r for r in by["agency"] if r.open), key=lambda r: (-r.overdue_share, -r.overdue, str(r.key)))
    return Figures(start, end, totals, by, resolve_times, ranked[:20], ratings(resolved_rows),
                   trend(received_rows, resolved_rows), map_cells(open_rows))


def propose_targets(db: Session, start: datetime, end: datetime, quantile: float = 0.8,
                    min_cases: int = 20) -> dict[str, dict]:
    """Each category's proposed target: the days within which ``quantile`` of its cases were resolved."""
    observed = resolution_percentiles(db, start, end, (0.5, quantile))
    return {category: {"count": t["count"], "median": t[0.5], "observed": t[quantile],
                       "proposed": max(1, math.ceil(t[quantile]))}
            for category, t in observed.items() if t["count"] >= min_cases}


