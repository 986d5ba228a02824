"""The dashboard's daily roll-up: exact at every moment, whoever changes a case, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import pytest
from sqlalchemy import delete, func, select, text, update

from bot.casework.lifecycle import change_status, rate
from bot.console import figures, work
from storage import case_stats
from storage.migrate import downgrade, upgrade
from storage.models import Case, utcnow
from tests.console.conftest import make_case, make_staff


def _whole_days(days: int = 30) -> tuple[datetime, datetime]:
    """A dashboard period of whole Bangkok days ending today, as the page asks for: read from the roll-up."""
    today = datetime.now(figures.BANGKOK).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=days - 1), today + timedelta(days=1)


def _page(services) -> figures.Figures:
    start, end = _whole_days()
    with services.transaction() as db:
        assert figures.split_period(start, end)[0] == []  # no edge: nothing read from the cases but open work
        return figures.compute(db, start, end, {})


def _case(db, ticket: str) -> Case:
    return db.scalar(select(Case).where(Case.ticket == ticket))


def _by(f: figures.Figures, name: str) -> dict:
    return {r.key: (r.received, r.resolved) for r in f.by[name] if r.received or r.resolved}


def test_every_case_change_shows_on_the_dashboard_at_once(services):
    """Filing, resolving, rating, a category fix, forwarding to another agency and deleting each show on the
    next page, read from the roll-up, without any refresh step."""
    assert _page(services).totals.received == 0
    ticket = make_case(services, agency_id="bma", category="ถนน")
    f = _page(services)
    assert (f.totals.received, f.totals.resolved, f.totals.open) == (1, 0, 1) and _by(f, "agency") == {"bma": (1, 0)}
    assert sum(c["n"] for c in f.map_cells) == 1

    with services.transaction() as db:
        work.correct_category(db, _case(db, ticket), "ไฟฟ้า", "tester")
    assert _by(_page(services), "category") == {"ไฟฟ้า": (1, 0)}

    with services.transaction() as db:
        work.forward(db, _case(db, ticket), "pea", "tester")  # the category fix may have re-routed it already
    assert _by(_page(services), "agency") == {"pea": (1, 0)}

    with services.transaction() as db:
        change_status(db, _case(db, ticket), "accepted", "tester")
        change_status(db, _case(db, ticket), "resolved", "tester")
    f = _page(services)
    assert (f.totals.resolved, f.totals.open) == (1, 0) and _by(f, "province") == {"กรุงเทพมหานคร": (1, 1)}
    assert f.map_cells == []
    assert [t["category"] for t in f.resolve_times] == ["ไฟฟ้า"]

    with services.transaction() as db:
        rate(db, _case(db, ticket), 4, None, "citizen")
    assert _page(services).ratings["counts"][4] == 1

    with services.transaction() as db:
        change_status(db, _case(db, ticket), "reopened", "tester")
    f = _page(services)
    assert (f.totals.received, f.totals.resolved, f.ratings["total"], f.totals.open) == (1, 0, 0, 1)

    with services.transaction() as db:
        db.execute(delete(Case).where(Case.ticket == ticket))  # a bulk statement, not the ORM unit of work
    f = _page(services)
    assert (f.totals.received, f.totals.resolved, f.totals.open) == (0, 0, 0) and f.trend == []


def test_the_roll_up_equals_the_cases_after_a_mix_of_changes(services):
    """After filings spread over days, bulk updates of dates, agencies and ratings, and a rolled-back change,
    the roll-up's breakdowns are exactly the grouped passes over the cases of the same days."""
    now = utcnow()
    tickets = [make_case(services, agency_id=("bma", "mea", "pwa")[n % 3], category=("ถนน", "ไฟฟ้า")[n % 2],
                         province=("กรุงเทพมหานคร", None)[n % 2]) for n in range(12)]
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
    start, end = _whole_days(60)
    with services.transaction() as db:
        rolled = case_stats.period_counts(db, start.date(), end.date())
        cases = figures.received(db, start, end), figures.resolved(db, start, end)
    for rolled_rows, case_rows in zip(rolled, cases):
        for name, rows in case_rows.items():
            expected = {key if name != "day" else (figures._day_text(key[0]),): n for key, n in rows}
            got = {key if name != "day" else (figures._day_text(key[0]),): n for key, n in rolled_rows[name]}
            assert got == expected, name
    assert sum(n for _, n in rolled[0]["category"]) == 12
    with services.transaction() as db:
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


def _same_counts(db, start: datetime, end: datetime) -> None:
    """The roll-ups' breakdowns and histogram of ``[start, end)`` (whole days) equal grouped passes over the cases."""
    rolled = case_stats.period_counts(db, start.date(), end.date())
    cases = figures.received(db, start, end), figures.resolved(db, start, end)
    for rolled_rows, case_rows in zip(rolled, cases):
        for name, rows in case_rows.items():
            expected = {key if name != "day" else (figures._day_text(key[0]),): n for key, n in rows}
            got = {key if name != "day" else (figures._day_text(key[0]),): n for key, n in rolled_rows[name]}
            assert got == expected, name
    assert case_stats.resolve_days(db, start.date(), end.date()) == figures._whole_days_from_cases(db, start, end)


