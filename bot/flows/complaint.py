"""Complaint intake (เรื่องร้องเรียน): a form of slots the citizen's messages fill, then one summary to confirm.

Slots: what (the story → its category), where (a place in the text or a LINE location), photos, when, contact
(phone) and name disclosure. **Every message fills every slot it can**, whatever the bot asked: the first story
may carry its place, date and phone; a photo or a location sent at any step is kept. The bot asks only for
what is missing and worth asking (:func:`next_missing`), each at most once, and shows one summary card; the
optional slots (phone, date, anonymity) are offered once there, never asked one by one.

Common paths, counted in bot turns (answers the citizen reads), pinned by ``tests/flows/test_turns.py``:

* returning citizen, the story names its place: story → "photo?" → summary → ticket (3)
* the story names no place: story → "where? (photos welcome)" → location → summary → ticket (3)
* a first-time citizen: the same plus the consent question first (4)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from bot import messages, places
from bot.casework import CaseDraft, file_case
from bot.context import Context
from bot.flows import emergency, engine, understanding
from bot.flows.engine import (
    AUDIO,
    DONE,
    FILE,
    IMAGE,
    LOCATION,
    POSTBACK,
    QUIET,
    TEXT,
    VIDEO,
    Flow,
    Input,
    Reprompt,
    StepResult,
    Turn,
    looks_like_question,
    register,
    step,
)
from bot.flows.privacy import consent_given, consent_step
from bot.groups import post_case_card
from bot.messages import ticket_cards
from bot.nlp.pii import normalise_phone, phone_in
from storage import flows as store
from storage.models import Case, StoredContent
from storage.models.core import BANGKOK
from storage.staff import agency_name

MAX_PHOTOS = 20  # LINE sends at most 20 images in one set; all of them are attached
MIN_DESCRIPTION = 8
MAX_DESCRIPTION = 4000
MORE_STORY_CHARS = 20  # a text without a place this long, typed at "where", is more of the story
CATEGORY_CHOICES = 3
EDITABLE = ("describe", "photos", "where", "when", "contact", "anonymous", "category")
OPTIONAL = ("contact", "when", "anonymous")  # offered once, in the summary


@dataclass
class ComplaintDraft:
    """The complaint's slots, and what the bot has already asked or offered (so it never asks twice)."""

    description: str = ""
    category: str | None = None
    confidence: float | None = None
    choices: list[str] = field(default_factory=list)
    classified: str | None = None  # the description the category was computed for
    category_chosen: bool = False
    handover: bool = False
    urgent: bool = False
    photos: list[int] = field(default_factory=list)
    image_sets: dict[str, int] = field(default_factory=dict)  # photos received so far of each LINE image set
    photos_offered: bool = False
    province: str | None = None
    district: str | None = None
    district_asked: bool = False
    address: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    occurred_on: str | None = None
    phone: str | None = None
    anonymous: bool = False
    offered: bool = False  # the summary offered the optional slots already
    duplicates_checked: bool = False
    duplicates: list[int] = field(default_factory=list)
    agency_id: str | None = None
    editing: str | None = None  # the field being edited from the summary


# --- filling slots from whatever the citizen sent ------------------------------------------------------------

def fill_from_text(turn: Turn, text: str, story: bool = True) -> bool:
    """Put into the draft what ``text`` says: a place, a phone number, a day; and, with ``story``, the text
    itself into the description. Whether the text named a place."""
    draft = turn.draft
    text = text.strip()
    named_place = _take_place_from_text(draft, text, as_answer=False)
    phone = phone_in(text)
    if phone and not draft.phone:
        draft.phone = phone
    if draft.occurred_on is None:
        draft.occurred_on = _day_in(text)
    if story:
        _add_description(draft, text)
    return named_place


