"""Personal data (PDPA): the consent a first complaint asks for, and "ลบข้อมูลของฉัน" (delete my data).

    erase: confirm ─ yes ─▶ personal data deleted or anonymised, drafts dropped
                   └ no ──▶ nothing changes
"""

from __future__ import annotations

from bot import messages
from bot.context import Context
from bot.flows.engine import DONE, POSTBACK, TEXT, Flow, Input, Reprompt, Step, Turn, register
from storage import flows as store

CONSENT_VERSION = "2026-11"
ERASE_WORDS = frozenset({"ลบข้อมูลของฉัน", "ลบข้อมูล", "delete my data"})


def consent_given(ctx: Context, purpose: str) -> bool:
    return ctx.citizen is not None and store.has_consent(ctx.session, ctx.citizen.id, purpose, CONSENT_VERSION)


def record_consent(ctx: Context, purpose: str, given: bool) -> None:
    if ctx.citizen is not None:
        store.record_consent(ctx.session, ctx.citizen.id, purpose, CONSENT_VERSION, given)


def ask_confirm(turn: Turn) -> list[dict]:
    return [turn.say("privacy_erase_ask", quick=[turn.button("privacy_btn_erase", "yes"),
                                                  turn.button("privacy_btn_keep", "no"), *turn.nav()])]


def on_confirm(turn: Turn, item: Input) -> str | Reprompt:
    answer = item.value or {"ยืนยันลบข้อมูล": "yes", "ยืนยัน": "yes", "ไม่ลบ": "no"}.get(item.word)
    if answer == "no":
        turn.reply(messages.text_message(turn.text("privacy_erase_kept"), quick_reply=messages.main_menu(turn.lang)))
        return DONE
    if answer != "yes":
        return Reprompt("privacy_erase_choose")
    if turn.ctx.citizen is not None:
        counts = store.erase_citizen(turn.ctx.session, turn.ctx.citizen, _mask())
        turn.reply(turn.say("privacy_erased", cases=counts["cases"]))
    turn.state["forget_all"] = True
    return DONE


def _mask():
    try:
        from bot.nlp.pii import mask_pii
    except ImportError:
        return None
    return mask_pii


ERASE = register(Flow("erase", "flow_title_erase", (
    Step("confirm", frozenset({TEXT, POSTBACK}), ask_confirm, on_confirm),
)))
