"""The dashboard's roll-ups (per Bangkok day and month): exact at every moment, whoever changes a case, on SQLite
and PostgreSQL, and whatever the hour: each test runs at fixed moments of the clock as well as at the real one."""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta, timezone

import pytest
from sqlalchemy import delete, func, select, text, update

from bot.casework import work
from bot.casework.lifecycle import change_status, rate
from bot.console import figures
from storage import case_stats
from storage.migrate import downgrade, upgrade
from storage.models import Case, utcnow
from tests.console.conftest import make_staff
from tests.factories import console_case

UTC = timezone.utc
# From 17:00 to 24:00 UTC Bangkok's date is a day ahead of UTC's, so a Bangkok midnight, a month's first day or a
# year's first day falls on the UTC date before. The roll-ups bucket by Bangkok day; a test run only at the real
# clock would check that against UTC days half of the time and miss it the other half.
MOMENTS = {
    "same-date-0500Z": datetime(2026, 12, 3, 5, 0, tzinfo=UTC),
    "bangkok-ahead-1730Z": datetime(2026, 12, 3, 17, 30, tzinfo=UTC),
    "bangkok-ahead-2359Z": datetime(2026, 12, 3, 23, 59, 59, tzinfo=UTC),
    "bangkok-new-month": datetime(2026, 11, 30, 17, 30, tzinfo=UTC),  # 1 December 00:30 in Bangkok
    "bangkok-new-year": datetime(2026, 12, 31, 23, 59, tzinfo=UTC),
    "month-end-leap-day": datetime(2028, 2, 29, 18, 0, tzinfo=UTC),  # 1 March in Bangkok
    "clock": None,
}


@pytest.fixture(params=list(MOMENTS))
def now(request) -> datetime:
    """The moment the test's cases are filed and its pages asked for."""
    return MOMENTS[request.param] or utcnow()


def _whole_days(days: int, now: datetime) -> tuple[datetime, datetime]:
    """A dashboard period of whole Bangkok days ending on ``now``'s Bangkok day, as the page asks: the roll-up's."""
    today = now.astimezone(figures.BANGKOK).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=days - 1), today + timedelta(days=1)


def _page(services, now: datetime) -> figures.Figures:
    start, end = _whole_days(30, now)
    with services.transaction() as db:
        assert figures.split_period(start, end)[0] == []  # no edge: nothing read from the cases but open work
        return figures.compute(db, start, end, {}, now)


def _case(db, ticket: str) -> Case:
    return db.scalar(select(Case).where(Case.ticket == ticket))


def _by(f: figures.Figures, name: str) -> dict:
    return {r.key: (r.received, r.resolved) for r in f.by[name] if r.received or r.resolved}


def _aware(stamp: datetime | None) -> datetime | None:
    """A stamp as read back (SQLite returns no offset; it stores UTC)."""
    return stamp if stamp is None or stamp.tzinfo else stamp.replace(tzinfo=UTC)


def _recount(db, start: datetime, end: datetime) -> dict:
    """The period's figures counted again in Python from every case, by comparing instants and taking their Bangkok
    date in Python: no SQL bucketing, no roll-up, nothing shared with the code under test."""
    out: dict = {f"{kind} {name}": {} for kind in ("received", "resolved") for name in (*figures.DIMENSIONS, "day")}
    out["rating"], out["histogram"] = {}, {}

    def add(bucket: str, key, n: int = 1) -> None:
        out[bucket][key] = out[bucket].get(key, 0) + n

    for case in db.scalars(select(Case)):
        for kind, stamp in (("received", _aware(case.created_at)), ("resolved", _aware(case.resolved_at))):
            if stamp is None or not start <= stamp < end:
                continue
            for name in figures.DIMENSIONS:
                add(f"{kind} {name}", getattr(case, figures.DIMENSIONS[name].key))
            add(f"{kind} day", stamp.astimezone(figures.BANGKOK).date().isoformat())
            if kind == "resolved":
                if case.rating is not None:
                    add("rating", case.rating)
                taken = (stamp - _aware(case.created_at)).total_seconds() / 86400
                add("histogram", (case.category, min(figures.MAX_DAYS, max(0, math.floor(taken)))))
    return out


def _shape(received_rows: dict, resolved_rows: dict) -> dict:
    """The dashboard's ``{set: [((key,), n)]}`` passes in ``_recount``'s shape."""
    out: dict = {}
    for kind, rows in (("received", received_rows), ("resolved", resolved_rows)):
        for name in (*figures.DIMENSIONS, "day"):
            out[f"{kind} {name}"] = {(figures._day_text(key) if name == "day" else key): n
                                     for (key,), n in rows[name] if n}
    out["rating"] = {stars: n for (stars,), n in resolved_rows["rating"] if stars is not None and n}
    return out