def _take_place_from_text(draft: ComplaintDraft, text: str, as_answer: bool) -> bool:
    """A place the text names fills "where" when it says more than the draft knows (a shared location wins:
    the citizen chose that point); as the answer to "where" it also becomes the address."""
    place = places.resolve_text(text, province_hint=draft.province if as_answer else None, answer=as_answer)
    if place is None or place.province is None:
        return False
    located = draft.latitude is not None and not as_answer
    if located:
        return True
    if draft.province and not as_answer and (draft.district or not place.district
                                             or place.province != draft.province):
        return True
    draft.province, draft.district = place.province, place.district or None
    draft.district_asked = bool(place.district)
    draft.latitude = draft.longitude = None
    if as_answer:
        draft.address = text[:300]
    return True


def take_location(draft: ComplaintDraft, item: Input) -> bool:
    """A LINE location fills "where"; False when it is outside Thailand. LINE's address line may name the
    district: the polygon wins, the address beats the nearest centre."""
    place = places.resolve(item.latitude, item.longitude, item.address)
    if place is None or place.province is None:
        return False
    draft.latitude, draft.longitude = item.latitude, item.longitude
    draft.province, draft.district = place.province, place.district
    draft.address = (item.address or item.title or f"{place.subdistrict or ''} {place.district or ''}".strip())[:300]
    # In Bangkok the district decides the office: a point on no district polygon is confirmed by the citizen.
    draft.district_asked = not (place.province == places.BANGKOK_TH and not place.sure)
    return True


def keep_photo(turn: Turn, item: Input) -> tuple[bool, bool]:
    """Attach a photo or video whatever the step; (kept, answer now). A photo of a LINE image set is
    answered only when the whole set has arrived: twenty photos get one answer, not twenty."""
    draft = turn.draft
    kept = item.content_id is not None and len(draft.photos) < MAX_PHOTOS
    if kept and item.content_id not in draft.photos:
        draft.photos.append(item.content_id)
    if item.image_set is None:
        return kept, True
    set_id, _, total = item.image_set
    draft.image_sets[set_id] = draft.image_sets.get(set_id, 0) + 1
    return kept, draft.image_sets[set_id] >= total


def _day_in(text: str) -> str | None:
    today = datetime.now(BANGKOK).date()
    lowered = text.lower()
    if any(word in lowered for word in messages.words("words_yesterday")):
        return (today - timedelta(days=1)).isoformat()
    if any(word in lowered for word in messages.words("words_today")):
        return today.isoformat()
    return None


def _add_description(draft: ComplaintDraft, text: str) -> None:
    if not text:
        return
    draft.description = (f"{draft.description}\n{text}" if draft.description else text)[:MAX_DESCRIPTION]


# --- what to ask next ------------------------------------------------------------------------------------------

def next_missing(turn: Turn) -> str:
    """The first slot still missing and worth asking, or the summary when the form is complete enough."""
    draft = turn.draft
    draft.editing = None
    if len(draft.description) < MIN_DESCRIPTION:
        return "describe"
    if not draft.province:
        return "where"
    if not draft.district and not draft.district_asked:
        return "district"
    if not draft.photos and not draft.photos_offered:
        return "photos"
    _classify(turn)
    if not draft.category:
        return "category"
    if not draft.duplicates_checked:
        draft.duplicates_checked = True
        found = store.possible_duplicates(turn.ctx.session, draft.category, draft.province, draft.district,
                                          draft.latitude, draft.longitude,
                                          exclude_citizen=turn.ctx.citizen.id if turn.ctx.citizen else None)
        draft.duplicates = [case.id for case in found]
        if found:
            return "duplicates"
    return "summary"


def _classify(turn: Turn) -> None:
    """The category of the story (again when the story grew), unless the citizen chose one."""
    draft = turn.draft
    if draft.category_chosen or draft.classified == draft.description:
        return
    turn.loading()
    found = understanding.understand(draft.description, draft.province, draft.district)
    draft.classified = draft.description
    draft.category = found.category if found.confident else None
    draft.confidence = found.confidence
    draft.choices = [c for c in [found.category, *(a for a, _ in found.alternatives)] if c][:CATEGORY_CHOICES]
    if found.urgent and not draft.urgent:  # told already when the message itself was urgent
        draft.urgent = True
        hotlines = found.hotlines or tuple(h for h in (found.hotline,) if h)
        turn.reply(messages.text_message(emergency.emergency_text(
            understanding.Urgency(True, found.urgency_reason, hotlines), turn.lang)))


