"""Conversations: the router from a citizen's message or tap to what answers it.

What a message means is decided in one place, the table of global intents in ``bot.flows.intents`` (danger
to life, "ลบข้อมูลของฉัน", "เลิกรับข่าว", "ยกเลิก", "เมนู", "คุยกับเจ้าหน้าที่", a ticket number, then the open
flow if the message fits its question, then a service named, a case waiting for information, a new complaint
story). Each flow is a table of steps at the top of its module (``bot.flows.engine``). Buttons (postbacks)
carry their own address: a case's feedback, the main menu, a timeline, or a flow's step.
"""

from __future__ import annotations

import logging

from bot import messages
from bot.context import Context
from bot.flows import (  # noqa: F401 - importing a flow registers its table
    complaint, emergency, engine, handover, intents, opinion, privacy, subscription, tracking, understanding,
    volunteer,
)
from bot.flows.engine import IMAGE, LOCATION, POSTBACK, STICKER, TEXT, VIDEO, Input
from bot.flows.intents import show_menu, start_service

log = logging.getLogger(__name__)

__all__ = ["on_location", "on_media", "on_postback", "on_sticker", "on_text", "show_menu", "start_service"]


# --- entry points used by bot/handlers ----------------------------------------------------------------------

def on_text(ctx: Context, text: str) -> None:
    item = Input(TEXT, text=text)
    if intents.dispatch(ctx, item):
        return
    _outside_flow(ctx, item)


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


def on_media(ctx: Context, kind: str, content_id: int | None, message_id: str | None,
             image_set: tuple[str, int, int] | None = None) -> None:
    """A photo, video, audio or file, already recorded for download (``content_id``)."""
    item = Input(kind, content_id=content_id, message_id=message_id, image_set=image_set)
    if intents.dispatch(ctx, item):
        return
    if kind in (IMAGE, VIDEO) and content_id is not None:
        ctx.reply(messages.text_message(ctx.text("complaint_started_from_photo")))
        engine.start(ctx, "complaint", draft={"photos": [content_id],
                                              "image_sets": {image_set[0]: 1} if image_set else {}})
        return
    ctx.reply(messages.text_message(ctx.text("received_media"), quick_reply=messages.main_menu(ctx.lang)))


def on_location(ctx: Context, latitude: float, longitude: float, title: str | None, address: str | None) -> None:
    item = Input(LOCATION, latitude=latitude, longitude=longitude, title=title, address=address)
    if intents.dispatch(ctx, item):
        return
    complaint.start_with_location(ctx, item)  # a place sent first is kept: the complaint starts there


def on_sticker(ctx: Context) -> None:
    if intents.dispatch(ctx, Input(STICKER)):
        return
    ctx.reply(messages.text_message(ctx.text("received_sticker"), quick_reply=messages.main_menu(ctx.lang)))


def _outside_flow(ctx: Context, item: Input) -> None:
    """No intent and no flow took the text: answer a question about cases, an opinion, a greeting, or say
    what the bot can do."""
    word = item.word
    if word in messages.words("words_back"):
        show_menu(ctx)
        return
    if word in messages.words("words_help"):
        show_menu(ctx, "flow_help_outside")
        return
    intent = understanding.intent_of(item.text)
    if intent == "case_question":
        tracking.show_my_cases(ctx)
    elif intent == "opinion":
        start_service(ctx, "opinion")
    elif intent == "greeting" or word in messages.words("words_greeting"):
        name = (ctx.citizen.display_name if ctx.citizen else None) or ""
        ctx.reply(messages.text_message(ctx.text("flow_hello", name=name).replace("  ", " "),
                                        quick_reply=messages.main_menu(ctx.lang)))
    else:
        show_menu(ctx, "flow_not_understood")


# --- the case service, owned by casework ----------------------------------------------------------------------

def _case_feedback(ctx: Context, data: dict[str, str]) -> bool:
    from bot.casework.feedback import handle_feedback_postback

    return bool(handle_feedback_postback(ctx, data))