def _histogram(by_category: dict[str, dict[int, int]]) -> dict:
    return {(category, days): n for category, buckets in by_category.items() for days, n in buckets.items() if n}


def _same_counts(db, start: datetime, end: datetime) -> None:
    """The period ``[start, end)`` read every way the dashboard reads it equals the recount: the roll-ups (its
    whole days split into whole months and edge days), the grouped passes over the cases, the two together."""
    expected = _recount(db, start, end)
    histogram = expected.pop("histogram")
    edges, days = figures.split_period(start, end)
    if not edges:
        rolled = _shape(*case_stats.period_counts(db, *days))
        assert rolled == expected, "roll-up"
        assert _histogram(case_stats.resolve_days(db, *days)) == histogram, "roll-up histogram"
    assert _shape(figures.received(db, start, end), figures.resolved(db, start, end)) == expected, "cases"
    assert _histogram(figures._whole_days_from_cases(db, start, end)) == histogram, "cases histogram"
    assert _shape(*figures.period_counts(db, start, end)) == expected, "roll-up and edges"
    page = figures.compute(db, start, end, {})
    assert page.totals.received == sum(expected["received category"].values())
    assert {(d["day"], d["received"], d["resolved"]) for d in page.trend} == {
        (day, expected["received day"].get(day, 0), expected["resolved day"].get(day, 0))
        for day in {*expected["received day"], *expected["resolved day"]}}
    assert {t["category"]: t["count"] for t in page.resolve_times} == {
        category: n for category, n in expected["resolved category"].items()}


def test_every_case_change_shows_on_the_dashboard_at_once(services, now):
    """Filing, resolving, rating, a category fix, forwarding to another agency and deleting each show on the
    next page, read from the roll-up, without any refresh step."""
    assert _page(services, now).totals.received == 0
    ticket = console_case(services, agency_id="bma", category="ถนน", now=now)
    f = _page(services, now)
    assert (f.totals.received, f.totals.resolved, f.totals.open) == (1, 0, 1) and _by(f, "agency") == {"bma": (1, 0)}
    assert sum(c["n"] for c in f.map_cells) == 1

    with services.transaction() as db:
        work.correct_category(db, _case(db, ticket), "ไฟฟ้า", "tester")
    assert _by(_page(services, now), "category") == {"ไฟฟ้า": (1, 0)}

    with services.transaction() as db:
        work.forward(db, _case(db, ticket), "pea", "tester")  # the category fix may have re-routed it already
    assert _by(_page(services, now), "agency") == {"pea": (1, 0)}

    with services.transaction() as db:
        change_status(db, _case(db, ticket), "accepted", "tester", now=now)
        change_status(db, _case(db, ticket), "resolved", "tester", note="ซ่อมเสร็จแล้ว", now=now)
    f = _page(services, now)
    assert (f.totals.resolved, f.totals.open) == (1, 0) and _by(f, "province") == {"กรุงเทพมหานคร": (1, 1)}
    assert f.map_cells == []
    assert [t["category"] for t in f.resolve_times] == ["ไฟฟ้า"]

    with services.transaction() as db:
        rate(db, _case(db, ticket), 4, None, "citizen")
    assert _page(services, now).ratings["counts"][4] == 1

    with services.transaction() as db:
        change_status(db, _case(db, ticket), "reopened", "tester", now=now)
    f = _page(services, now)
    assert (f.totals.received, f.totals.resolved, f.ratings["total"], f.totals.open) == (1, 0, 0, 1)

    with services.transaction() as db:
        db.execute(delete(Case).where(Case.ticket == ticket))  # a bulk statement, not the ORM unit of work
    f = _page(services, now)
    assert (f.totals.received, f.totals.resolved, f.totals.open) == (0, 0, 0) and f.trend == []