def test_a_change_inside_a_long_period_shows_at_once(services, monkeypatch):
    """A case deep inside a year (a whole month, read from the monthly roll-up) shows on the year's page as soon
    as it is filed, resolved, rated, re-categorised and deleted."""
    start, end = _whole_days(365)
    edges, months = case_stats.split_months(start.date(), end.date())
    assert months and months[1] - months[0] > timedelta(days=300)
    day = months[0] + timedelta(days=45)
    assert not any(a <= day < b for a, b in edges)
    filed = datetime.combine(day, time(10), figures.BANGKOK).astimezone(timezone.utc)
    monkeypatch.setattr(figures, "EXACT_PERCENTILES_UP_TO", 0)  # time to resolve from the histograms too

    def year() -> figures.Figures:
        with services.transaction() as db:
            return figures.compute(db, start, end, {})

    ticket = make_case(services, agency_id="bma", category="ถนน")
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


def test_the_monthly_roll_up_equals_the_cases_after_a_mix_of_changes(services):
    """Cases over more than a year, moved across month boundaries, re-routed in bulk, resolved, rated, deleted,
    and a rolled-back change: every long period (whole months plus edge days) equals a recount of the cases."""
    now = utcnow()
    tickets = [make_case(services, agency_id=("bma", "mea", "pwa")[n % 3], category=("ถนน", "ไฟฟ้า")[n % 2])
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
    with services.transaction() as db:
        for days in (500, 365, 200, 45):
            start, end = _whole_days(days)
            _same_counts(db, start, end)
        assert case_stats.split_months(*(d.date() for d in _whole_days(500)))[1]  # whole months were read
        start, end = _whole_days(500)
        assert sum(n for _, n in case_stats.period_counts(db, start.date(), end.date())[0]["category"]) == 13


def test_a_period_splits_into_whole_months_and_edge_days():
    from datetime import date

    assert case_stats.split_months(date(2026, 1, 15), date(2026, 4, 3)) == (
        [(date(2026, 1, 15), date(2026, 2, 1)), (date(2026, 4, 1), date(2026, 4, 3))],
        (date(2026, 2, 1), date(2026, 4, 1)))
    assert case_stats.split_months(date(2026, 2, 1), date(2026, 3, 1)) == ([], (date(2026, 2, 1), date(2026, 3, 1)))
    assert case_stats.split_months(date(2026, 2, 3), date(2026, 2, 20)) == ([(date(2026, 2, 3), date(2026, 2, 20))], None)
    assert case_stats.split_months(date(2025, 12, 20), date(2026, 1, 5)) == (
        [(date(2025, 12, 20), date(2026, 1, 5))], None)


def test_long_periods_read_percentiles_from_the_histogram_within_a_day(services, monkeypatch):
    now = utcnow()
    for n in range(9):
        ticket = make_case(services)
        with services.transaction() as db:
            case = _case(db, ticket)
            case.created_at = now - timedelta(days=20)
            case.status, case.resolved_at = "resolved", case.created_at + timedelta(days=n * 1.7, hours=3)
    start, end = _whole_days()
    with services.transaction() as db:
        exact = figures.compute(db, start, end, {}).resolve_times
        monkeypatch.setattr(figures, "EXACT_PERCENTILES_UP_TO", 0)
        approximate = figures.compute(db, start, end, {}).resolve_times
    assert [t["count"] for t in approximate] == [t["count"] for t in exact] == [9]
    assert abs(approximate[0]["median"] - exact[0]["median"]) < 1
    assert abs(approximate[0]["p90"] - exact[0]["p90"]) < 1
    assert approximate[0]["median"] != exact[0]["median"]  # really the other path


def test_the_migration_backfills_the_roll_up_from_existing_cases(services, database_url):
    make_staff(services, "exec", "executive")
    for n in range(3):
        ticket = make_case(services, agency_id="bma")
        if n:
            with services.transaction() as db:
                change_status(db, _case(db, ticket), "accepted", "tester")
                change_status(db, _case(db, ticket), "resolved", "tester")
    before = _page(services)
    downgrade(database_url, "0009")
    try:
        with services.engine.begin() as connection:
            tables = {r[0] for r in connection.execute(text(
                "SELECT name FROM sqlite_master" if database_url.startswith("sqlite")
                else "SELECT tablename FROM pg_tables"))}
        assert "case_daily_stats" not in tables
    finally:
        upgrade(database_url)
    after = _page(services)
    assert (after.totals.received, after.totals.resolved) == (before.totals.received, before.totals.resolved) == (3, 2)
    assert _by(after, "agency") == {"bma": (3, 2)}


def test_the_triggers_know_every_open_state():
    """The roll-up's triggers list the open states in SQL (migration 0016): a new open state in
    ``bot.casework.states`` needs a migration that redefines them, or open work would be miscounted."""
    import importlib.util
    from pathlib import Path

    import storage

    path = Path(storage.__file__).parent / "migrations" / "versions" / "0016_case_daily_stats.py"
    spec = importlib.util.spec_from_file_location("migration_0016", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    assert set(migration.OPEN_STATES) == set(figures.OPEN_STATES)
