"""Personal data (PDPA): the one consent step complaint and volunteer share, and "ลบข้อมูลของฉัน".

    erase:   confirm ─ yes ─▶ personal data deleted or anonymised, drafts dropped
                     └ no ──▶ nothing changes
    consent: (a step inside complaint and volunteer) ─ yes ─▶ the flow goes on ─ no ─▶ nothing kept
"""

from __future__ import annotations

from collections.abc import Callable

from bot import messages
from bot.context import Context
from bot.flows.engine import DONE, POSTBACK, TEXT, Flow, Input, Reprompt, Step, Turn, register, step
from storage import flows as store

CONSENT_VERSION = "2026-11"


def consent_given(ctx: Context, purpose: str) -> bool:
    return ctx.citizen is not None and store.has_consent(ctx.session, ctx.citizen.id, purpose, CONSENT_VERSION)


def record_consent(ctx: Context, purpose: str, given: bool) -> None:
    if ctx.citizen is not None:
        store.record_consent(ctx.session, ctx.citizen.id, purpose, CONSENT_VERSION, given)


def consent_answer(item: Input) -> str | None:
    """"yes", "no" or None: the step's buttons, or the words a citizen types for them (catalogue)."""
    if item.value in ("yes", "no"):
        return item.value
    if item.kind != TEXT:
        return None
    if item.word in messages.words("words_no"):
        return "no"
    return "yes" if item.word in messages.words("words_yes") else None


def consent_step(purpose: str, notice_key: str, declined_key: str, then: Callable[[Turn], str],
                 goes: tuple[str, ...], otherwise: Callable[[Turn, Input], None] | None = None) -> Step:
    """The consent row of a flow's table: asks ``notice_key``; yes records consent for ``purpose`` and goes
    where ``then`` says (one of ``goes``); no records the refusal, says ``declined_key`` and ends the flow.
    ``otherwise`` sees any other text first (the complaint keeps a story typed instead of an answer)."""

    def ask(turn: Turn) -> list[dict]:
        return [turn.say(notice_key, version=CONSENT_VERSION,
                         quick=[turn.button("privacy_btn_agree", "yes"), turn.button("privacy_btn_decline", "no"),
                                *turn.nav()])]

    def on_answer(turn: Turn, item: Input) -> str | Reprompt:
        answer = consent_answer(item)
        if answer is None:
            if otherwise is not None and item.kind == TEXT:
                otherwise(turn, item)
            return Reprompt("complaint_consent_choose")
        record_consent(turn.ctx, purpose, answer == "yes")
        if answer == "no":
            turn.reply(messages.text_message(turn.text(declined_key), quick_reply=messages.main_menu(turn.lang)))
            return DONE
        return then(turn)

    return step("consent", ask, on={TEXT: on_answer, POSTBACK: on_answer}, goes=(*goes, DONE))


# --- erase ---------------------------------------------------------------------------------------------------

def ask_confirm(turn: Turn) -> list[dict]:
    return [turn.say("privacy_erase_ask", quick=[turn.button("privacy_btn_erase", "yes"),
                                                  turn.button("privacy_btn_keep", "no"), *turn.nav()])]


def on_confirm(turn: Turn, item: Input) -> str | Reprompt:
    answer = item.value
    if answer is None and item.word in messages.words("words_erase_yes"):
        answer = "yes"
    elif answer is None and item.word in messages.words("words_erase_no"):
        answer = "no"
    if answer == "no":
        turn.reply(messages.text_message(turn.text("privacy_erase_kept"), quick_reply=messages.main_menu(turn.lang)))
        return DONE
    if answer != "yes":
        return Reprompt("privacy_erase_choose")
    if turn.ctx.citizen is not None:
        counts = store.erase_citizen(turn.ctx.session, turn.ctx.citizen, _mask())
        turn.reply(turn.say("privacy_erased", cases=counts["cases"]))
    turn.state.forget_all = True
    return DONE


def _mask():
    from bot.nlp.pii import mask_pii

    return mask_pii


ERASE = register(Flow("erase", "flow_title_erase", (
    # step       asks          accepts → handler                          goes
    step("confirm", ask_confirm, on={TEXT: on_confirm, POSTBACK: on_confirm}, goes=(DONE,)),
)))