def test_the_roll_up_equals_the_cases_after_a_mix_of_changes(services, now):
    """After filings spread over days, bulk updates of dates, agencies and ratings, and a rolled-back change,
    the roll-up's breakdowns are exactly a recount of the cases of the same days; so is the open work."""
    tickets = [console_case(services, agency_id=("bma", "mea", "pwa")[n % 3], category=("ถนน", "ไฟฟ้า")[n % 2],
                            province=("กรุงเทพมหานคร", None)[n % 2], now=now) for n in range(12)]
    with services.transaction() as db:
        for n, ticket in enumerate(tickets):
            case = _case(db, ticket)
            case.created_at = now - timedelta(days=n * 2.3, hours=n)
            if n % 3:
                case.status, case.resolved_at, case.rating = "resolved", case.created_at + timedelta(days=n), n % 6 or None
        db.execute(update(Case).where(Case.ticket.in_(tickets[:4])).values(agency_id=None))
        db.execute(update(Case).where(Case.ticket.in_(tickets[3:6])).values(target_due_at=now - timedelta(hours=1)))
        db.execute(update(Case).where(Case.ticket == tickets[6]).values(target_due_at=None, latitude=None))
    with pytest.raises(RuntimeError):
        with services.transaction() as db:
            _case(db, tickets[5]).category = "น้ำ"
            db.flush()
            raise RuntimeError("rolled back: the roll-up must not keep the change")
    with services.transaction() as db:
        _same_counts(db, *_whole_days(60, now))
        assert sum(_recount(db, *_whole_days(60, now))["received category"].values()) == 12
        open_now = figures.open_work(db, now)
        columns = {**figures.DIMENSIONS, "lat": func.round(Case.latitude * 10) / 10,
                   "lon": func.round(Case.longitude * 10) / 10, "overdue": Case.target_due_at < now}
        sets = {"category": ("category",), "agency": ("agency",), "province": ("province",), "map": ("lat", "lon")}
        direct = figures.grouped(db, columns, (Case.status.in_(figures.OPEN_STATES),), sets,
                                 lambda rows: [func.count(), func.count().filter(rows.c.overdue)])
    for name, rows in direct.items():
        expected = {tuple(map(float, key)) if name == "map" else key: (n, late) for key, n, late in rows
                    if None not in key or name != "map"}
        assert {key: (n, late) for key, n, late in open_now[name]} == expected, name
    assert sum(late for _, _, late in open_now["category"]) == 1  # the one open case past its target


def test_a_change_inside_a_long_period_shows_at_once(services, monkeypatch, now):
    """A case deep inside a year (a whole month, read from the monthly roll-up) shows on the year's page as soon
    as it is filed, resolved, rated, re-categorised and deleted."""
    start, end = _whole_days(365, now)
    edges, months = case_stats.split_months(start.date(), end.date())
    assert months and months[1] - months[0] > timedelta(days=300)
    day = months[0] + timedelta(days=45)
    assert not any(a <= day < b for a, b in edges)
    filed = datetime.combine(day, time(10), figures.BANGKOK).astimezone(UTC)
    monkeypatch.setattr(figures, "EXACT_PERCENTILES_UP_TO", 0)  # time to resolve from the histograms too

    def year() -> figures.Figures:
        with services.transaction() as db:
            return figures.compute(db, start, end, {}, now)

    ticket = console_case(services, agency_id="bma", category="ถนน", now=now)
    with services.transaction() as db:
        _case(db, ticket).created_at = filed
    f = year()
    assert (f.totals.received, f.totals.resolved) == (1, 0) and f.trend == [
        {"day": day.isoformat(), "received": 1, "resolved": 0}]
    with services.transaction() as db:
        case = _case(db, ticket)
        case.status, case.resolved_at, case.rating = "resolved", filed + timedelta(days=3, hours=2), 5
    f = year()
    assert (f.totals.resolved, f.ratings["counts"][5]) == (1, 1) and _by(f, "agency") == {"bma": (1, 1)}
    assert [(t["category"], t["count"]) for t in f.resolve_times] == [("ถนน", 1)]
    assert 3 <= f.resolve_times[0]["median"] < 4
    with services.transaction() as db:
        work.correct_category(db, _case(db, ticket), "ไฟฟ้า", "tester")
    assert _by(year(), "category") == {"ไฟฟ้า": (1, 1)}
    with services.transaction() as db:
        db.execute(delete(Case).where(Case.ticket == ticket))
    f = year()
    assert (f.totals.received, f.totals.resolved, f.ratings["total"], f.resolve_times) == (0, 0, 0, [])


def _bangkok_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), figures.BANGKOK).astimezone(UTC)


