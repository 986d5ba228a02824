"""Conversations: the router from a citizen's message or tap to the flow that answers it.

Order of precedence for a message:
0. danger to life (``bot.flows.emergency``): the numbers to call come first, whatever is open, and the
   complaint goes on marked urgent;
1. feedback buttons of a case (rating, "solved") go to the case service;
2. the main menu and rich-menu buttons start a service (an unfinished flow is kept for later);
3. the citizen's active flow (``bot.flows.engine``: its global words ยกเลิก / ย้อนกลับ / เมนู work everywhere);
4. outside a flow: commands ("ลบข้อมูลของฉัน", menu words), a ticket number, a case waiting for the
   citizen's information, and finally intent detection: a complaint typed directly starts the complaint flow.
"""

from __future__ import annotations

import logging

from bot import messages
from bot.context import Context
from bot.flows import (  # noqa: F401
    complaint, emergency, engine, handover, opinion, privacy, subscription, tracking, understanding,
    volunteer,
)
from bot.flows.engine import IMAGE, LOCATION, POSTBACK, STICKER, TEXT, VIDEO, Input

log = logging.getLogger(__name__)

SERVICES = {"complaint": "complaint", "opinion": "opinion", "volunteer": "volunteer", "person": "handover"}
TYPED_SERVICES = {
    "ร้องเรียน": "complaint", "แจ้งเรื่อง": "complaint", "แจ้งเรื่องร้องเรียน": "complaint", "complaint": "complaint",
    "เสนอความคิดเห็น": "opinion", "ความคิดเห็น": "opinion", "opinion": "opinion",
    "สมัครอาสาสมัคร": "volunteer", "อาสาสมัคร": "volunteer", "volunteer": "volunteer",
    "คุยกับเจ้าหน้าที่": "handover", "ติดต่อเจ้าหน้าที่": "handover", "talk to a person": "handover",
    "ติดตามเรื่อง": "track", "เรื่องของฉัน": "track", "track my cases": "track", "my cases": "track",
    "รับข่าวสาร": "news", "news": "news",
}
GREETINGS = frozenset({"สวัสดี", "สวัสดีค่ะ", "สวัสดีครับ", "hello", "hi", "หวัดดี"})


# --- entry points used by bot/handlers ----------------------------------------------------------------------

def on_text(ctx: Context, text: str) -> None:
    if emergency.answer(ctx, text):
        _go_on_after_emergency(ctx, text)
        return
    if " ".join(text.split()).lower() in privacy.ERASE_WORDS:  # works mid-flow too: it is the citizen's right
        engine.start(ctx, "erase", resume_offer=False)
        return
    if engine.handle(ctx, Input(TEXT, text=text)):
        return
    _outside_flow(ctx, text)


def on_postback(ctx: Context, data: dict[str, str], params: dict[str, str]) -> None:
    if data.get("action") in ("rate", "solved") and _case_feedback(ctx, data):
        return
    if getattr(ctx.event.source, "type", "user") != "user":
        return  # group buttons belong to the group features, not to a citizen's conversation
    if "menu" in data:
        start_service(ctx, data["menu"])
        return
    if "track" in data:
        tracking.show_timeline(ctx, data["track"])
        return
    if engine.handle(ctx, Input(POSTBACK, data=data, params=params)):
        return
    ctx.reply(messages.text_message(ctx.text("flow_button_expired"), quick_reply=messages.main_menu(ctx.lang)))


def on_media(ctx: Context, kind: str, content_id: int | None, message_id: str | None) -> None:
    """A photo, video, audio or file, already recorded for download (``content_id``)."""
    if engine.handle(ctx, Input(kind, content_id=content_id, message_id=message_id)):
        return
    if content_id is not None and _attach_to_waiting_case(ctx, content_id=content_id):
        return
    if kind in (IMAGE, VIDEO) and content_id is not None:
        ctx.reply(messages.text_message(ctx.text("complaint_started_from_photo")))
        engine.start(ctx, "complaint", draft={"photos": [content_id]})
        return
    ctx.reply(messages.text_message(ctx.text("received_media"), quick_reply=messages.main_menu(ctx.lang)))


def on_location(ctx: Context, latitude: float, longitude: float, title: str | None, address: str | None) -> None:
    if engine.handle(ctx, Input(LOCATION, latitude=latitude, longitude=longitude, title=title, address=address)):
        return
    place = title or address or f"{latitude:.5f}, {longitude:.5f}"
    ctx.reply(messages.text_message(ctx.text("received_location", place=place) + "\n"
                                    + ctx.text("flow_location_outside_flow"),
                                    quick_reply=messages.main_menu(ctx.lang)))


