"""News subscriptions (รับข่าวสาร): see and change topics and provinces; typed commands work too.

    overview ─ topics ─▶ topics (tap to toggle, each change confirmed) ─ done ─▶ overview
             ─ provinces ─▶ provinces (type a province to toggle)     ─ done ─▶ overview
             ─ stop all / done ─▶ (end)

Typed anywhere outside a flow: ``รับข่าว`` (settings), ``รับข่าว เกษตร``, ``รับข่าว เชียงใหม่``,
``รับข่าว ทั้งหมด``, ``เลิกรับข่าว`` (everything), ``เลิกรับข่าว สุขภาพ``.
"""

from __future__ import annotations

from urllib.parse import urlencode

from bot import messages, places
from bot.announcements import subscriptions as prefs_of
from bot.announcements.topics import ALL, ALL_WORDS, TOPICS, topic_of
from bot.context import Context
from bot.flows import engine
from bot.flows.engine import DONE, POSTBACK, TEXT, Flow, Input, Reprompt, Turn, register, step

SUBSCRIBE, UNSUBSCRIBE = "รับข่าว", "เลิกรับข่าว"  # command prefixes: "รับข่าว เกษตร", "เลิกรับข่าว สุขภาพ"


def start(ctx: Context) -> None:
    engine.start(ctx, "subscription", resume_offer=False)


# --- typed commands ----------------------------------------------------------------------------------------

def stop_command(ctx: Context, text: str) -> bool:
    """``เลิกรับข่าว`` [topic | province], whatever flow is open: the footer of every announcement promises
    that typing it stops the news, so it is a global intent, applied at once."""
    words = " ".join(text.split())
    if not words.startswith(UNSUBSCRIBE) or words[len(UNSUBSCRIBE):len(UNSUBSCRIBE) + 3] == "สาร":
        return False
    if ctx.citizen is None:
        return False
    ctx.reply(*change(ctx, words[len(UNSUBSCRIBE):].strip(), adding=False))
    return True


def handle_command(ctx: Context, text: str) -> bool:
    """``รับข่าว …`` / ``เลิกรับข่าว …`` outside a flow; False when the text is not such a command."""
    words = " ".join(text.split())
    if words.lower() in messages.words("words_news_settings"):
        start(ctx)
        return True
    if words == ctx.text("sub_btn_no_thanks"):
        ctx.reply(messages.text_message(ctx.text("sub_no_thanks"), quick_reply=messages.main_menu(ctx.lang)))
        return True
    for prefix, adding in ((UNSUBSCRIBE, False), (SUBSCRIBE, True)):
        if words.startswith(prefix) and words[len(prefix):len(prefix) + 3] != "สาร":
            if ctx.citizen is None:
                return False
            ctx.reply(*change(ctx, words[len(prefix):].strip(), adding))
            return True
    return False


def change(ctx: Context, word: str, adding: bool) -> list[dict]:
    """Apply one change and return the confirmation (with the main menu)."""
    session, citizen_id = ctx.session, ctx.citizen.id
    prefs = prefs_of.load(session, citizen_id)
    if not word and not adding:
        prefs.topics.clear()
        key, values = "sub_stopped", {}
    elif not word:
        engine.start(ctx, "subscription", resume_offer=False)
        return []
    else:
        target = _target(word)
        if target is None:
            return [messages.text_message(ctx.text("sub_unknown_word", word=word[:50]),
                                          quick_reply=messages.main_menu(ctx.lang))]
        kind, value = target
        action = {("topic", True): prefs_of.add_topic, ("topic", False): prefs_of.remove_topic,
                  ("province", True): prefs_of.add_province, ("province", False): prefs_of.remove_province}
        key = action[(kind, adding)](prefs, value)
        values = ({"topic": ctx.text(f"topic_{value}")} if kind == "topic"
                  else {"province": ctx.text("province_all") if value == ALL else value})
        if not prefs.topics:
            key = "sub_stopped"
    prefs_of.save(session, citizen_id, prefs)
    return [messages.text_message(ctx.text(key, **values), quick_reply=messages.main_menu(ctx.lang))]


def _target(word: str) -> tuple[str, str] | None:
    if word.lower() in ALL_WORDS:
        return ("province", ALL) if "จังหวัด" in word else ("topic", ALL)
    topic = topic_of(word)
    if topic:
        return "topic", topic
    province = places.province_names().get(word) or places.province_names().get(word.lower())
    return ("province", province) if province else None


# --- the flow ------------------------------------------------------------------------------------------------

def _describe(turn: Turn) -> tuple[str, str]:
    prefs = prefs_of.load(turn.ctx.session, turn.ctx.citizen.id)
    topics = ", ".join(turn.text(f"topic_{t}") for t in sorted(prefs.topics)) or turn.text("sub_none")
    provinces = ", ".join(turn.text("province_all") if p == ALL else p for p in sorted(prefs.provinces))
    return topics, provinces or turn.text("sub_none")


def begin(turn: Turn) -> str:
    if turn.ctx.citizen is None:
        return DONE
    return "overview" if prefs_of.load(turn.ctx.session, turn.ctx.citizen.id).active else "topics"


