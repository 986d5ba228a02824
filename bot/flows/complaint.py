"""Complaint intake (เรื่องร้องเรียน): from what happened to a ticket number.

    consent ─▶ describe ─▶ photos ─▶ where ─▶ [district] ─▶ when ─▶ contact ─▶ anonymous
            ─▶ [category] (only when the classifier is unsure) ─▶ [duplicates] ─▶ confirm ─▶ filed
    confirm ─ "แก้ไข" ─▶ edit ─▶ (any field step) ─▶ confirm

Accepted inputs per step are in ``STEPS`` below; each step function validates and returns the next step.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from bot import messages, places
from bot.casework import CaseDraft, file_case
from bot.flows import emergency, understanding
from bot.flows.engine import (
    AUDIO,
    DONE,
    FILE,
    IMAGE,
    LOCATION,
    POSTBACK,
    TEXT,
    VIDEO,
    Flow,
    Input,
    Reprompt,
    Step,
    Turn,
    looks_like_question,
    register,
)
from bot.flows.privacy import CONSENT_VERSION, consent_given, record_consent
from bot.groups import post_case_card
from bot.messages import ticket_cards
from storage import flows as store
from storage.models import Case, StoredContent

BANGKOK = ZoneInfo("Asia/Bangkok")
MAX_PHOTOS = 5
MIN_DESCRIPTION = 8
MAX_DESCRIPTION = 4000
CATEGORY_CHOICES = 3
SKIP_WORDS = frozenset({"ข้าม", "skip", "ไม่มี", "ไม่ระบุ", "ถัดไป", "next", "เสร็จ", "เสร็จแล้ว", "done", "พอแล้ว"})
THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
PHONE = re.compile(r"^(?:\+?66|0)(?:[689]\d{8}|[2-7]\d{7})$")
EMERGENCY_PHONE = re.compile(r"^(1\d{2,3})$")  # 191, 1669...: not a number to call the citizen back on


def begin(turn: Turn) -> str:
    if not consent_given(turn.ctx, "complaint"):
        return "consent"
    return _after_description(turn) if turn.draft.get("description") else "describe"


# --- consent -------------------------------------------------------------------------------------------------

def ask_consent(turn: Turn) -> list[dict]:
    return [turn.say("complaint_consent_notice", version=CONSENT_VERSION,
                     quick=[turn.button("privacy_btn_agree", "yes"), turn.button("privacy_btn_decline", "no"),
                            *turn.nav()])]


def on_consent(turn: Turn, item: Input) -> str | Reprompt:
    answer = item.value or {"ยินยอม": "yes", "ตกลง": "yes", "ไม่ยินยอม": "no"}.get(item.word)
    if answer not in ("yes", "no"):
        return Reprompt("complaint_consent_choose")
    record_consent(turn.ctx, "complaint", answer == "yes")
    if answer == "no":
        turn.reply(messages.text_message(turn.text("complaint_consent_declined"),
                                         quick_reply=messages.main_menu(turn.lang)))
        return DONE
    return _after_description(turn) if turn.draft.get("description") else "describe"


# --- what happened ---------------------------------------------------------------------------------------------

def ask_describe(turn: Turn) -> list[dict]:
    return [turn.say("complaint_describe_ask", quick=turn.nav())]


def on_describe(turn: Turn, item: Input) -> str | Reprompt:
    if item.kind != TEXT:
        refused = _keep_photo(turn, item)
        if refused is None:
            turn.reply(turn.say("complaint_photo_before_story"))
        return refused or "describe"
    text = item.text.strip()
    if looks_like_question(text):
        return Reprompt("complaint_describe_too_short")  # the engine answers a question with the step's help
    if len(text) < MIN_DESCRIPTION:
        return Reprompt("complaint_describe_too_short")
    if turn.draft.get("_return"):
        turn.draft["description"] = ""  # editing replaces the story
    _add_description(turn, text)
    return _after_description(turn)


def _after_description(turn: Turn) -> str:
    turn.loading()
    found = understanding.understand(turn.draft["description"], turn.draft.get("province"),
                                     turn.draft.get("district"))
    draft = turn.draft
    draft["category"] = found.category if found.confident else None
    draft["confidence"] = found.confidence
    draft["choices"] = [c for c in [found.category, *(a for a, _ in found.alternatives)] if c][:CATEGORY_CHOICES]
    if found.urgent and not draft.get("urgent"):  # told already when the message itself was urgent
        draft["urgent"] = True
        hotlines = found.hotlines or tuple(h for h in (found.hotline,) if h)
        urgency = understanding.Urgency(True, found.urgency_reason, hotlines)
        turn.reply(messages.text_message(emergency.emergency_text(urgency, turn.lang)))
    following = turn.after("photos")
    if following == "confirm" and not draft["category"]:
        draft["_return"] = "confirm"
        return "category"
    return following


def _add_description(turn: Turn, text: str) -> None:
    current = turn.draft.get("description") or ""
    turn.draft["description"] = (f"{current}\n{text}" if current else text)[:MAX_DESCRIPTION]


# --- photos --------------------------------------------------------------------------------------------------

def ask_photos(turn: Turn) -> list[dict]:
    count = len(turn.draft.get("photos", []))
    key = "complaint_photos_ask" if count == 0 else "complaint_photos_more"
    quick = [{"type": "action", "action": {"type": "camera", "label": turn.text("complaint_btn_camera")}},
             {"type": "action", "action": {"type": "cameraRoll", "label": turn.text("complaint_btn_gallery")}},
             turn.button("complaint_btn_next" if count else "complaint_btn_no_photo", "next"), *turn.nav()]
    return [turn.say(key, quick=quick, count=count, limit=MAX_PHOTOS)]


def on_photos(turn: Turn, item: Input) -> str | Reprompt:
    if item.kind in (IMAGE, VIDEO):
        return _keep_photo(turn, item) or "photos"
    if item.kind in (FILE, AUDIO):
        return Reprompt("complaint_file_refused")
    if item.value == "next" or item.word in SKIP_WORDS:
        return turn.after("where")
    if item.kind == TEXT:
        if looks_like_question(item.text):
            return Reprompt("complaint_photos_help")
        _add_description(turn, item.text.strip())
        turn.reply(turn.say("complaint_description_added"))
    return "photos"


def _keep_photo(turn: Turn, item: Input) -> Reprompt | None:
    photos = turn.draft.setdefault("photos", [])
    if item.kind in (FILE, AUDIO) or item.content_id is None:
        return Reprompt("complaint_file_refused")
    if len(photos) >= MAX_PHOTOS:
        return Reprompt("complaint_photos_full", limit=MAX_PHOTOS)
    if item.content_id not in photos:
        photos.append(item.content_id)
    return None


# --- where -------------------------------------------------------------------------------------------------

def ask_where(turn: Turn) -> list[dict]:
    quick = [{"type": "action", "action": {"type": "location", "label": turn.text("complaint_btn_location")}},
             *turn.nav()]
    return [turn.say("complaint_where_ask", quick=quick)]


def on_where(turn: Turn, item: Input) -> str | Reprompt:
    draft = turn.draft
    if item.kind == LOCATION:
        # LINE's address line may name the district; the polygon wins, the address beats the nearest centre.
        place = places.resolve(item.latitude, item.longitude, item.address)
        if place is None or place.province is None:
            return Reprompt("complaint_where_outside")
        draft.update(latitude=item.latitude, longitude=item.longitude, province=place.province,
                     district=place.district,
                     address=(item.address or item.title or f"{place.subdistrict} {place.district}")[:300])
        # In Bangkok the district decides the office: a point on no district polygon is confirmed by the citizen.
        unsure_in_bangkok = place.province == places.BANGKOK_TH and not place.sure
        return "district" if unsure_in_bangkok else turn.after("when")
    place = places.resolve_text(item.text, answer=True)
    if place is None:
        return Reprompt("complaint_where_unknown")
    draft.update(province=place.province, district=place.district, address=item.text.strip()[:300],
                 latitude=None, longitude=None)
    return turn.after("when") if place.district else "district"


def ask_district(turn: Turn) -> list[dict]:
    return [turn.say("complaint_district_ask", province=turn.draft.get("province"),
                     quick=[turn.button("complaint_btn_dont_know", "unknown"), *turn.nav()])]


def on_district(turn: Turn, item: Input) -> str | Reprompt:
    if item.value == "unknown" or item.word in SKIP_WORDS or item.word == "ไม่ทราบ":
        return turn.after("when")
    place = places.resolve_text(item.text, province_hint=turn.draft.get("province"), answer=True)
    if place is None or not place.district:
        return Reprompt("complaint_district_unknown", province=turn.draft.get("province"))
    turn.draft.update(province=place.province, district=place.district)
    return turn.after("when")


# --- when --------------------------------------------------------------------------------------------------

def ask_when(turn: Turn) -> list[dict]:
    today = datetime.now(BANGKOK).date().isoformat()
    picker = {"type": "action", "action": {"type": "datetimepicker", "label": turn.text("complaint_btn_pick_date"),
                                           "data": urlencode({"f": "complaint", "s": "when", "v": "picked"}),
                                           "mode": "date", "max": today}}
    return [turn.say("complaint_when_ask", quick=[turn.button("complaint_btn_today", "today"), picker,
                                                   turn.button("complaint_btn_not_sure", "skip"), *turn.nav()])]


def on_when(turn: Turn, item: Input) -> str | Reprompt:
    today = datetime.now(BANGKOK).date()
    if item.value == "picked":
        picked = item.params.get("date") or (item.params.get("datetime") or "")[:10]
        try:
            day = date.fromisoformat(picked)
        except ValueError:
            return Reprompt("complaint_when_invalid")
        if day > today:
            return Reprompt("complaint_when_future")
        turn.draft["occurred_on"] = day.isoformat()
    elif item.value == "today" or item.word in ("วันนี้", "today"):
        turn.draft["occurred_on"] = today.isoformat()
    elif item.word in ("เมื่อวาน", "yesterday"):
        turn.draft["occurred_on"] = (today - timedelta(days=1)).isoformat()
    elif item.value == "skip" or item.word in SKIP_WORDS or item.word == "ไม่แน่ใจ":
        turn.draft["occurred_on"] = None
    elif item.kind == TEXT:
        if len(item.text.strip()) > 32:
            return Reprompt("complaint_when_too_long")
        turn.draft["occurred_on"] = item.text.strip()
    return turn.after("contact")


# --- contact and anonymity ---------------------------------------------------------------------------------

def ask_contact(turn: Turn) -> list[dict]:
    return [turn.say("complaint_contact_ask", quick=[turn.button("complaint_btn_skip", "skip"), *turn.nav()])]


def on_contact(turn: Turn, item: Input) -> str | Reprompt:
    if item.value == "skip" or item.word in SKIP_WORDS:
        turn.draft["phone"] = None
        return turn.after("anonymous")
    phone = normalise_phone(item.text)
    if phone is None:
        return Reprompt("complaint_phone_invalid")
    turn.draft["phone"] = phone
    return turn.after("anonymous")


def normalise_phone(text: str) -> str | None:
    digits = re.sub(r"[\s\-().]", "", text.translate(THAI_DIGITS))
    if not PHONE.match(digits):
        return None
    return "0" + digits.removeprefix("+").removeprefix("66") if digits.lstrip("+").startswith("66") else digits


def ask_anonymous(turn: Turn) -> list[dict]:
    return [turn.say("complaint_anonymous_ask", quick=[turn.button("complaint_btn_named", "named"),
                                                        turn.button("complaint_btn_anonymous", "anonymous"),
                                                        *turn.nav()])]


def on_anonymous(turn: Turn, item: Input) -> str | Reprompt:
    answer = item.value or {"เปิดเผยชื่อ": "named", "ไม่เปิดเผยชื่อ": "anonymous"}.get(item.word)
    if answer not in ("named", "anonymous"):
        return Reprompt("complaint_anonymous_choose")
    turn.draft["anonymous"] = answer == "anonymous"
    return turn.after(_before_confirm(turn))


# --- category and duplicates --------------------------------------------------------------------------------

def ask_category(turn: Turn) -> list[dict]:
    choices = turn.draft.get("choices") or understanding.category_ids()[:10]
    quick = [turn.button("complaint_category_choice", f"c:{index}",
                         label=understanding.category_label(c, turn.lang)) for index, c in enumerate(choices)]
    return [turn.say("complaint_category_ask", quick=[*quick, turn.button("complaint_btn_none_of_these", "none"),
                                                       *turn.nav()])]


def on_category(turn: Turn, item: Input) -> str | Reprompt:
    choices = turn.draft.get("choices") or understanding.category_ids()[:10]
    value = item.value or ""
    if value == "none":
        turn.draft.update(category=understanding.FALLBACK_CATEGORY, handover=True)
    elif value.startswith("c:") and value[2:].isdigit() and int(value[2:]) < len(choices):
        turn.draft.update(category=choices[int(value[2:])], handover=False)
    else:
        typed = {understanding.category_label(c, turn.lang): c for c in understanding.category_ids()}
        if item.text.strip() not in typed:
            return Reprompt("complaint_category_choose")
        turn.draft.update(category=typed[item.text.strip()], handover=False)
    return turn.after(_before_confirm(turn, skip_category=True))


def _before_confirm(turn: Turn, skip_category: bool = False) -> str:
    draft = turn.draft
    if not draft.get("category") and not skip_category:
        return "category"
    if draft.get("duplicates_checked"):
        return "confirm"
    draft["duplicates_checked"] = True
    found = store.possible_duplicates(turn.ctx.session, draft["category"], draft.get("province"),
                                      draft.get("district"), draft.get("latitude"), draft.get("longitude"),
                                      exclude_citizen=turn.ctx.citizen.id if turn.ctx.citizen else None)
    draft["duplicates"] = [case.id for case in found]
    return "duplicates" if found else "confirm"


def ask_duplicates(turn: Turn) -> list[dict]:
    cases = [turn.ctx.session.get(Case, case_id) for case_id in turn.draft.get("duplicates", [])]
    cases = [c for c in cases if c is not None]
    quick = [turn.button("complaint_btn_me_too", f"join:{c.id}", ticket=c.ticket) for c in cases]
    card = ticket_cards.duplicates_carousel(cases, turn.lang)
    return [card, turn.say("complaint_duplicates_ask", quick=[*quick, turn.button("complaint_btn_file_new", "new"),
                                                               *turn.nav()])]


def on_duplicates(turn: Turn, item: Input) -> str | Reprompt:
    value = item.value or ""
    if value == "new":
        return "confirm"
    case_id = int(value[5:]) if value.startswith("join:") and value[5:].isdigit() else None
    if case_id not in turn.draft.get("duplicates", []):
        return Reprompt("complaint_duplicates_choose")
    case = turn.ctx.session.get(Case, case_id)
    citizen = turn.ctx.citizen
    store.add_supporter(turn.ctx.session, case.id, citizen.id if citizen else None, turn.draft.get("description"))
    store.attach_sources(turn.ctx.session, case.id, turn.state.get("events", []), [])
    turn.reply(turn.say("complaint_joined", ticket=case.ticket, quick=messages.main_menu(turn.lang)))
    return DONE


# --- confirm, edit, file ----------------------------------------------------------------------------------------

EDITABLE = ("describe", "photos", "where", "when", "contact", "anonymous", "category")


def ask_confirm(turn: Turn) -> list[dict]:
    draft = turn.draft
    card = ticket_cards.draft_card(draft, _agency_name(turn), turn.lang)
    return [card, turn.say("complaint_confirm_ask", quick=[turn.button("complaint_btn_confirm", "yes"),
                                                            turn.button("complaint_btn_edit", "edit"),
                                                            *turn.nav()])]


def on_confirm(turn: Turn, item: Input) -> str | Reprompt:
    answer = item.value or {"ยืนยัน": "yes", "ส่งเรื่อง": "yes", "แก้ไข": "edit"}.get(item.word)
    if answer == "edit":
        return "edit"
    if answer != "yes":
        return Reprompt("complaint_confirm_choose")
    _file(turn)
    return DONE


def ask_edit(turn: Turn) -> list[dict]:
    quick = [turn.button(f"complaint_field_{name}", name) for name in EDITABLE]
    return [turn.say("complaint_edit_ask", quick=[*quick, turn.button("complaint_btn_edit_done", "confirm"),
                                                   *turn.nav()])]


def on_edit(turn: Turn, item: Input) -> str | Reprompt:
    field = item.value
    if field == "confirm":
        return "confirm"
    if field not in EDITABLE:
        return Reprompt("complaint_edit_choose")
    turn.draft["_return"] = "confirm"
    if field == "category":
        turn.draft["choices"] = turn.draft.get("choices") or []
    return field


def _agency_name(turn: Turn) -> str:
    draft = turn.draft
    category = None if draft.get("handover") else draft.get("category") or understanding.FALLBACK_CATEGORY
    agency = understanding.route(category, draft.get("province"), draft.get("district"))
    if agency and agency.get("name_th"):
        draft["agency_id"] = agency["id"]
        return (agency.get("name_en") if turn.lang == "en" else None) or agency["name_th"]
    draft["agency_id"] = agency["id"] if agency else None
    return turn.text("complaint_provincial_centre", province=draft.get("province") or "")


def _file(turn: Turn) -> None:
    draft, ctx = turn.draft, turn.ctx
    agency_name = _agency_name(turn)
    category = draft.get("category") or understanding.FALLBACK_CATEGORY
    target = understanding.target_days(category)
    case = file_case(ctx.session, CaseDraft(
        description=draft["description"], category=category, agency_id=draft.get("agency_id"),
        category_confidence=draft.get("confidence"), province=draft.get("province"),
        district=draft.get("district"), address=draft.get("address"), latitude=draft.get("latitude"),
        longitude=draft.get("longitude"), occurred_on=draft.get("occurred_on"), phone=draft.get("phone"),
        anonymous=bool(draft.get("anonymous")), urgent=bool(draft.get("urgent")), target_days=target,
    ), ctx.citizen.id if ctx.citizen else None)
    photos = [pid for pid in draft.get("photos", []) if ctx.session.get(StoredContent, pid) is not None]
    store.attach_sources(ctx.session, case.id, turn.state.get("events", []), photos)
    post_case_card(ctx.session, case)  # the agency's linked LINE group sees the new case (bot.groups)
    if draft.get("handover"):
        store.request_handover(ctx.session, ctx.citizen.id if ctx.citizen else None, ctx.user_id,
                               "category_unknown", draft["description"][:500], draft.get("province"), case.id)
    turn.reply(ticket_cards.ticket_card(case, agency_name, turn.lang),
               turn.say("complaint_filed", ticket=case.ticket, agency=agency_name,
                        days=target or "-", quick=messages.main_menu(turn.lang)))


STEPS = (
    Step("consent", frozenset({TEXT, POSTBACK}), ask_consent, on_consent),
    Step("describe", frozenset({TEXT, IMAGE, VIDEO}), ask_describe, on_describe),
    Step("photos", frozenset({IMAGE, VIDEO, FILE, AUDIO, TEXT, POSTBACK}), ask_photos, on_photos),
    Step("where", frozenset({LOCATION, TEXT}), ask_where, on_where),
    Step("district", frozenset({TEXT, POSTBACK}), ask_district, on_district),
    Step("when", frozenset({TEXT, POSTBACK}), ask_when, on_when),
    Step("contact", frozenset({TEXT, POSTBACK}), ask_contact, on_contact),
    Step("anonymous", frozenset({TEXT, POSTBACK}), ask_anonymous, on_anonymous),
    Step("category", frozenset({TEXT, POSTBACK}), ask_category, on_category),
    Step("duplicates", frozenset({TEXT, POSTBACK}), ask_duplicates, on_duplicates),
    Step("confirm", frozenset({TEXT, POSTBACK}), ask_confirm, on_confirm),
    Step("edit", frozenset({TEXT, POSTBACK}), ask_edit, on_edit),
)

COMPLAINT = register(Flow("complaint", "flow_title_complaint", STEPS, begin=begin))