def test_the_monthly_roll_up_equals_the_cases_after_a_mix_of_changes(services, now):
    """Cases over more than a year, some a second either side of a Bangkok midnight that starts a month or a
    period (the UTC date before), moved across month boundaries, re-routed in bulk, resolved, rated, deleted, and
    a rolled-back change: every long period (whole months plus edge days), and periods ending at this second,
    equal a recount of the cases."""
    tickets = [console_case(services, agency_id=("bma", "mea", "pwa")[n % 3], category=("ถนน", "ไฟฟ้า")[n % 2], now=now)
               for n in range(14)]
    with services.transaction() as db:
        for n, ticket in enumerate(tickets):
            case = _case(db, ticket)
            case.created_at = now - timedelta(days=n * 31 + 2, hours=n * 5)
            if n % 3:
                case.status, case.rating = "resolved", n % 6 or None
                case.resolved_at = min(case.created_at + timedelta(days=n * 3, hours=7), now - timedelta(hours=1))
    with services.transaction() as db:
        for ticket in tickets[2:6]:  # across a month boundary, one statement each
            case = _case(db, ticket)
            case.created_at -= timedelta(days=17)
        db.execute(update(Case).where(Case.ticket.in_(tickets[4:9])).values(agency_id=None, category="น้ำ"))
        db.execute(update(Case).where(Case.ticket.in_(tickets[7:10])).values(rating=2))
        db.execute(delete(Case).where(Case.ticket == tickets[10]))
    with pytest.raises(RuntimeError):
        with services.transaction() as db:
            _case(db, tickets[11]).created_at = now - timedelta(days=3)
            db.flush()
            raise RuntimeError("rolled back: the roll-up must not keep the change")
    periods = [_whole_days(days, now) for days in (500, 365, 200, 45)]
    months = case_stats.split_months(periods[2][0].date(), periods[2][1].date())[1]
    boundaries = [_bangkok_midnight(months[0]), _bangkok_midnight(months[1]), periods[2][0], periods[3][0]]
    for n, boundary in enumerate(boundaries):  # a second before and after; resolved across the next boundary
        for shift, category in ((-1, "ถนน"), (1, "น้ำ")):
            ticket = console_case(services, agency_id="bma", category=category, now=now)
            with services.transaction() as db:
                case = _case(db, ticket)
                case.created_at = boundary + timedelta(seconds=shift)
                if n < 2:
                    case.status, case.rating = "resolved", 3 + shift
                    case.resolved_at = boundaries[n + 2] + timedelta(seconds=shift)
    with services.transaction() as db:
        for start, end in periods:
            _same_counts(db, start, end)
        for days in (200, 45):  # edges read from the cases: a period ending at this second, one starting mid-day
            _same_counts(db, now - timedelta(days=days), now)
            _same_counts(db, _whole_days(days, now)[0] + timedelta(hours=9, seconds=1), now + timedelta(hours=1))
        assert case_stats.split_months(*(d.date() for d in periods[0]))[1]  # whole months were read
        assert sum(_recount(db, *periods[0])["received category"].values()) == 13 + 8


def test_a_period_splits_into_whole_months_and_edge_days():
    assert case_stats.split_months(date(2026, 1, 15), date(2026, 4, 3)) == (
        [(date(2026, 1, 15), date(2026, 2, 1)), (date(2026, 4, 1), date(2026, 4, 3))],
        (date(2026, 2, 1), date(2026, 4, 1)))
    assert case_stats.split_months(date(2026, 2, 1), date(2026, 3, 1)) == ([], (date(2026, 2, 1), date(2026, 3, 1)))
    assert case_stats.split_months(date(2026, 2, 3), date(2026, 2, 20)) == ([(date(2026, 2, 3), date(2026, 2, 20))], None)
    assert case_stats.split_months(date(2025, 12, 20), date(2026, 1, 5)) == (
        [(date(2025, 12, 20), date(2026, 1, 5))], None)
    for first in (date(2027, 12, 25) + timedelta(days=n) for n in range(70)):  # a year end and a leap February
        for length in (0, 1, 27, 28, 29, 30, 31, 32, 59, 60, 61, 365, 366, 400):
            end = first + timedelta(days=length)
            edges, months = case_stats.split_months(first, end)
            parts = sorted(edges + ([months] if months else []))
            assert all(a < b for a, b in parts)  # no empty part
            assert [a for a, _ in parts[1:]] == [b for _, b in parts[:-1]]  # no gap, no overlap
            assert (parts[0][0], parts[-1][1]) == (first, end) if parts else first == end
            assert months is None or (months[0].day == months[1].day == 1)
            if months:  # each edge lies inside one calendar month; without a whole month, inside two
                assert all(a.replace(day=1) == (b - timedelta(days=1)).replace(day=1) for a, b in edges)
            else:
                assert end - first < timedelta(days=62)


