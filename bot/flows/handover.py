"""Talk to a person (คุยกับเจ้าหน้าที่): a hand-over request staff see in the console.

    message (optional) ─▶ recorded
"""

from __future__ import annotations

from sqlalchemy import select

from bot import messages
from bot.flows.engine import DONE, POSTBACK, TEXT, Flow, Input, Turn, register, step
from storage import flows as store
from storage.models import HandoverRequest


def begin(turn: Turn) -> str:
    citizen = turn.ctx.citizen
    if citizen is not None and turn.ctx.session.scalar(select(HandoverRequest.id).where(
            HandoverRequest.citizen_id == citizen.id, HandoverRequest.status == "open").limit(1)):
        turn.reply(messages.text_message(turn.text("handover_already_open"),
                                         quick_reply=messages.main_menu(turn.lang)))
        return DONE
    return "message"


def ask_message(turn: Turn) -> list[dict]:
    return [turn.say("handover_ask", quick=[turn.button("handover_btn_skip", "skip"), *turn.nav()])]


def on_message(turn: Turn, item: Input) -> str:
    message = None if item.value == "skip" or item.word in messages.words("words_skip") else item.text.strip()[:2000] or None
    citizen = turn.ctx.citizen
    store.request_handover(turn.ctx.session, citizen.id if citizen else None, turn.ctx.user_id, "asked", message)
    turn.reply(messages.text_message(turn.text("handover_recorded"), quick_reply=messages.main_menu(turn.lang)))
    return DONE


HANDOVER = register(Flow("handover", "flow_title_handover", (
    #    step       asks         accepts: input kind → handler                     may go to
    step("message", ask_message, on={TEXT: on_message, POSTBACK: on_message}, goes=(DONE,)),
), begin=begin, starts=("message", DONE)))
