"""Dashboard figures from SQL (the same numbers on SQLite and PostgreSQL), and proposed category targets."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.console import figures
from storage.models import Case, utcnow
from tests.console.conftest import login, make_staff
from tests.factories import console_case


def _shape(services, ticket: str, *, age_days: float, resolved_after: float | None = None, status: str | None = None,
           due_in_days: float | None = None, rating: int | None = None) -> None:
    now = utcnow()
    with services.transaction() as db:
        case = db.scalar(select(Case).where(Case.ticket == ticket))
        case.created_at = now - timedelta(days=age_days)
        if resolved_after is not None:
            case.resolved_at = case.created_at + timedelta(days=resolved_after)
            case.status = "resolved"
        if status:
            case.status = status
        if due_in_days is not None:
            case.target_due_at = now + timedelta(days=due_in_days)
        case.rating = rating


def test_figures_count_received_resolved_open_and_overdue_and_time_to_resolve(services):
    for resolved_after, rating in ((2, 5), (4, 4), (6, 2)):
        _shape(services, console_case(services, agency_id="bma"), age_days=8, resolved_after=resolved_after,
               rating=rating)
    _shape(services, console_case(services, agency_id="mea", category="ไฟฟ้า"), age_days=3, due_in_days=-1)
    _shape(services, console_case(services, agency_id="mea", category="ไฟฟ้า"), age_days=1, due_in_days=5)
    _shape(services, console_case(services, agency_id="bma"), age_days=100, due_in_days=-50)  # old, still open
    now = utcnow()
    with services.transaction() as db:
        f = figures.compute(db, now - timedelta(days=30), now + timedelta(seconds=1), {"ถนน": 3.0})
        proposals = figures.propose_targets(db, now - timedelta(days=30), now, min_cases=3)
        assert (f.totals.received, f.totals.resolved, f.totals.open, f.totals.overdue) == (5, 3, 3, 2)
    [road] = [t for t in f.resolve_times if t["category"] == "ถนน"]
    assert road["count"] == 3 and abs(road["median"] - 4) < 0.01 and abs(road["p90"] - 5.6) < 0.01 and road["late"]
    assert [r.key for r in f.agencies_by_overdue] == ["bma", "mea"]  # 1/1 overdue before 1/2
    assert f.ratings["total"] == 3 and abs(f.ratings["average"] - 11 / 3) < 0.01
    assert sum(d["received"] for d in f.trend) == 5 and sum(d["resolved"] for d in f.trend) == 3
    assert sum(c["n"] for c in f.map_cells) == 3
    assert proposals["ถนน"]["proposed"] == 6  # 80% of road cases were resolved within 5.2 days


def test_the_dashboard_page_shows_thai_labels_to_executives(console, services):
    _shape(services, console_case(services, agency_id="bma"), age_days=2, resolved_after=1, rating=4)
    make_staff(services, "exec", "executive")
    client = console.test_client()
    login(client, "exec")
    page = client.get("/console/dashboard?period=90").get_data(as_text=True)
    assert "แดชบอร์ดผู้บริหาร" in page and "<svg" in page and "กรุงเทพมหานคร" in page
    assert "0812345678" not in page


def test_one_pass_per_row_set_keeps_real_null_keys_apart_from_rolled_up_columns(services):
    """The grouped passes (GROUPING SETS on PostgreSQL, one GROUP BY per set on SQLite) give every dimension
    the same totals, count a case without province/agency under the key None, and leave cases without
    coordinates off the map."""
    _shape(services, console_case(services, agency_id="bma"), age_days=5, resolved_after=1, rating=5)
    _shape(services, console_case(services, agency_id="bma", province=None), age_days=2, due_in_days=-1)
    ticket = console_case(services, agency_id="mea", category="ไฟฟ้า", province=None)
    _shape(services, ticket, age_days=1, due_in_days=3)
    with services.transaction() as db:
        case = db.scalar(select(Case).where(Case.ticket == ticket))
        case.agency_id, case.latitude, case.longitude = None, None, None
    now = utcnow()
    with services.transaction() as db:
        f = figures.compute(db, now - timedelta(days=30), now + timedelta(seconds=1), {})
    assert (f.totals.received, f.totals.resolved, f.totals.open, f.totals.overdue) == (3, 1, 2, 1)
    for name in ("category", "agency", "province"):
        rows = f.by[name]
        assert sum(r.received for r in rows) == 3 and sum(r.resolved for r in rows) == 1
        assert sum(r.open for r in rows) == 2 and sum(r.overdue for r in rows) == 1
    provinces = {r.key: (r.received, r.open, r.overdue) for r in f.by["province"]}
    assert provinces == {"กรุงเทพมหานคร": (1, 0, 0), None: (2, 2, 1)}
    agencies = {r.key: (r.received, r.resolved, r.open) for r in f.by["agency"]}
    assert agencies == {"bma": (2, 1, 1), None: (1, 0, 1)}
    assert f.map_cells == [{"lat": 13.8, "lon": 100.5, "n": 1, "overdue": 1}]
    assert f.ratings["counts"][5] == 1 and f.ratings["total"] == 1
    assert all(len(d["day"]) == 10 for d in f.trend) and sum(d["received"] for d in f.trend) == 3
