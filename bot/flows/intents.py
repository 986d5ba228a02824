"""One place decides what a citizen's message means: the global intents, in order, around the open flow.

Read top to bottom, as python-telegram-bot reads its handler groups: the first row that takes the message
answers it. Rows marked ``BEFORE`` come first whatever flow or menu is open; then the open flow may claim the
message, but only when it fits the question asked (its step's handler accepts it: a story typed while the
news settings are open does not fit "which topic?"); rows marked ``UNCLAIMED`` see what no flow claimed;
whatever is left gets the open step's "please answer this" or, outside a flow, the menu.

======================  ==========  =======================================================================
intent                  when        what happens
======================  ==========  =======================================================================
danger to life          BEFORE      the numbers to call first; then an urgent complaint (or the open one)
delete my data          BEFORE      the erase flow (``ลบข้อมูลของฉัน``)
stop the news           BEFORE      ``เลิกรับข่าว`` [topic|province] really unsubscribes, at once
cancel                  BEFORE      ``ยกเลิก`` drops the open flow's draft; outside a flow: the menu
menu                    BEFORE      ``เมนู`` pauses the open flow (draft kept) and shows the menu
talk to a person        BEFORE      ``คุยกับเจ้าหน้าที่`` starts the hand-over request
ticket number           BEFORE      ``DR-2025-000123`` shows that case's timeline (the open flow stays)
(the open flow)         —           the step takes the message if it fits its question
service by name         UNCLAIMED   ``ร้องเรียน``, ``ติดตามเรื่อง``, ``รับข่าว เกษตร``... start that service
waiting case            UNCLAIMED   a case waiting for the citizen's information takes the message
new complaint story     UNCLAIMED   a text that tells a problem starts a complaint with it (slots filled)
======================  ==========  =======================================================================

Photos, videos and locations go through the same table (only the rows that take their kind).

Before this table: while an officer's reply or a hand-over is open, ``bot/handlers/message.py`` hands every
message to that thread (``bot.casework.threads.route_to_open_thread``), which ends itself when the message is
one of the explicit rows above (menu, cancel, a service, another ticket, erase, news, danger to life).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from bot import messages
from bot.context import Context
from bot.flows import complaint, emergency, engine, subscription, tracking, understanding
from bot.flows.engine import IMAGE, LOCATION, MEDIA, STICKER, TEXT, VIDEO, Input

log = logging.getLogger(__name__)

BEFORE, UNCLAIMED = "before the open flow", "when no flow claimed it"


@dataclass(frozen=True)
class Intent:
    """One row: a name, when it is tried, the input kinds it looks at, and ``take`` (True: answered)."""

    name: str
    when: Literal["before the open flow", "when no flow claimed it"]
    kinds: frozenset[str]
    take: Callable[[Context, Input], bool]


# --- the rows -----------------------------------------------------------------------------------------------

def danger_to_life(ctx: Context, item: Input) -> bool:
    """The numbers first; then the open complaint goes on marked urgent, or the text starts one."""
    if not emergency.answer(ctx, item.text):
        return False
    if engine.update_active_draft(ctx, "complaint", urgent=True):
        engine.handle(ctx, item)
        return True
    engine.start(ctx, "complaint", draft={"description": item.text.strip()[:complaint.MAX_DESCRIPTION],
                                          "urgent": True})
    return True


def delete_my_data(ctx: Context, item: Input) -> bool:
    if item.word not in messages.words("words_erase"):
        return False
    engine.start(ctx, "erase", resume_offer=False)
    return True


def stop_the_news(ctx: Context, item: Input) -> bool:
    return subscription.stop_command(ctx, item.text)


def cancel(ctx: Context, item: Input) -> bool:
    if item.word not in messages.words("words_cancel"):
        return False
    if not engine.cancel(ctx):
        show_menu(ctx)
    return True


def menu(ctx: Context, item: Input) -> bool:
    if item.word not in messages.words("words_menu"):
        return False
    if not engine.to_menu(ctx):
        show_menu(ctx)
    return True


def talk_to_a_person(ctx: Context, item: Input) -> bool:
    if item.word not in messages.words("words_person"):
        return False
    engine.start(ctx, "handover", resume_offer=False)
    return True


def ticket_number(ctx: Context, item: Input) -> bool:
    ticket = tracking.find_ticket(item.text)
    if not ticket:
        return False
    tracking.show_timeline(ctx, ticket)
    return True


SERVICE_WORDS = (("words_complaint", "complaint"), ("words_opinion", "opinion"), ("words_volunteer", "volunteer"),
                 ("words_track", "track"), ("words_news", "news"))


def service_by_name(ctx: Context, item: Input) -> bool:
    for key, service in SERVICE_WORDS:
        if item.word in messages.words(key):
            start_service(ctx, service)
            return True
    return subscription.handle_command(ctx, item.text)  # รับข่าว … and the news settings words


def waiting_case(ctx: Context, item: Input) -> bool:
    """A case in ``waiting_citizen`` takes the citizen's next messages as the information staff asked for."""
    if ctx.citizen is None or (not item.text and item.content_id is None) or engine.active_flow(ctx):
        return False
    from bot.casework.lifecycle import attach_citizen_message

    case = attach_citizen_message(ctx.session, ctx.citizen.id, text=item.text or None, content_id=item.content_id,
                                  source_event_id=ctx.row.id)
    if case is None:
        return False
    ctx.reply(messages.text_message(ctx.text("case_info_attached", ticket=case.ticket)))
    return True