def begin(turn: Turn) -> str:
    """A complaint may start from a typed story, a photo or a location: fill what it says, then ask."""
    if turn.draft.description:
        story, turn.draft.description = turn.draft.description, ""
        fill_from_text(turn, story)
    if not consent_given(turn.ctx, "complaint"):
        return "consent"
    return next_missing(turn)


def start_with_location(ctx: Context, item: Input) -> None:
    """A location sent outside any flow starts a complaint at that place (kept, not refused)."""
    draft = ComplaintDraft()
    if not take_location(draft, item):
        ctx.reply(messages.text_message(ctx.text("complaint_where_outside"),
                                        quick_reply=messages.main_menu(ctx.lang)))
        return
    ctx.reply(messages.text_message(ctx.text("complaint_started_from_location", place=draft.address)))
    engine.start(ctx, "complaint", draft=dataclasses.asdict(draft))


# --- the fallbacks: photos, places and text at any step ---------------------------------------------------------

def any_photo(turn: Turn, item: Input) -> StepResult:
    kept, answer = keep_photo(turn, item)
    if not answer:
        return QUIET
    if not kept:
        return Reprompt("complaint_photos_full", limit=MAX_PHOTOS)
    count = len(turn.draft.photos)
    if turn.step == "summary":
        turn.reply(turn.say("complaint_photos_kept", count=count, quick=_summary_quick(turn)))
        return QUIET
    turn.reply(turn.say("complaint_photos_kept", count=count))
    return turn.step


def any_location(turn: Turn, item: Input) -> StepResult:
    if not take_location(turn.draft, item):
        return Reprompt("complaint_where_outside")
    if turn.step == "consent":  # kept; the consent question still comes first
        turn.reply(turn.say("complaint_location_kept"))
        return "consent"
    return next_missing(turn)


def any_file(turn: Turn, item: Input) -> StepResult:
    return Reprompt("complaint_file_refused")


def any_text(turn: Turn, item: Input) -> StepResult:
    fill_from_text(turn, item.text)
    turn.reply(turn.say("complaint_description_added"))
    return turn.step


# --- describe -----------------------------------------------------------------------------------------------

def ask_describe(turn: Turn) -> list[dict]:
    invite = not turn.draft.photos
    turn.draft.photos_offered = turn.draft.photos_offered or invite
    return [turn.say("complaint_describe_ask_photos" if invite else "complaint_describe_ask",
                     quick=[*_photo_actions(turn)] if invite else turn.nav())]


def on_describe(turn: Turn, item: Input) -> StepResult:
    text = item.text.strip()
    if looks_like_question(text):
        return Reprompt("complaint_describe_too_short")  # the engine answers a question with the step's help
    turn.draft.description = ""  # asked for the story (first, again after "back", or to edit it): it replaces
    fill_from_text(turn, text)
    if len(turn.draft.description) < MIN_DESCRIPTION:
        turn.draft.description = ""
        return Reprompt("complaint_describe_too_short")
    return next_missing(turn)


# --- where ------------------------------------------------------------------------------------------------------

def ask_where(turn: Turn) -> list[dict]:
    invite = not turn.draft.photos and not turn.draft.photos_offered
    turn.draft.photos_offered = True
    quick = [messages.location_action(turn.text("complaint_btn_location")),
             *(_photo_actions(turn, nav=False) if invite else []), *turn.nav()]
    return [turn.say("complaint_where_ask_photos" if invite else "complaint_where_ask", quick=quick)]