def ask_overview(turn: Turn) -> list[dict]:
    topics, provinces = _describe(turn)
    quick = [turn.button("sub_btn_topics", "topics"), turn.button("sub_btn_provinces", "provinces"),
             turn.button("sub_btn_stop", "stop"), turn.button("sub_btn_done", "done")]
    return [turn.say("sub_overview", topics=topics, provinces=provinces, quick=quick)]


def on_overview(turn: Turn, item: Input) -> str | Reprompt:
    value = item.value or _typed(turn, item)
    if value == "stop":
        turn.reply(*change(turn.ctx, "", adding=False))
        return DONE
    if value == "done":
        turn.reply(messages.text_message(turn.text("menu_prompt"), quick_reply=messages.main_menu(turn.lang)))
        return DONE
    if value in ("topics", "provinces"):
        return value
    return Reprompt("sub_overview_choose")


def ask_topics(turn: Turn) -> list[dict]:
    prefs = prefs_of.load(turn.ctx.session, turn.ctx.citizen.id)
    lead = [] if prefs.active else [turn.say("sub_overview_none")]
    quick = [turn.button("topic_all", ALL)]
    for code in TOPICS:
        on = code in prefs.topics or ALL in prefs.topics
        quick.append(_toggle(turn, ("✓ " if on else "") + turn.text(f"topic_{code}"), code))
    return [*lead, turn.say("sub_topics_ask", quick=[*quick, turn.button("sub_btn_done", "done")])]


def on_topics(turn: Turn, item: Input) -> str | Reprompt:
    value = item.value or _typed(turn, item) or topic_of(item.text)
    if value == "done":
        return "overview"
    if value != ALL and value not in TOPICS:
        return Reprompt("sub_topics_help")
    prefs = prefs_of.load(turn.ctx.session, turn.ctx.citizen.id)
    on = value in prefs.topics or (ALL in prefs.topics and value != ALL)
    turn.reply(_confirm(turn, value, on))
    return "topics"


def _confirm(turn: Turn, value: str, was_on: bool) -> dict:
    """Apply a topic toggle and say so in one short line."""
    session, citizen_id = turn.ctx.session, turn.ctx.citizen.id
    prefs = prefs_of.load(session, citizen_id)
    key = (prefs_of.remove_topic if was_on else prefs_of.add_topic)(prefs, value)
    if not prefs.topics:
        key = "sub_stopped"
    prefs_of.save(session, citizen_id, prefs)
    return turn.say(key, topic=turn.text(f"topic_{value}"))


def ask_provinces(turn: Turn) -> list[dict]:
    return [turn.say("sub_provinces_ask", quick=[turn.button("province_all", ALL),
                                                 turn.button("sub_btn_done", "done")])]


def on_provinces(turn: Turn, item: Input) -> str | Reprompt:
    value = item.value or _typed(turn, item)
    if value == "done":
        return "overview"
    session, citizen_id = turn.ctx.session, turn.ctx.citizen.id
    prefs = prefs_of.load(session, citizen_id)
    if value == ALL:
        key, province = prefs_of.add_province(prefs, ALL), ALL
    else:
        names = places.province_names()
        province = names.get(item.word) or names.get(" ".join(item.text.split()))
        if province is None:
            return Reprompt("sub_province_unknown", word=item.text.strip()[:50])
        adding = province not in prefs.provinces
        key = (prefs_of.add_province if adding else prefs_of.remove_province)(prefs, province)
    prefs_of.save(session, citizen_id, prefs)
    turn.reply(turn.say(key, province=province))
    return "provinces"


def _typed(turn: Turn, item: Input) -> str | None:
    """The button labels typed as words (a citizen may type what a button says)."""
    words = {turn.text("sub_btn_topics"): "topics", turn.text("sub_btn_provinces"): "provinces",
             turn.text("sub_btn_stop"): "stop", turn.text("sub_btn_done"): "done",
             turn.text("topic_all"): ALL, turn.text("province_all"): ALL}
    return words.get(" ".join(item.text.split())) if item.kind == TEXT else None


def _toggle(turn: Turn, label: str, value: str) -> dict:
    data = urlencode({"f": turn.flow.name, "s": turn.step, "v": value})
    return messages.postback_action(label, data, label)


def welcome_back(ctx: Context) -> None:
    """Following again after unfollowing: subscriptions were stopped, so ask again."""
    if ctx.citizen is None or not prefs_of.had_subscriptions(ctx.session, ctx.citizen.id):
        return
    ctx.reply(messages.text_message(ctx.text("sub_welcome_back"), quick_reply=[
        messages.postback_action(ctx.text("sub_btn_again"), "menu=news", ctx.text("sub_btn_again")),
        messages.message_action(ctx.text("sub_btn_no_thanks"), ctx.text("sub_btn_no_thanks"))]))


SUBSCRIPTION = register(Flow("subscription", "flow_title_subscription", (
    #    step        asks           accepts: input kind → handler                        may go to
    step("overview", ask_overview, on={TEXT: on_overview, POSTBACK: on_overview}, goes=("topics", "provinces", DONE)),
    step("topics", ask_topics, on={TEXT: on_topics, POSTBACK: on_topics}, goes=("overview",)),
    step("provinces", ask_provinces, on={TEXT: on_provinces, POSTBACK: on_provinces}, goes=("overview",)),
), begin=begin, starts=("overview", "topics", DONE)))
