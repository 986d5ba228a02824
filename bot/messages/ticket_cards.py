"""Flex message cards of cases: the summary to confirm, the ticket, the status timeline, "my cases".

Labels come from the catalogue (``card_*`` keys); dates are shown in Thai style with the Buddhist-era year.
Sizes stay far below LINE's limits (a bubble ≤ 30 KB, a carousel ≤ 12 bubbles and 50 KB).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from bot.casework.states import STATES
from bot.messages import catalogue, text
from bot.messages.status_cards import citizen_text
from storage.models.core import BANGKOK

MONTHS_TH = ("ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.", "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค.")
MAX_BUBBLES = 10
ALT_TEXT_LIMIT = 400
BRAND = "#1E6B52"


def thai_date(moment: datetime | None, lang: str, with_time: bool = False) -> str:
    if moment is None:
        return "-"
    local = moment.astimezone(BANGKOK)
    clock = f" {local:%H:%M}" if with_time else ""
    if lang == "en":
        return f"{local:%d %b %Y}{clock}"
    return f"{local.day} {MONTHS_TH[local.month - 1]} {local.year + 543}{clock}"


def _day(value: str | None, lang: str) -> str | None:
    """An ISO date from the date picker in Thai style; free text ("เมื่อวาน") as typed."""
    try:
        day = date.fromisoformat(value or "")
    except ValueError:
        return value
    return thai_date(datetime(day.year, day.month, day.day, 12, tzinfo=BANGKOK), lang)


def category_label(category_id: str | None, lang: str) -> str:
    """The citizen-facing name of a category of the NLP catalogue (its id if unknown)."""
    from bot.nlp.categories import category

    try:
        found = category(category_id or "")
    except KeyError:
        return category_id or "-"
    return found.label_en if lang == "en" else found.label_th


def status_label(status: str, lang: str) -> str:
    state = STATES.get(status)
    return text(state.label_key, lang) if state and state.label_key in catalogue() else status


def draft_card(draft: dict[str, Any], agency_name: str, lang: str) -> dict:
    area = " ".join(p for p in (draft.get("district"), draft.get("province")) if p)
    place = f"{draft['address']} ({area})" if draft.get("address") and area else draft.get("address") or area
    rows = [
        ("card_story", _short(draft.get("description"), 300)),
        ("card_category", category_label(draft.get("category"), lang)
         if draft.get("category") else text("card_category_pending", lang)),
        ("card_place", place),
        ("card_when", _day(draft.get("occurred_on"), lang)),
        ("card_photos", str(len(draft.get("photos", [])))),
        ("card_phone", draft.get("phone")),
        ("card_identity", text("card_anonymous" if draft.get("anonymous") else "card_named", lang)),
        ("card_agency", agency_name),
    ]
    title = text("card_draft_title", lang)
    return _flex(title, _bubble(title, [_row(text(k, lang), v) for k, v in rows]))


def ticket_card(case, agency_name: str, lang: str) -> dict:
    rows = [
        ("card_status", status_label(case.status, lang)),
        ("card_category", category_label(case.category, lang)),
        ("card_agency", agency_name),
        ("card_due", thai_date(case.target_due_at, lang)),
    ]
    title = text("card_ticket_title", lang, ticket=case.ticket)
    return _flex(title, _bubble(title, [_row(text(k, lang), v) for k, v in rows],
                                [_track_button(case.ticket, lang)], urgent=case.urgent))


def timeline_card(case, lang: str) -> dict:
    items: list[dict] = [_row(text("card_category", lang), category_label(case.category, lang)),
                         _row(text("card_status", lang), status_label(case.status, lang)),
                         {"type": "separator", "margin": "md"}]
    for change in list(case.history)[-12:]:
        # One timeline for every agency: each step names its agency; a co-handler's step shows its part.
        step = text(f"part_{change.to_status}", lang) if change.part else status_label(change.to_status, lang)
        line = f"{thai_date(change.created_at, lang, with_time=True)}  {step}"
        items.append({"type": "text", "text": line, "size": "sm", "wrap": True, "margin": "md"})
        by = _agency_of(case, change.agency_id, lang)
        if by and not (change.part and change.to_status == "invited"):  # the lead invited; the note names who
            items.append({"type": "text", "text": text("timeline_by_agency", lang, agency=by), "size": "xs",
                          "color": BRAND, "wrap": True})
        note = citizen_text(change.note, change.note_en, lang)
        if note:
            items.append({"type": "text", "text": _short(note, 200), "size": "xs", "color": "#666666",
                          "wrap": True})
    title = text("card_timeline_title", lang, ticket=case.ticket)
    return _flex(title, _bubble(title, items))


def _agency_of(case, agency_id: str | None, lang: str) -> str | None:
    """The agency's name for citizens, from the case's session (never its id)."""
    from sqlalchemy.orm import object_session

    from storage.staff import agency_name

    session = object_session(case)
    return agency_name(session, agency_id, lang) if session is not None and agency_id else None


def cases_carousel(cases: Iterable, lang: str) -> dict:
    bubbles = []
    for case in list(cases)[:MAX_BUBBLES]:
        rows = [_row(text("card_status", lang), status_label(case.status, lang)),
                _row(text("card_updated", lang), thai_date(case.updated_at, lang)),
                {"type": "text", "text": _short(case.description, 80), "size": "xs", "wrap": True,
                 "color": "#666666", "margin": "md"}]
        bubbles.append(_bubble(case.ticket, rows, [_track_button(case.ticket, lang)], size="kilo"))
    return {"type": "flex", "altText": text("card_my_cases_alt", lang, count=len(bubbles)),
            "contents": {"type": "carousel", "contents": bubbles}}


def duplicates_carousel(cases: Iterable, lang: str) -> dict:
    bubbles = [_bubble(case.ticket, [
        _row(text("card_category", lang), category_label(case.category, lang)),
        _row(text("card_place", lang), " ".join(p for p in (case.district, case.province) if p)),
        _row(text("card_filed", lang), thai_date(case.created_at, lang)),
        {"type": "text", "text": _short(case.description, 80), "size": "xs", "wrap": True, "margin": "md"},
    ], size="kilo") for case in list(cases)[:MAX_BUBBLES]]
    return {"type": "flex", "altText": text("card_duplicates_alt", lang, count=len(bubbles)),
            "contents": {"type": "carousel", "contents": bubbles}}


# --- building blocks -----------------------------------------------------------------------------------

def _flex(alt: str, bubble: dict) -> dict:
    return {"type": "flex", "altText": alt[:ALT_TEXT_LIMIT], "contents": bubble}


def _bubble(title: str, body: list[dict], buttons: list[dict] | None = None, size: str = "mega",
            urgent: bool = False) -> dict:
    bubble: dict[str, Any] = {
        "type": "bubble", "size": size,
        "header": {"type": "box", "layout": "vertical", "backgroundColor": "#B3261E" if urgent else BRAND,
                   "contents": [{"type": "text", "text": title, "color": "#FFFFFF", "weight": "bold",
                                 "wrap": True}]},
        "body": {"type": "box", "layout": "vertical", "spacing": "sm", "contents": body},
    }
    if buttons:
        bubble["footer"] = {"type": "box", "layout": "vertical", "contents": buttons}
    return bubble


def _row(label: str, value: str | None) -> dict:
    return {"type": "box", "layout": "baseline", "spacing": "sm", "contents": [
        {"type": "text", "text": label, "size": "sm", "color": "#888888", "flex": 2},
        {"type": "text", "text": _short(value, 400), "size": "sm", "wrap": True, "flex": 5},
    ]}


def _track_button(ticket: str, lang: str) -> dict:
    label = text("card_btn_timeline", lang)
    return {"type": "button", "style": "link", "height": "sm",
            "action": {"type": "postback", "label": label, "data": urlencode({"track": ticket}),
                       "displayText": ticket}}


def _short(value: str | None, limit: int) -> str:
    value = (value or "").strip() or "-"
    return value if len(value) <= limit else value[: limit - 1] + "…"