def on_where_text(turn: Turn, item: Input) -> StepResult:
    text = item.text.strip()
    if _take_place_from_text(turn.draft, text, as_answer=True):
        fill_from_text(turn, text, story=False)
        return next_missing(turn)
    if len(text) >= MORE_STORY_CHARS and not looks_like_question(text):
        fill_from_text(turn, text)
        turn.reply(turn.say("complaint_description_added"))
        return "where"
    return Reprompt("complaint_where_unknown")


def ask_district(turn: Turn) -> list[dict]:
    turn.draft.district_asked = True
    return [turn.say("complaint_district_ask", province=turn.draft.province,
                     quick=[turn.button("complaint_btn_dont_know", "unknown"), *turn.nav()])]


def on_district(turn: Turn, item: Input) -> StepResult:
    if item.value == "unknown" or item.word in messages.words("words_skip"):
        return next_missing(turn)
    place = places.resolve_text(item.text, province_hint=turn.draft.province, answer=True)
    if place is None or not place.district:
        return Reprompt("complaint_district_unknown", province=turn.draft.province)
    turn.draft.province, turn.draft.district = place.province, place.district
    return next_missing(turn)


# --- photos ------------------------------------------------------------------------------------------------

def _photo_actions(turn: Turn, nav: bool = True) -> list[dict]:
    actions = [messages.camera_action(turn.text("complaint_btn_camera")),
               messages.camera_roll_action(turn.text("complaint_btn_gallery"))]
    return [*actions, *turn.nav()] if nav else actions


def ask_photos(turn: Turn) -> list[dict]:
    turn.draft.photos_offered = True
    count = len(turn.draft.photos)
    quick = [*_photo_actions(turn, nav=False),
             turn.button("complaint_btn_next" if count else "complaint_btn_no_photo", "next"), *turn.nav()]
    return [turn.say("complaint_photos_ask" if count == 0 else "complaint_photos_more", quick=quick, count=count,
                     limit=MAX_PHOTOS)]


def on_photo(turn: Turn, item: Input) -> StepResult:
    kept, answer = keep_photo(turn, item)
    if not answer:
        return QUIET
    if not kept:
        return Reprompt("complaint_photos_full", limit=MAX_PHOTOS)
    return next_missing(turn)


def on_photos_text(turn: Turn, item: Input) -> StepResult:
    if item.value == "next" or item.word in messages.words("words_skip"):
        return next_missing(turn)
    if looks_like_question(item.text):
        return Reprompt("complaint_photos_help")
    fill_from_text(turn, item.text)
    turn.reply(turn.say("complaint_description_added"))
    return next_missing(turn)


# --- category and duplicates --------------------------------------------------------------------------------

def ask_category(turn: Turn) -> list[dict]:
    choices = turn.draft.choices or understanding.category_ids()[:10]
    quick = [turn.button("complaint_category_choice", f"c:{index}",
                         label=understanding.category_label(c, turn.lang)) for index, c in enumerate(choices)]
    return [turn.say("complaint_category_ask", quick=[*quick, turn.button("complaint_btn_none_of_these", "none"),
                                                       *turn.nav()])]


def on_category(turn: Turn, item: Input) -> StepResult:
    draft = turn.draft
    choices = draft.choices or understanding.category_ids()[:10]
    value = item.value or ""
    if value == "none":
        draft.category, draft.handover = understanding.FALLBACK_CATEGORY, True
    elif value.startswith("c:") and value[2:].isdigit() and int(value[2:]) < len(choices):
        draft.category, draft.handover = choices[int(value[2:])], False
    else:
        typed = {understanding.category_label(c, turn.lang): c for c in understanding.category_ids()}
        if item.text.strip() not in typed:
            return Reprompt("complaint_category_choose")
        draft.category, draft.handover = typed[item.text.strip()], False
    draft.category_chosen = True
    return next_missing(turn)


