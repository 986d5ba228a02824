"""Two-way conversations with staff: while an officer's reply or a hand-over is open, the citizen's messages
go to that officer, not to the bot.

A thread opens when an officer answers a case in chat (console "reply in chat", ``ตอบ <ticket> …`` in the
agency's LINE group, both through ``bot.casework.work.reply_to_citizen``) or when the citizen asks for a
person ("คุยกับเจ้าหน้าที่": the hand-over request is the thread's first message). While it is open,
``route_to_open_thread`` takes the citizen's texts, photos, locations and stickers: each is stored under the
case (``case_messages``, photos as attachments) or the hand-over (``handover_messages``), shown live on the
console's page, and posted to the agency's linked LINE groups. Nothing becomes a new complaint.

It ends when staff close it, after ``Settings.thread_idle_seconds`` without a message either way, or when the
citizen starts something else explicitly: a menu word or button, "ยกเลิก", a service name, another case's
ticket number, "ลบข้อมูลของฉัน", a news command, or danger to life (the emergency answer always wins). Those
messages then go to the flows as if no thread had been open.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from linebot.v3.webhooks import (
    AudioMessageContent, FileMessageContent, ImageMessageContent, LocationMessageContent, StickerMessageContent,
    TextMessageContent, VideoMessageContent,
)
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot import messages
from bot.casework.states import STATES
from bot.context import Context
from storage import groups as group_store
from storage import threads as store
from storage.models import (
    Case, CaseAttachment, CaseMessage, Citizen, HandoverMessage, HandoverRequest, StaffThread, utcnow,
)

MEDIA = {ImageMessageContent: "image", VideoMessageContent: "video", AudioMessageContent: "audio",
         FileMessageContent: "file"}
ACK_QUIET = timedelta(seconds=60)  # a burst of photos gets one "sent to the officer", not one per photo
LEAVE = "leave"  # postback data thread=leave: the citizen's "end chat" button
GROUP_LANG = "th"


# --- the citizen's side: one decision, called first for every 1:1 message ------------------------------------

def route_to_open_thread(ctx: Context) -> bool:
    """True when the message went to the citizen's open conversation with staff (and was acknowledged);
    False when no thread is open, it expired, or the message starts something else (the thread then ends
    and the flows handle the message as usual)."""
    if ctx.citizen is None or getattr(ctx.event.source, "type", "user") != "user":
        return False
    now = utcnow()
    thread = current_thread(ctx.session, ctx.citizen.id, ctx.services.settings.thread_idle_seconds, now)
    if thread is None:
        return False
    body = ctx.event.message
    said = body.text if isinstance(body, TextMessageContent) else None
    if said is not None and _starts_something_else(ctx, thread, said):
        store.close_thread(ctx.session, thread, "citizen", now)
        if not _urgent(said):  # the emergency numbers come first and alone
            ctx.reply(messages.text_message(ctx.text("thread_left")))
        return False  # the flows take this message
    fields = _fields(ctx, body)
    if fields is None:
        return False
    quiet = _quiet_since(ctx.session, thread, now)
    _record(ctx.session, thread, source_event_id=ctx.row.id, **fields)
    thread.last_activity_at = now
    _post_to_groups(ctx.session, thread, **fields)
    if quiet:
        ctx.reply(messages.text_message(ctx.text("thread_forwarded", subject=subject_for(ctx.session, thread,
                                                                                         ctx.lang)),
                                        quick_reply=[messages.postback_action(ctx.text("thread_btn_leave"),
                                                                              f"thread={LEAVE}",
                                                                              ctx.text("thread_btn_leave"))]))
    return True


def on_citizen_postback(ctx: Context, data: dict[str, str]) -> bool:
    """The "end chat" button (True: answered here); a menu or tracking button ends the thread too, and then
    goes on to the flows (False)."""
    if ctx.citizen is None:
        return False
    leaving = data.get("thread") == LEAVE
    if not (leaving or "menu" in data or "track" in data):
        return False
    thread = store.open_thread_of(ctx.session, ctx.citizen.id)
    if thread is not None:
        store.close_thread(ctx.session, thread, "citizen")
    if leaving:
        ctx.reply(messages.text_message(ctx.text("thread_left"), quick_reply=messages.main_menu(ctx.lang)))
    return leaving


def current_thread(session: Session, citizen_id: int, idle_seconds: int,
                   now: datetime | None = None) -> StaffThread | None:
    """The citizen's open thread, if any and not idle for longer than ``idle_seconds`` (an idle one is closed
    here). A hand-over the citizen asked for and staff have not closed opens its thread on first use."""
    now = now or utcnow()
    thread = store.open_thread_of(session, citizen_id)
    if thread is None:
        handover = store.handover_waiting_thread(session, citizen_id)
        if handover is None:
            return None
        thread = StaffThread(citizen_id=citizen_id, handover_id=handover.id, case_id=None, opened_by="citizen",
                             opened_at=handover.created_at, last_activity_at=handover.created_at)
        session.add(thread)
        session.flush()
    if now - thread.last_activity_at > timedelta(seconds=idle_seconds):
        store.close_thread(session, thread, "idle", now)
        return None
    if thread.handover_id is not None:
        handover = session.get(HandoverRequest, thread.handover_id)
        if handover is None or handover.status == "closed":
            store.close_thread(session, thread, "staff", now)
            return None
    if thread.case_id is not None:
        case = session.get(Case, thread.case_id)
        if case is None or not STATES[case.status].open:
            # Resolved, closed or rejected: the citizen's next words are for the bot again (the "solved?"
            # question, a rating, a new story), not for a conversation nobody is working any more.
            store.close_thread(session, thread, "case_closed", now)
            return None
    return thread


def _starts_something_else(ctx: Context, thread: StaffThread, said: str) -> bool:
    """The citizen explicitly starts something else: the words of the global intents (bot/flows/intents.py)."""
    from bot import messages
    from bot.flows import subscription, tracking

    word = " ".join(said.split()).lower()
    if not word:
        return False
    if _urgent(said):
        return True
    if word in messages.words("words_person") and thread.handover_id is not None:
        return False  # asking for a person while talking to one: it is said to them
    explicit = ("words_menu", "words_cancel", "words_help", "words_erase", "words_person", "words_complaint",
                "words_opinion", "words_volunteer", "words_track", "words_news", "words_news_settings")
    if any(word in messages.words(key) for key in explicit):
        return True
    if word.startswith((subscription.SUBSCRIBE, subscription.UNSUBSCRIBE)):
        return True
    ticket = tracking.find_ticket(said)
    if ticket is not None:
        own = ctx.session.get(Case, thread.case_id) if thread.case_id else None
        return own is None or own.ticket != ticket  # their own case's number is part of the conversation
    return False


def _urgent(said: str) -> bool:
    from bot.flows import understanding

    return understanding.urgency_of(said).urgent


def _fields(ctx: Context, body) -> dict | None:
    """What to keep of the message: text, a stored photo/file, or a location; None for kinds not kept."""
    if isinstance(body, TextMessageContent):
        return {"text": body.text.strip()[:4000] or None}
    if type(body) in MEDIA:
        from bot.handlers.message import keep_media

        content_id = keep_media(ctx, body, MEDIA[type(body)])
        return {"content_id": content_id, "text": None if content_id else f"[{MEDIA[type(body)]}]"}
    if isinstance(body, LocationMessageContent):
        place = " ".join(p for p in (body.title, body.address) if p) or None
        return {"text": place, "latitude": body.latitude, "longitude": body.longitude}
    if isinstance(body, StickerMessageContent):
        return {"text": messages.text("thread_sticker", GROUP_LANG)}
    return None


def _record(session: Session, thread: StaffThread, *, source_event_id: int | None, text: str | None = None,
            content_id: int | None = None, latitude: float | None = None, longitude: float | None = None) -> None:
    if thread.case_id is not None:
        session.add(CaseMessage(case_id=thread.case_id, text=text, content_id=content_id, latitude=latitude,
                                longitude=longitude, source_event_id=source_event_id))
        if content_id is not None:
            session.add(CaseAttachment(case_id=thread.case_id, content_id=content_id))
        case = session.get(Case, thread.case_id)
        if case is not None:
            case.updated_at = utcnow()
    else:
        store.add_handover_message(session, thread.handover_id, "citizen", text=text, content_id=content_id,
                                   latitude=latitude, longitude=longitude, source_event_id=source_event_id)
    session.flush()


def _quiet_since(session: Session, thread: StaffThread, now: datetime) -> bool:
    """No message of the citizen's in this thread within ``ACK_QUIET``: this one is acknowledged."""
    if thread.case_id is not None:
        last = session.scalar(select(func.max(CaseMessage.created_at)).where(
            CaseMessage.case_id == thread.case_id, CaseMessage.created_at >= thread.opened_at))
    else:
        last = session.scalar(select(func.max(HandoverMessage.created_at)).where(
            HandoverMessage.handover_id == thread.handover_id, HandoverMessage.sender == "citizen"))
    return last is None or now - last > ACK_QUIET


