"""The executive dashboard: where the government is failing citizens, by period, category, agency, province."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, abort, render_template, request

from bot.console import access, charts, district_map, figures
from bot.console.auth import role_required
from bot.console.params import day
from bot.console.templating import BANGKOK
from bot.services import current_services
from storage import staff as staff_store

blueprint = Blueprint("console_dashboard", __name__)
PERIODS = {"7": "7 วัน", "30": "30 วัน", "90": "90 วัน", "365": "1 ปี"}


def period_from(args) -> tuple[datetime, datetime, str]:
    today = datetime.now(BANGKOK).replace(hour=0, minute=0, second=0, microsecond=0)
    if args.get("from") or args.get("to"):
        if not args.get("from"):
            abort(400, description="from must be a day YYYY-MM-DD when to is given")
        start, end = day(args["from"], today, "from"), day(args.get("to"), today, "to")
        return start, end + timedelta(days=1), "custom"
    period = args.get("period", "30") if args.get("period") in PERIODS else "30"
    return today - timedelta(days=int(period) - 1), today + timedelta(days=1), period


@blueprint.get("/dashboard")
@role_required(*access.DASHBOARD_READERS)
def dashboard():
    start, end, period = period_from(request.args)
    with current_services().transaction() as db:
        categories = staff_store.category_table(db)
        targets = {c.id: c.target_days for c in categories}
        result = figures.compute(db, start, end, targets)
        districts = district_map.open_by_district(db)
    return render_template("console/dashboard.html", f=result, period=period, periods=PERIODS,
                           trend_svg=charts.trend_svg(result.trend),
                           map_svg=district_map.district_map_svg(districts),
                           end_day=end - timedelta(days=1))