def ask_duplicates(turn: Turn) -> list[dict]:
    cases = [turn.ctx.session.get(Case, case_id) for case_id in turn.draft.duplicates]
    cases = [c for c in cases if c is not None]
    quick = [turn.button("complaint_btn_me_too", f"join:{c.id}", ticket=c.ticket) for c in cases]
    card = ticket_cards.duplicates_carousel(cases, turn.lang)
    return [card, turn.say("complaint_duplicates_ask", quick=[*quick, turn.button("complaint_btn_file_new", "new"),
                                                               *turn.nav()])]


def on_duplicates(turn: Turn, item: Input) -> StepResult:
    value = item.value or ""
    if value == "new":
        return "summary"
    case_id = int(value[5:]) if value.startswith("join:") and value[5:].isdigit() else None
    if case_id not in turn.draft.duplicates:
        return Reprompt("complaint_duplicates_choose")
    case = turn.ctx.session.get(Case, case_id)
    citizen = turn.ctx.citizen
    store.add_supporter(turn.ctx.session, case.id, citizen.id if citizen else None, turn.draft.description)
    store.attach_sources(turn.ctx.session, case.id, turn.state.events, [])
    turn.reply(turn.say("complaint_joined", ticket=case.ticket, quick=messages.main_menu(turn.lang)))
    return DONE


# --- the summary: confirm, offer the optional slots once, edit -------------------------------------------------

def _summary_quick(turn: Turn) -> list[dict]:
    draft = turn.draft
    quick = [turn.button("complaint_btn_confirm", "yes"), turn.button("complaint_btn_edit", "edit")]
    if not draft.offered:
        if not draft.phone:
            quick.append(turn.button("complaint_btn_add_phone", "contact"))
        if not draft.occurred_on:
            quick.append(turn.button("complaint_btn_add_date", "when"))
        quick.append(turn.button("complaint_btn_named" if draft.anonymous else "complaint_btn_anonymous",
                                 "named" if draft.anonymous else "anonymous"))
    return [*quick, turn.said("flow_btn_cancel")]


def ask_summary(turn: Turn) -> list[dict]:
    card = ticket_cards.draft_card(dataclasses.asdict(turn.draft), _agency_name(turn), turn.lang)
    quick = _summary_quick(turn)
    key = "complaint_summary_offer" if not turn.draft.offered else "complaint_confirm_ask"
    turn.draft.offered = True
    return [card, turn.say(key, quick=quick)]


def on_summary(turn: Turn, item: Input) -> StepResult:
    answer = item.value
    if answer is None:
        if item.word in messages.words("words_confirm"):
            answer = "yes"
        elif item.word in messages.words("words_edit"):
            answer = "edit"
        elif item.word in messages.words("words_anonymous"):
            answer = "anonymous"
        elif item.word in messages.words("words_named"):
            answer = "named"
    if answer == "yes":
        _file(turn)
        return DONE
    if answer == "edit":
        return "edit"
    if answer in ("contact", "when"):
        turn.state.returning_to = "summary"
        return answer
    if answer in ("anonymous", "named"):
        turn.draft.anonymous = answer == "anonymous"
        return "summary"
    if item.kind == TEXT and item.text.strip():
        phone = normalise_phone(item.text)
        if phone:
            turn.draft.phone = phone
            return "summary"
        if any(ch.isdigit() for ch in item.text) and len(item.text.strip()) < MORE_STORY_CHARS:
            return Reprompt("complaint_phone_invalid")  # a number, but not a phone number
        if looks_like_question(item.text) or len(item.text.strip()) < MORE_STORY_CHARS:
            return Reprompt("complaint_confirm_choose")
        fill_from_text(turn, item.text)  # more of the story, or a place, a day, a phone within it
        turn.reply(turn.say("complaint_description_added"))
        return next_missing(turn)
    return Reprompt("complaint_confirm_choose")


def ask_edit(turn: Turn) -> list[dict]:
    quick = [turn.button(f"complaint_field_{name}", name) for name in EDITABLE]
    return [turn.say("complaint_edit_ask", quick=[*quick, turn.button("complaint_btn_edit_done", "summary"),
                                                   *turn.nav()])]