def new_complaint_story(ctx: Context, item: Input) -> bool:
    if engine.active_flow(ctx) == "complaint" or understanding.intent_of(item.text) != "complaint":
        return False
    ctx.reply(messages.text_message(ctx.text("complaint_typed_ack")))
    engine.start(ctx, "complaint", draft={"description": item.text.strip()[:complaint.MAX_DESCRIPTION]})
    return True


INTENTS: tuple[Intent, ...] = (
    #      name                    when       kinds                   take
    Intent("danger to life", BEFORE, frozenset({TEXT}), danger_to_life),
    Intent("delete my data", BEFORE, frozenset({TEXT}), delete_my_data),
    Intent("stop the news", BEFORE, frozenset({TEXT}), stop_the_news),
    Intent("cancel", BEFORE, frozenset({TEXT}), cancel),
    Intent("menu", BEFORE, frozenset({TEXT}), menu),
    Intent("talk to a person", BEFORE, frozenset({TEXT}), talk_to_a_person),
    Intent("ticket number", BEFORE, frozenset({TEXT}), ticket_number),
    Intent("service by name", UNCLAIMED, frozenset({TEXT}), service_by_name),
    Intent("waiting case", UNCLAIMED, frozenset({TEXT, IMAGE, VIDEO}), waiting_case),
    Intent("new complaint story", UNCLAIMED, frozenset({TEXT}), new_complaint_story),
)


def dispatch(ctx: Context, item: Input) -> bool:
    """Run the table for one message; False when nothing took it (the caller answers outside a flow)."""
    for intent in INTENTS:
        if intent.when == BEFORE and item.kind in intent.kinds and intent.take(ctx, item):
            return True
    if engine.handle(ctx, item, claim_only=True):
        return True
    for intent in INTENTS:
        if intent.when == UNCLAIMED and item.kind in intent.kinds and intent.take(ctx, item):
            return True
    return engine.handle(ctx, item)  # the open step says what it needs; False outside a flow


# --- services --------------------------------------------------------------------------------------------------

SERVICES = {"complaint": "complaint", "opinion": "opinion", "volunteer": "volunteer", "person": "handover"}


def start_service(ctx: Context, service: str) -> None:
    service = SERVICES.get(service, service)
    if service in engine.FLOWS:
        engine.start(ctx, service)
    elif service == "track":
        tracking.show_my_cases(ctx)
    elif service == "news":
        subscription.start(ctx)
    else:
        show_menu(ctx)


def show_menu(ctx: Context, key: str = "menu_prompt") -> None:
    ctx.reply(messages.text_message(ctx.text(key), quick_reply=messages.main_menu(ctx.lang)))
