"""Opinions (เสนอความคิดเห็น) on the topics staff open, kept for their analysis.

    topic ─▶ write ─▶ rate (optional) ─▶ thanked
"""

from __future__ import annotations

from bot import messages
from dataclasses import dataclass

from bot.flows.engine import DONE, POSTBACK, TEXT, Flow, Input, Reprompt, Turn, register, step
from storage import flows as store
from storage.models import OpinionTopic

MIN_LENGTH, MAX_LENGTH = 5, 3000


@dataclass
class OpinionDraft:
    topic_id: int | None = None
    topic: str = ""
    text: str = ""


def begin(turn: Turn) -> str:
    if not store.open_topics(turn.ctx.session):
        turn.reply(messages.text_message(turn.text("opinion_no_topics"), quick_reply=messages.main_menu(turn.lang)))
        return DONE
    return "topic"


def _title(topic: OpinionTopic, lang: str) -> str:
    return (topic.title_en if lang == "en" and topic.title_en else topic.title_th)


def ask_topic(turn: Turn) -> list[dict]:
    topics = store.open_topics(turn.ctx.session)
    listing = "\n".join(f"{n}. {_title(t, turn.lang)}" for n, t in enumerate(topics, 1))
    quick = [turn.button("opinion_topic_choice", f"t:{t.id}", number=n, title=_title(t, turn.lang))
             for n, t in enumerate(topics, 1)]
    return [turn.say("opinion_topic_ask", listing=listing, quick=[*quick, *turn.nav()])]


def on_topic(turn: Turn, item: Input) -> str | Reprompt:
    topics = {t.id: t for t in store.open_topics(turn.ctx.session)}
    value = item.value or ""
    chosen = int(value[2:]) if value.startswith("t:") and value[2:].isdigit() else None
    if chosen is None and item.word.isdigit() and 0 < int(item.word) <= len(topics):
        chosen = list(topics)[int(item.word) - 1]
    if chosen not in topics:
        return Reprompt("opinion_topic_choose")
    turn.draft.topic_id, turn.draft.topic = chosen, _title(topics[chosen], turn.lang)
    return "write"


def ask_write(turn: Turn) -> list[dict]:
    return [turn.say("opinion_write_ask", topic=turn.draft.topic, quick=turn.nav())]


def on_write(turn: Turn, item: Input) -> str | Reprompt:
    text = item.text.strip()
    if len(text) < MIN_LENGTH:
        return Reprompt("opinion_too_short")
    turn.draft.text = text[:MAX_LENGTH]
    return "rate"


def ask_rate(turn: Turn) -> list[dict]:
    stars = [turn.button("opinion_rate_choice", str(n), stars="★" * n) for n in range(1, 6)]
    return [turn.say("opinion_rate_ask", quick=[*stars, turn.button("opinion_btn_skip_rating", "skip"),
                                                 *turn.nav()])]


def on_rate(turn: Turn, item: Input) -> str | Reprompt:
    value = item.value or item.word
    if value == "skip" or value in messages.words("words_skip"):
        rating = None
    elif value in ("1", "2", "3", "4", "5"):
        rating = int(value)
    else:
        return Reprompt("opinion_rate_choose")
    citizen = turn.ctx.citizen
    store.add_opinion(turn.ctx.session, turn.draft.topic_id, citizen.id if citizen else None,
                      turn.draft.text, rating)
    turn.reply(messages.text_message(turn.text("opinion_thanks", topic=turn.draft.topic),
                                     quick_reply=messages.main_menu(turn.lang)))
    return DONE


OPINION = register(Flow("opinion", "flow_title_opinion", (
    #    step     asks       accepts: input kind → handler             may go to
    step("topic", ask_topic, on={TEXT: on_topic, POSTBACK: on_topic}, goes=("write",)),
    step("write", ask_write, on={TEXT: on_write}, goes=("rate",)),
    step("rate", ask_rate, on={TEXT: on_rate, POSTBACK: on_rate}, goes=(DONE,)),
), begin=begin, starts=("topic", DONE), draft=OpinionDraft))