def on_edit(turn: Turn, item: Input) -> StepResult:
    field_name = item.value
    if field_name == "summary":
        return "summary"
    if field_name not in EDITABLE:
        return Reprompt("complaint_edit_choose")
    turn.draft.editing = field_name
    turn.state.returning_to = "summary"
    if field_name == "category":
        turn.draft.category_chosen = False
    if field_name == "photos":
        turn.draft.photos_offered = False
    return field_name


# --- when, contact, anonymity (from the summary) -----------------------------------------------------------

def ask_when(turn: Turn) -> list[dict]:
    today = datetime.now(BANGKOK).date().isoformat()
    picker = messages.date_picker_action(turn.text("complaint_btn_pick_date"),
                                         urlencode({"f": "complaint", "s": "when", "v": "picked"}), today)
    return [turn.say("complaint_when_ask", quick=[turn.button("complaint_btn_today", "today"), picker,
                                                   turn.button("complaint_btn_not_sure", "skip"), *turn.nav()])]


def on_when(turn: Turn, item: Input) -> StepResult:
    today = datetime.now(BANGKOK).date()
    if item.value == "picked":
        picked = item.params.get("date") or (item.params.get("datetime") or "")[:10]
        try:
            day = date.fromisoformat(picked)
        except ValueError:
            return Reprompt("complaint_when_invalid")
        if day > today:
            return Reprompt("complaint_when_future")
        turn.draft.occurred_on = day.isoformat()
    elif item.value == "today":
        turn.draft.occurred_on = today.isoformat()
    elif item.value == "skip" or item.word in messages.words("words_skip"):
        turn.draft.occurred_on = None
    elif item.kind == TEXT:
        if len(item.text.strip()) > 32:
            return Reprompt("complaint_when_too_long")
        turn.draft.occurred_on = _day_in(item.text) or item.text.strip()
    return turn.after("summary")


def ask_contact(turn: Turn) -> list[dict]:
    return [turn.say("complaint_contact_ask", quick=[turn.button("complaint_btn_skip", "skip"), *turn.nav()])]


def on_contact(turn: Turn, item: Input) -> StepResult:
    if item.value == "skip" or item.word in messages.words("words_skip"):
        turn.draft.phone = None
        return turn.after("summary")
    phone = normalise_phone(item.text)
    if phone is None:
        return Reprompt("complaint_phone_invalid")
    turn.draft.phone = phone
    return turn.after("summary")


def ask_anonymous(turn: Turn) -> list[dict]:
    return [turn.say("complaint_anonymous_ask", quick=[turn.button("complaint_btn_named", "named"),
                                                        turn.button("complaint_btn_anonymous", "anonymous"),
                                                        *turn.nav()])]


def on_anonymous(turn: Turn, item: Input) -> StepResult:
    answer = item.value
    if answer is None and item.word in messages.words("words_anonymous"):
        answer = "anonymous"
    elif answer is None and item.word in messages.words("words_named"):
        answer = "named"
    if answer not in ("named", "anonymous"):
        return Reprompt("complaint_anonymous_choose")
    turn.draft.anonymous = answer == "anonymous"
    return turn.after("summary")


# --- filing --------------------------------------------------------------------------------------------------

def _agency_name(turn: Turn) -> str:
    draft = turn.draft
    category = None if draft.handover else draft.category or understanding.FALLBACK_CATEGORY
    agency = understanding.route(category, draft.province, draft.district)
    draft.agency_id = agency["id"] if agency else None
    # The name the case's status cards will give (an administrator's edit included), not the catalogue's.
    name = agency_name(turn.ctx.session, draft.agency_id, turn.lang)
    return name or turn.text("complaint_provincial_centre", province=draft.province or "")


