"""Volunteer registration (สมัครอาสาสมัคร), editable later.

    new:        name ─▶ phone ─▶ province ─▶ skills ─▶ availability ─▶ consent ─▶ saved
    registered: review ─ field ─▶ (that step) ─▶ review ─ "บันทึก" ─▶ saved
"""

from __future__ import annotations

from dataclasses import dataclass

from bot import messages, places
from bot.flows.engine import DONE, POSTBACK, TEXT, Flow, Input, Reprompt, Turn, register, step
from bot.flows.privacy import CONSENT_VERSION, consent_step
from bot.nlp.pii import normalise_phone
from storage import flows as store

FIELDS = ("name", "phone", "province", "skills", "availability")
SKILLS = ("volunteer_skill_first_aid", "volunteer_skill_driving", "volunteer_skill_cooking",
          "volunteer_skill_it", "volunteer_skill_language", "volunteer_skill_elderly")
AVAILABILITY = ("volunteer_when_weekdays", "volunteer_when_weekends", "volunteer_when_any", "volunteer_when_call")


@dataclass
class VolunteerDraft:
    name: str = ""
    phone: str = ""
    province: str = ""
    skills: str = ""
    availability: str = ""
    registered: bool = False


def begin(turn: Turn) -> str:
    citizen = turn.ctx.citizen
    existing = store.get_volunteer(turn.ctx.session, citizen.id) if citizen else None
    if existing is None:
        return "name"
    for name in FIELDS:
        setattr(turn.draft, name, getattr(existing, name))
    turn.draft.registered = True
    return "review"


def ask_name(turn: Turn) -> list[dict]:
    return [turn.say("volunteer_name_ask", quick=turn.nav())]


def on_name(turn: Turn, item: Input) -> str | Reprompt:
    name = " ".join(item.text.split())
    if not 2 <= len(name) <= 100 or any(ch.isdigit() for ch in name):
        return Reprompt("volunteer_name_invalid")
    turn.draft.name = name
    return turn.after("phone")


def ask_phone(turn: Turn) -> list[dict]:
    return [turn.say("volunteer_phone_ask", quick=turn.nav())]


def on_phone(turn: Turn, item: Input) -> str | Reprompt:
    phone = normalise_phone(item.text)
    if phone is None:
        return Reprompt("complaint_phone_invalid")
    turn.draft.phone = phone
    return turn.after("province")


def ask_province(turn: Turn) -> list[dict]:
    return [turn.say("volunteer_province_ask", quick=turn.nav())]


def on_province(turn: Turn, item: Input) -> str | Reprompt:
    place = places.resolve_text(item.text)
    if place is None or place.province is None:
        return Reprompt("volunteer_province_unknown")
    turn.draft.province = place.province
    return turn.after("skills")


def ask_skills(turn: Turn) -> list[dict]:
    quick = [turn.said(key) for key in SKILLS]
    return [turn.say("volunteer_skills_ask", quick=[*quick, *turn.nav()])]


def on_skills(turn: Turn, item: Input) -> str | Reprompt:
    skills = " ".join(item.text.split())
    if len(skills) < 2:
        return Reprompt("volunteer_skills_too_short")
    turn.draft.skills = skills[:1000]
    return turn.after("availability")


def ask_availability(turn: Turn) -> list[dict]:
    quick = [turn.said(key) for key in AVAILABILITY]
    return [turn.say("volunteer_availability_ask", quick=[*quick, *turn.nav()])]


def on_availability(turn: Turn, item: Input) -> str | Reprompt:
    when = " ".join(item.text.split())
    if not 2 <= len(when) <= 64:
        return Reprompt("volunteer_availability_invalid")
    turn.draft.availability = when
    return turn.after("consent")


def ask_review(turn: Turn) -> list[dict]:
    d = turn.draft
    quick = [turn.button(f"volunteer_field_{name}", name) for name in FIELDS]
    return [turn.say("volunteer_review", name=d.name, phone=d.phone, province=d.province,
                     skills=d.skills, availability=d.availability,
                     quick=[*quick, turn.button("volunteer_btn_save", "save"), *turn.nav()])]


def on_review(turn: Turn, item: Input) -> str | Reprompt:
    value = item.value or ("save" if item.word in messages.words("words_save") else None)
    if value == "save":
        return _save(turn)
    if value not in FIELDS:
        return Reprompt("volunteer_review_choose")
    turn.state.returning_to = "review"
    return value


def _save(turn: Turn) -> str:
    citizen = turn.ctx.citizen
    if citizen is not None:
        store.save_volunteer(turn.ctx.session, citizen.id, consent_version=CONSENT_VERSION,
                             **{name: getattr(turn.draft, name) for name in FIELDS})
    key = "volunteer_updated" if turn.draft.registered else "volunteer_registered"
    turn.reply(messages.text_message(turn.text(key, name=turn.draft.name),
                                     quick_reply=messages.main_menu(turn.lang)))
    return DONE


VOLUNTEER = register(Flow("volunteer", "flow_title_volunteer", (
    #    step            asks              accepts: input kind → handler                 may go to
    step("name", ask_name, on={TEXT: on_name}, goes=("phone", "review")),
    step("phone", ask_phone, on={TEXT: on_phone}, goes=("province", "review")),
    step("province", ask_province, on={TEXT: on_province}, goes=("skills", "review")),
    step("skills", ask_skills, on={TEXT: on_skills}, goes=("availability", "review")),
    step("availability", ask_availability, on={TEXT: on_availability}, goes=("consent", "review")),
    consent_step("volunteer", "volunteer_consent_ask", "volunteer_consent_declined", then=_save, goes=()),
    step("review", ask_review, on={TEXT: on_review, POSTBACK: on_review}, goes=(*FIELDS, DONE)),
), begin=begin, starts=("name", "review"), draft=VolunteerDraft))