def test_a_period_splits_into_whole_bangkok_days_and_partial_edges(now):
    """The page's period into whole Bangkok days (the roll-ups) and partial edge stretches (the cases): exact
    and disjoint, whichever UTC date the Bangkok midnights fall on."""
    start = now - timedelta(days=30)
    edges, (first, last) = figures.split_period(start, now)
    midnight_before = now.astimezone(figures.BANGKOK).replace(hour=0, minute=0, second=0, microsecond=0)
    assert last == midnight_before.date() and first == (midnight_before - timedelta(days=29)).date()
    local = [(a.astimezone(figures.BANGKOK), b.astimezone(figures.BANGKOK)) for a, b in edges]
    assert local[0] == (start, datetime.combine(first, time(0), figures.BANGKOK))
    if now != midnight_before:
        assert local[-1] == (datetime.combine(last, time(0), figures.BANGKOK), now)
    assert figures.split_period(*_whole_days(30, now)) == ([], ((midnight_before - timedelta(days=29)).date(),
                                                               (midnight_before + timedelta(days=1)).date()))


def test_long_periods_read_percentiles_from_the_histogram_within_a_day(services, monkeypatch, now):
    for n in range(9):
        ticket = console_case(services, now=now)
        with services.transaction() as db:
            case = _case(db, ticket)
            case.created_at = now - timedelta(days=20)
            case.status, case.resolved_at = "resolved", case.created_at + timedelta(days=n * 1.7, hours=3)
    start, end = _whole_days(30, now)
    with services.transaction() as db:
        exact = figures.compute(db, start, end, {}, now).resolve_times
        monkeypatch.setattr(figures, "EXACT_PERCENTILES_UP_TO", 0)
        approximate = figures.compute(db, start, end, {}, now).resolve_times
    assert [t["count"] for t in approximate] == [t["count"] for t in exact] == [9]
    assert abs(approximate[0]["median"] - exact[0]["median"]) < 1
    assert abs(approximate[0]["p90"] - exact[0]["p90"]) < 1
    assert approximate[0]["median"] != exact[0]["median"]  # really the other path


@pytest.mark.parametrize("now", [MOMENTS["bangkok-new-month"], MOMENTS["same-date-0500Z"]],
                         ids=["bangkok-new-month", "same-date-0500Z"])
def test_the_migrations_backfill_the_roll_ups_from_existing_cases(services, database_url, now):
    """Down to before the roll-ups, and up again: the day and month rows are rebuilt from the cases, by Bangkok day
    and month (cases a second either side of the Bangkok midnight that starts this month)."""
    make_staff(services, "exec", "executive")
    month = _bangkok_midnight(now.astimezone(figures.BANGKOK).date().replace(day=1))
    for n in range(4):
        ticket = console_case(services, agency_id="bma", now=now)
        with services.transaction() as db:
            case = _case(db, ticket)
            case.created_at = month + timedelta(seconds=(-1, 1)[n % 2])
            if n:
                change_status(db, case, "accepted", "tester", now=now)
                change_status(db, case, "resolved", "tester", note="ซ่อมเสร็จแล้ว", now=now)
    year = _whole_days(400, now)
    with services.transaction() as db:
        _same_counts(db, *year)
    before = _page(services, now)
    downgrade(database_url, "0020")
    try:
        console_case(services, agency_id="bma", now=now)  # counted by the triggers of 0016, put back
        with services.engine.begin() as connection:
            filed = dict(connection.execute(text(
                "SELECT dimension, sum(received) FROM case_daily_stats GROUP BY dimension")).all())
            tables = _tables(connection, database_url)
        assert "all" not in filed and filed["category"] == 5 and "case_monthly_stats" not in tables
        downgrade(database_url, "0009")
        with services.engine.begin() as connection:
            assert "case_daily_stats" not in _tables(connection, database_url)
    finally:
        upgrade(database_url)
    after = _page(services, now)
    assert (after.totals.received, after.totals.resolved) == (before.totals.received + 1, before.totals.resolved)
    assert _by(after, "agency") == {"bma": (5, 3)}
    with services.transaction() as db:
        _same_counts(db, *year)
        assert sum(_recount(db, *year)["received category"].values()) == 5


def _tables(connection, database_url: str) -> set[str]:
    return {r[0] for r in connection.execute(text(
        "SELECT name FROM sqlite_master" if database_url.startswith("sqlite") else "SELECT tablename FROM pg_tables"))}


def test_the_triggers_know_every_open_state():
    """The roll-up's triggers list the open states in SQL (migration 0021, and 0016 before it): a new open state
    in ``bot.casework.states`` needs a migration that redefines them, or open work would be miscounted."""
    import importlib.util
    from pathlib import Path

    import storage

    versions = Path(storage.__file__).parent / "migrations" / "versions"
    for name in ("0016_case_daily_stats.py", "0021_monthly_rollup.py"):
        spec = importlib.util.spec_from_file_location(f"migration_{name[:4]}", versions / name)
        migration = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(migration)
        assert set(migration.OPEN_STATES) == set(figures.OPEN_STATES), name