def _file(turn: Turn) -> None:
    draft, ctx = turn.draft, turn.ctx
    owner = _agency_name(turn)
    category = draft.category or understanding.FALLBACK_CATEGORY
    target = understanding.target_days(category)
    case = file_case(ctx.session, CaseDraft(
        description=draft.description, category=category, agency_id=draft.agency_id,
        category_confidence=draft.confidence, province=draft.province, district=draft.district,
        address=draft.address, latitude=draft.latitude, longitude=draft.longitude,
        occurred_on=draft.occurred_on, phone=draft.phone, anonymous=draft.anonymous, urgent=draft.urgent,
        target_days=target,
    ), ctx.citizen.id if ctx.citizen else None)
    photos = [pid for pid in draft.photos if ctx.session.get(StoredContent, pid) is not None]
    store.attach_sources(ctx.session, case.id, turn.state.events, photos)
    post_case_card(ctx.session, case)  # the agency's linked LINE group sees the new case (bot.groups)
    if draft.handover:
        store.request_handover(ctx.session, ctx.citizen.id if ctx.citizen else None, ctx.user_id,
                               "category_unknown", draft.description[:500], draft.province, case.id)
    turn.reply(ticket_cards.ticket_card(case, owner, turn.lang),
               turn.say("complaint_filed", ticket=case.ticket, agency=owner,
                        days=target or "-", quick=messages.main_menu(turn.lang)))


def _keep_story(turn: Turn, item: Input) -> None:
    """A story typed at the consent question is kept for the complaint (it is filed only after a yes)."""
    fill_from_text(turn, item.text)


# --- the table -----------------------------------------------------------------------------------------------
# Every step may also take what the fallbacks take (a photo, a location, a file, a text at a step that
# lists none): the complaint keeps them whatever was asked. ``next_missing`` chooses among these steps.
ASKED = ("consent", "describe", "where", "district", "photos", "category", "duplicates", "summary")
SLOTS = ("describe", "where", "district", "photos", "category", "duplicates", "summary")
TEXT_AND_BUTTONS = (TEXT, POSTBACK)

STEPS = (
    #    step         asks            accepts: input kind → handler                          may go to
    consent_step("complaint", "complaint_consent_notice", "complaint_consent_declined", then=next_missing,
                 goes=SLOTS, otherwise=_keep_story),
    step("describe", ask_describe, on={TEXT: on_describe}, goes=SLOTS),
    step("where", ask_where, on={TEXT: on_where_text}, goes=SLOTS),
    step("district", ask_district, on={TEXT: on_district, POSTBACK: on_district}, goes=SLOTS),
    step("photos", ask_photos, on={IMAGE: on_photo, VIDEO: on_photo, TEXT: on_photos_text,
                                   POSTBACK: on_photos_text}, goes=SLOTS),
    step("category", ask_category, on={TEXT: on_category, POSTBACK: on_category}, goes=SLOTS),
    step("duplicates", ask_duplicates, on={TEXT: on_duplicates, POSTBACK: on_duplicates}, goes=("summary", DONE)),
    step("summary", ask_summary, on={TEXT: on_summary, POSTBACK: on_summary},
         goes=(*SLOTS, "edit", "contact", "when", DONE)),
    step("edit", ask_edit, on={POSTBACK: on_edit}, goes=(*EDITABLE, "summary")),
    step("when", ask_when, on={TEXT: on_when, POSTBACK: on_when}, goes=("summary",)),
    step("contact", ask_contact, on={TEXT: on_contact, POSTBACK: on_contact}, goes=("summary",)),
    step("anonymous", ask_anonymous, on={TEXT: on_anonymous, POSTBACK: on_anonymous}, goes=("summary",)),
)
FALLBACKS = {IMAGE: any_photo, VIDEO: any_photo, LOCATION: any_location, FILE: any_file, AUDIO: any_file,
             TEXT: any_text}

COMPLAINT = register(Flow("complaint", "flow_title_complaint", STEPS, begin=begin, starts=ASKED,
                          fallbacks=FALLBACKS, fallbacks_go=SLOTS, draft=ComplaintDraft))