def on_sticker(ctx: Context) -> None:
    if engine.handle(ctx, Input(STICKER)):
        return
    ctx.reply(messages.text_message(ctx.text("received_sticker"), quick_reply=messages.main_menu(ctx.lang)))


def _go_on_after_emergency(ctx: Context, text: str) -> None:
    """After the numbers: an open complaint takes the text as usual, marked urgent; otherwise the text starts
    an urgent complaint (another open flow is kept for later), which asks for consent first if needed."""
    if engine.update_active_draft(ctx, "complaint", urgent=True):
        engine.handle(ctx, Input(TEXT, text=text))
        return
    draft = {"description": text.strip()[:complaint.MAX_DESCRIPTION], "urgent": True}
    engine.start(ctx, "complaint", draft=draft)


# --- services ------------------------------------------------------------------------------------------------

def start_service(ctx: Context, service: str) -> None:
    service = SERVICES.get(service, service)
    if service in engine.FLOWS:
        engine.start(ctx, service)
    elif service == "track":
        tracking.show_my_cases(ctx)
    elif service == "news":
        _news(ctx)
    else:
        show_menu(ctx)


def show_menu(ctx: Context, key: str = "menu_prompt") -> None:
    ctx.reply(messages.text_message(ctx.text(key), quick_reply=messages.main_menu(ctx.lang)))


def _news(ctx: Context) -> None:
    """News subscriptions belong to their own feature; until it is installed, say so politely."""
    try:
        from bot.flows import subscription
    except ImportError:
        ctx.reply(messages.text_message(ctx.text("coming_soon", service=ctx.text("menu_news")),
                                        quick_reply=messages.main_menu(ctx.lang)))
        return
    subscription.start(ctx)


def _outside_flow(ctx: Context, text: str) -> None:
    word = " ".join(text.split()).lower()
    if word in engine.MENU_WORDS or word in engine.CANCEL_WORDS or word in engine.BACK_WORDS:
        show_menu(ctx)
        return
    if word in engine.HELP_WORDS:
        show_menu(ctx, "flow_help_outside")
        return
    if subscription.handle_command(ctx, text):  # รับข่าว … / เลิกรับข่าว …
        return
    if word in TYPED_SERVICES:
        start_service(ctx, TYPED_SERVICES[word])
        return
    ticket = tracking.find_ticket(text)
    if ticket:
        tracking.show_timeline(ctx, ticket)
        return
    if _attach_to_waiting_case(ctx, text=text):
        return
    intent = understanding.intent_of(text)
    if intent == "complaint":
        ctx.reply(messages.text_message(ctx.text("complaint_typed_ack")))
        engine.start(ctx, "complaint", draft={"description": text.strip()[:complaint.MAX_DESCRIPTION]})
    elif intent == "case_question":
        tracking.show_my_cases(ctx)
    elif intent == "opinion":
        start_service(ctx, "opinion")
    elif intent == "greeting" or word in GREETINGS:
        name = (ctx.citizen.display_name if ctx.citizen else None) or ""
        ctx.reply(messages.text_message(ctx.text("flow_hello", name=name).replace("  ", " "),
                                        quick_reply=messages.main_menu(ctx.lang)))
    else:
        show_menu(ctx, "flow_not_understood")


# --- the case service, owned by casework ----------------------------------------------------------------------

def _case_feedback(ctx: Context, data: dict[str, str]) -> bool:
    try:
        from bot.casework.feedback import handle_feedback_postback
    except ImportError:
        log.warning("case feedback tapped but bot.casework.feedback is not installed")
        return False
    return bool(handle_feedback_postback(ctx, data))


def _attach_to_waiting_case(ctx: Context, text: str | None = None, content_id: int | None = None) -> bool:
    """A case in ``waiting_citizen`` takes the citizen's next messages as the information staff asked for."""
    if ctx.citizen is None:
        return False
    try:
        from bot.casework.lifecycle import attach_citizen_message
    except ImportError:
        return False
    case = attach_citizen_message(ctx.session, ctx.citizen.id, text=text, content_id=content_id,
                                  source_event_id=ctx.row.id)
    if case is None:
        return False
    ctx.reply(messages.text_message(ctx.text("case_info_attached", ticket=case.ticket)))
    return True