# --- the agency's LINE groups ------------------------------------------------------------------------------------

def _post_to_groups(session: Session, thread: StaffThread, *, text: str | None = None, content_id: int | None = None,
                    latitude: float | None = None, longitude: float | None = None) -> None:
    """The citizen's message in the groups of the case's agency (or province): masked like the case card
    (a group is not the console), photos by a link to the console's case page."""
    from bot.api.public import public_text
    from bot.groups.cards import console_url
    from bot.groups.sending import push
    from bot.nlp.pii import mask_public
    from bot.places import resolve_province

    case = session.get(Case, thread.case_id) if thread.case_id else None
    handover = session.get(HandoverRequest, thread.handover_id) if thread.handover_id else None
    if case is None and handover is not None and handover.case_id:
        case = session.get(Case, handover.case_id)
    if case is not None:
        links = group_store.links_for_case(session, case.agency_id, resolve_province(case.province))
    elif handover is not None and handover.province:
        links = group_store.links_for_case(session, None, resolve_province(handover.province))
    else:
        links = []
    if not links:
        return
    subject = subject_for(session, thread, GROUP_LANG)
    ticket = case.ticket if case is not None and thread.case_id else None
    hint = messages.text("grp_thread_hint", GROUP_LANG, ticket=ticket) if ticket else ""
    if latitude is not None and longitude is not None:
        said = [messages.text_message(messages.text("grp_thread_location", GROUP_LANG, subject=subject) + hint),
                {"type": "location", "title": (text or subject)[:100], "address": (text or "-")[:100],
                 "latitude": latitude, "longitude": longitude}]
    elif content_id is not None:
        link = console_url(session, case) if case is not None else None
        said = [messages.text_message(messages.text("grp_thread_photo", GROUP_LANG, subject=subject)
                                      + (f"\n{link}" if link else "") + hint)]
    else:
        shown = public_text(case, text or "") if case is not None else mask_public(text or "")
        said = [messages.text_message(messages.text("grp_thread_text", GROUP_LANG, subject=subject,
                                                    text=shown[:3000]) + hint)]
    for link in links:
        push(session, link.group_line_id, said)


