"""Template helpers of the console: Thai labels of statuses, categories and agencies, Bangkok times."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from flask import Flask, g, request

from bot import messages as catalogue
from bot.casework.states import STATES
from bot.console.access import ROLE_LABELS
from bot.services import current_services
from storage import staff as staff_store
from storage.models.core import BANGKOK

BUDDHIST_ERA_OFFSET = 543


def status_label(state: str | None) -> str:
    if not state:
        return "-"
    try:
        return catalogue.text(STATES[state].label_key, "th")
    except KeyError:
        return state


def local_time(value: datetime | None, with_time: bool = True) -> str:
    """``23/11/2569 14:03`` in Bangkok time (Buddhist-era year, as Thai staff read dates)."""
    if value is None:
        return "-"
    local = value.astimezone(BANGKOK)
    date = f"{local.day:02d}/{local.month:02d}/{local.year + BUDDHIST_ERA_OFFSET}"
    return f"{date} {local:%H:%M}" if with_time else date


def _labels() -> tuple[dict[str, str], dict[str, str]]:
    if "console_labels" not in g:
        with current_services().transaction() as db:
            categories = {c.id: c.label_th for c in staff_store.category_table(db)}
            agencies = staff_store.agency_names(db)
        g.console_labels = (categories, agencies)
    return g.console_labels


def category_label(category_id: str | None) -> str:
    return _labels()[0].get(category_id or "", category_id or "-")


def agency_name(agency_id: str | None) -> str:
    return _labels()[1].get(agency_id or "", agency_id or "-")


ANNOUNCEMENT_STATES = {"draft": "ฉบับร่าง", "scheduled": "ตั้งเวลาส่งแล้ว", "sending": "กำลังส่ง", "sent": "ส่งแล้ว",
                       "cancelled": "ยกเลิกแล้ว"}
ANNOUNCEMENT_ACTIONS = {"created": "สร้าง", "test_sent": "ส่งทดสอบ", "published": "เผยแพร่/ตั้งเวลา",
                        "cancelled": "ยกเลิก"}


def topic_label(code: str | None) -> str:
    """A news topic (``health``) or ``all`` as citizens read it in the catalogue (``สุขภาพ``)."""
    if not code:
        return "-"
    try:
        return catalogue.text(f"topic_{code}", "th")
    except KeyError:
        return code


def topic_list(value) -> str:
    """An announcement's topics (a JSON list of codes, or a list) as Thai labels."""
    import json

    codes = json.loads(value) if isinstance(value, str) else list(value or [])
    return ", ".join(topic_label(code) for code in codes) or "-"


def province_label(value: str | None) -> str:
    return catalogue.text("province_all", "th") if value in (None, "", "all") else value


def announcement_state(state: str | None) -> str:
    return ANNOUNCEMENT_STATES.get(state or "", state or "-")


def announcement_action(action: str | None) -> str:
    return ANNOUNCEMENT_ACTIONS.get(action or "", action or "-")


def actor_label(actor: str | None) -> str:
    """``staff:4`` as "สมศรี ใจดี, สำนักงานเขตบางกะปิ" (bot.casework.actors)."""
    from bot.casework.actors import actor_name

    if not actor:
        return "-"
    cache = g.setdefault("console_actor_names", {})
    if actor not in cache:
        with current_services().transaction() as db:
            cache[actor] = actor_name(db, actor)
    return cache[actor]


def page_url(**changes) -> str:
    """The current page's URL with some query arguments changed (filters, sorting, pagination)."""
    args = request.args.to_dict()
    args.update({k: v for k, v in changes.items() if v is not None})
    return request.path + "?" + urlencode({k: v for k, v in args.items() if v != ""})


def install_template_helpers(app: Flask) -> None:
    app.jinja_env.filters.update(status_label=status_label, local_time=local_time, category_label=category_label,
                                 agency_name=agency_name, topic_label=topic_label, province_label=province_label,
                                 announcement_state=announcement_state, topic_list=topic_list, announcement_action=announcement_action,
                                 actor_label=actor_label)
    app.jinja_env.globals.update(role_labels=ROLE_LABELS, page_url=page_url, status_label=status_label)