def subject_for(session: Session, thread: StaffThread, lang: str) -> str:
    """How the conversation is named to people: the case's ticket, or the hand-over's number."""
    if thread.case_id is not None:
        case = session.get(Case, thread.case_id)
        if case is not None:
            return messages.text("thread_subject_case", lang, ticket=case.ticket)
    return messages.text("thread_subject_handover", lang, number=thread.handover_id or "-")


# --- the staff's side ------------------------------------------------------------------------------------------

def staff_wrote_on_case(session: Session, case: Case, actor: str) -> StaffThread | None:
    """An officer answered the case in chat: the citizen's next messages come back to this case."""
    if case.citizen_id is None:
        return None
    return store.open_thread(session, case.citizen_id, actor, case_id=case.id)


def staff_wrote_on_handover(session: Session, handover: HandoverRequest, actor: str, text: str) -> StaffThread | None:
    store.add_handover_message(session, handover.id, "staff", author=actor, text=text)
    if handover.citizen_id is None:
        return None
    return store.open_thread(session, handover.citizen_id, actor, handover_id=handover.id)


def close_by_staff(session: Session, actor: str, *, case: Case | None = None,
                   handover: HandoverRequest | None = None) -> bool:
    """Staff end the conversation; the citizen is told once (their next message is for the bot again).
    False when no thread was open."""
    thread = store.thread_for(session, case_id=case.id if case else None,
                              handover_id=handover.id if handover else None)
    if thread is None:
        return False
    store.close_thread(session, thread, actor)
    citizen = session.get(Citizen, thread.citizen_id)
    if citizen is not None and citizen.active:
        from bot.jobs import deliver_after_commit
        from storage import outbox

        lang = messages.language_of(citizen.language)
        row = outbox.add_message(session, kind="push", recipient=citizen.line_user_id,
                                 messages=[messages.text_message(messages.text(
                                     "thread_closed_by_staff", lang, subject=subject_for(session, thread, lang)),
                                     quick_reply=messages.main_menu(lang))],
                                 case_id=case.id if case else None)
        deliver_after_commit(session, row.id)
    return True


def is_open(session: Session, idle_seconds: int, *, case_id: int | None = None,
            handover_id: int | None = None) -> bool:
    """For the console: whether the case's or hand-over's conversation is open now (idle ones are not)."""
    thread = store.thread_for(session, case_id=case_id, handover_id=handover_id)
    return thread is not None and utcnow() - thread.last_activity_at <= timedelta(seconds=idle_seconds)
